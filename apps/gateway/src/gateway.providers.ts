import { DEFAULT_ROLE_MAPPING, identityPrivateKeyFromPem, parseRoleMapping } from '@stratum/authz';
import type { ServiceName } from '@stratum/contracts';
import { ConfigError, ServiceRuntime } from '@stratum/service-kit';
import type { KeyObject } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { KafkaBus } from '@stratum/messaging';
import { AuditProcess } from './audit/audit-process';
import { type AuditSink, AuditWriter } from './audit/audit-writer';
import type { GatewayConfig } from './config/gateway.config';
import { DevIdentityProvider } from './dev-identity/dev-identity-provider';
import { Authenticator } from './keystone/authenticator';
import type { IdentityProvider } from './keystone/identity-provider';
import { KeystoneClient } from './keystone/keystone-client';
import { ApiGateway } from './proxy/api-gateway';
import { Upstream } from './proxy/forwarder';
import { GatewayMetrics } from './proxy/gateway-metrics';
import { RateLimiter } from './proxy/rate-limiter';
import { RouteMatcher, ROUTES } from './routing/route-table';

/** The services behind the gateway and the variable naming each one's base URL. */
export const UPSTREAM_VARIABLES = {
  'resource-manager': 'UPSTREAM_RESOURCE_MANAGER',
  orchestrator: 'UPSTREAM_ORCHESTRATOR',
  autoscaler: 'UPSTREAM_AUTOSCALER',
  monitor: 'UPSTREAM_MONITOR',
  'image-sync': 'UPSTREAM_IMAGE_SYNC',
} as const satisfies Partial<Record<ServiceName, keyof GatewayConfig>>;

export function gatewayConfig(runtime: ServiceRuntime): GatewayConfig {
  return runtime.config.own as unknown as GatewayConfig;
}

/** Keystone, or the development provider when explicitly enabled (never by default). */
export function createIdentityProvider(runtime: ServiceRuntime): IdentityProvider {
  const config = gatewayConfig(runtime);
  if (config.STRATUM_DEV_IDENTITY === 'enabled') {
    runtime.log.warn(
      'DEVELOPMENT IDENTITY PROVIDER ENABLED: demo users with a shared password can act as platform admin. ' +
        'Never use this outside a laptop or a demo; set STRATUM_DEV_IDENTITY=disabled and KEYSTONE_URL for real use.',
    );
    return new DevIdentityProvider(process.env.STRATUM_DEV_IDENTITY_PASSWORD || 'stratum-demo');
  }
  const problems: { variable: string; problem: string }[] = [];
  if (!config.KEYSTONE_URL)
    problems.push({ variable: 'KEYSTONE_URL', problem: 'is required (Keystone v3 endpoint)' });
  if (!config.KEYSTONE_SERVICE_PASSWORD) {
    problems.push({
      variable: 'KEYSTONE_SERVICE_PASSWORD',
      problem: "is required (the gateway's Keystone user)",
    });
  }
  if (problems.length) throw new ConfigError('gateway', problems);
  return new KeystoneClient({
    url: config.KEYSTONE_URL!,
    service: {
      username: config.KEYSTONE_SERVICE_USERNAME,
      password: config.KEYSTONE_SERVICE_PASSWORD!,
      project: config.KEYSTONE_SERVICE_PROJECT,
      domain: config.KEYSTONE_SERVICE_DOMAIN,
    },
    userDomain: config.KEYSTONE_USER_DOMAIN,
    timeoutMs: config.KEYSTONE_TIMEOUT_MS,
    loginTimeoutMs: config.KEYSTONE_LOGIN_TIMEOUT_MS,
    log: runtime.log.child({ component: 'keystone' }),
  });
}

export function createAuthenticator(runtime: ServiceRuntime, provider: IdentityProvider): Authenticator {
  const config = gatewayConfig(runtime);
  let mapping = DEFAULT_ROLE_MAPPING;
  try {
    if (config.STRATUM_ROLE_MAPPING) mapping = parseRoleMapping(config.STRATUM_ROLE_MAPPING);
  } catch (error) {
    throw new ConfigError('gateway', [
      { variable: 'STRATUM_ROLE_MAPPING', problem: (error as Error).message },
    ]);
  }
  return new Authenticator(
    provider,
    mapping,
    config.TOKEN_CACHE_TTL_SECONDS * 1000,
    config.TOKEN_CACHE_MAX_ENTRIES,
  );
}

