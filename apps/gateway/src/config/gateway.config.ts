import { z } from 'zod';

const seconds = (min: number, max: number, fallback: number) =>
  z.coerce.number().int().min(min).max(max).default(fallback);

/**
 * The gateway's own settings, besides the common ones (HTTP_PORT, KAFKA_BROKERS, DATABASE_URL, …) that
 * @stratum/service-kit validates for every service. docs/gateway.md explains each one.
 */
export const gatewayConfigSchema = z.object({
  /** Keystone's v3 endpoint, e.g. `http://keystone:5000/v3` (R-AU-2). Required unless the development identity provider is on. */
  KEYSTONE_URL: z.url().optional(),
  /** The gateway's own Keystone user: validates callers' tokens and reads role assignments, never writes. */
  KEYSTONE_SERVICE_USERNAME: z.string().min(1).default('stratum-gateway'),
  KEYSTONE_SERVICE_PASSWORD: z.string().min(1).optional(),
  KEYSTONE_SERVICE_PROJECT: z.string().min(1).default('service'),
  KEYSTONE_SERVICE_DOMAIN: z.string().min(1).default('Default'),
  /** Domain of users and projects named in `POST /api/v1/auth/tokens` and registry logins. */
  KEYSTONE_USER_DOMAIN: z.string().min(1).default('Default'),
  /** Per token validation or assignment read; beyond it the request is refused (fail closed). */
  KEYSTONE_TIMEOUT_MS: z.coerce.number().int().min(100).max(60_000).default(3_000),
  /** Per password login: Keystone hashes the password (bcrypt), far slower than a validation. */
  KEYSTONE_LOGIN_TIMEOUT_MS: z.coerce.number().int().min(100).max(120_000).default(15_000),
  /**
   * How long a validated token is trusted without asking Keystone again. The bound on how long a revoked
   * token keeps working (docs/gateway.md); never beyond the token's own expiry.
   */
  TOKEN_CACHE_TTL_SECONDS: seconds(1, 300, 30),
  TOKEN_CACHE_MAX_ENTRIES: z.coerce.number().int().min(100).max(10_000_000).default(100_000),
  /** JSON in the shape of RoleMappingConfig (docs/identity.md); unset: the default mapping. */
  STRATUM_ROLE_MAPPING: z.string().min(2).optional(),
  /** PEM file (PKCS#8) of the Ed25519 key that signs the identity passed to the services. */
  STRATUM_IDENTITY_PRIVATE_KEY: z.string().min(1).optional(),
  /** Upstream base URLs, one per service behind the gateway; a route to an unset one answers 503. */
  UPSTREAM_RESOURCE_MANAGER: z.url().optional(),
  UPSTREAM_ORCHESTRATOR: z.url().optional(),
  UPSTREAM_AUTOSCALER: z.url().optional(),
  UPSTREAM_MONITOR: z.url().optional(),
  UPSTREAM_IMAGE_SYNC: z.url().optional(),
  UPSTREAM_TIMEOUT_MS: z.coerce.number().int().min(100).max(600_000).default(30_000),
  /** Requests per second per tenant (per user for unscoped tokens), and the burst above it; 0 turns it off. */
  RATE_LIMIT_PER_TENANT: z.coerce.number().min(0).max(1_000_000).default(500),
  RATE_LIMIT_BURST: z.coerce.number().int().min(1).max(1_000_000).default(1_000),
  /** Audit entries are committed to the outbox in groups, at most this long after the decision. */
  AUDIT_FLUSH_MS: z.coerce.number().int().min(1).max(1_000).default(100),
  /** Registry token service (R-AU-5): PEM private key and the certificate the registries trust. */
  REGISTRY_TOKEN_PRIVATE_KEY: z.string().min(1).optional(),
  REGISTRY_TOKEN_CERTIFICATE: z.string().min(1).optional(),
  REGISTRY_TOKEN_ISSUER: z.string().min(1).default('stratum-gateway'),
  REGISTRY_TOKEN_TTL_SECONDS: seconds(30, 3_600, 300),
  /** The `service` names the two registries are configured with (their auth.token.service). */
  REGISTRY_TEST_SERVICE: z.string().min(1).default('stratum-test-registry'),
  REGISTRY_PRODUCTION_SERVICE: z.string().min(1).default('stratum-production-registry'),
  /** How often tenants' Keystone role assignments are read and mirrored (R-AU-6); 0 turns it off. */
  MEMBER_SYNC_INTERVAL_SECONDS: seconds(0, 86_400, 60),
  /**
   * The built-in development identity provider (Keystone's token API shape, demo users). Only for the
   * all-in-one mode and demos: never on in the distributed mode unless set here, and loud when it is.
   */
  STRATUM_DEV_IDENTITY: z.enum(['enabled', 'disabled']).default('disabled'),
});

export type GatewayConfig = z.infer<typeof gatewayConfigSchema>;