/** The key the identity passed to the services is signed with: shared in-process, else the PEM file. */
export function signingKeyOf(runtime: ServiceRuntime): KeyObject {
  if (runtime.identitySigningKey) return runtime.identitySigningKey;
  const variable = 'STRATUM_IDENTITY_PRIVATE_KEY';
  const path = gatewayConfig(runtime).STRATUM_IDENTITY_PRIVATE_KEY;
  if (!path) {
    throw new ConfigError('gateway', [
      {
        variable,
        problem: 'is required: the PEM file of the Ed25519 key that signs identities (docs/identity.md)',
      },
    ]);
  }
  try {
    return identityPrivateKeyFromPem(readFileSync(path, 'utf8'));
  } catch (error) {
    throw new ConfigError('gateway', [{ variable, problem: `${path}: ${(error as Error).message}` }]);
  }
}

export function createUpstreams(runtime: ServiceRuntime): Map<ServiceName, Upstream> {
  const config = gatewayConfig(runtime);
  const upstreams = new Map<ServiceName, Upstream>();
  for (const [service, variable] of Object.entries(UPSTREAM_VARIABLES) as [
    ServiceName,
    keyof GatewayConfig,
  ][]) {
    const url = config[variable] as string | undefined;
    if (url) upstreams.set(service, new Upstream(service, url, config.UPSTREAM_TIMEOUT_MS));
  }
  return upstreams;
}

/**
 * Where audit entries go: a child process that commits and publishes them when the service kit
 * delegated the outbox relay (PostgreSQL and Kafka: the distributed mode), else the in-process writer
 * (the all-in-one mode's embedded database and in-process bus cannot be shared with another process).
 */
export async function createAuditSink(runtime: ServiceRuntime): Promise<AuditSink> {
  const { database, config } = runtime;
  if (!database) throw new Error('the gateway needs its database for the audit outbox');
  const flushMs = gatewayConfig(runtime).AUDIT_FLUSH_MS;
  const log = runtime.log.child({ component: 'audit' });
  if (!runtime.relayDelegated) return new AuditWriter(database, runtime.outbox, log, flushMs);
  // The kit delegates the relay only with PostgreSQL and Kafka.
  if (database.target.kind !== 'postgres' || !(runtime.bus instanceof KafkaBus)) {
    throw new Error('the audit process needs the gateway database on PostgreSQL and the bus on Kafka');
  }
  return AuditProcess.start({
    settings: {
      database: {
        url: database.target.url,
        poolSize: 2,
        statementTimeoutMs: database.target.statementTimeoutMs,
      },
      kafka: { brokers: [...runtime.bus.options.brokers], clientId: 'gateway-audit' },
      logLevel: config.logLevel,
    },
    flushMs,
    log,
    metrics: runtime.busMetrics,
    stopTimeoutMs: Math.max(5_000, config.shutdownTimeoutMs / 2),
  });
}

export function createRateLimiter(runtime: ServiceRuntime): RateLimiter {
  const config = gatewayConfig(runtime);
  return new RateLimiter(config.RATE_LIMIT_PER_TENANT, config.RATE_LIMIT_BURST);
}

export function createApiGateway(
  runtime: ServiceRuntime,
  deps: {
    authenticator: Authenticator;
    upstreams: Map<ServiceName, Upstream>;
    limiter: RateLimiter;
    audit: AuditSink;
    ownRoutes?: ConstructorParameters<typeof ApiGateway>[0]['ownRoutes'];
  },
): ApiGateway {
  return new ApiGateway({
    matcher: new RouteMatcher(ROUTES),
    signingKey: signingKeyOf(runtime),
    log: runtime.log.child({ component: 'proxy' }),
    metrics: new GatewayMetrics(runtime.registry, [...deps.upstreams.values()]),
    developmentIdentity: gatewayConfig(runtime).STRATUM_DEV_IDENTITY === 'enabled',
    ...deps,
  });
}
