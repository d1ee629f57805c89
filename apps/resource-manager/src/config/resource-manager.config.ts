import { hostname } from 'node:os';
import { z } from 'zod';

/**
 * The resource-manager's own settings, besides the common ones (HTTP_PORT, KAFKA_BROKERS, DATABASE_URL,
 * KUBECONFIG, STRATUM_IDENTITY_PUBLIC_KEYS, …) that @stratum/service-kit validates for every service.
 */
export const resourceManagerConfigSchema = z.object({
  /** Registry every environment pulls from; its credentials become each environment's pull secret. */
  REGISTRY_PULL_SERVER: z.string().min(1).default('registry.stratum.local'),
  REGISTRY_PULL_USERNAME: z.string().min(1).default('stratum-pull'),
  REGISTRY_PULL_PASSWORD: z.string().default(''),
  /** How often the reconciler looks for work when no request woke it. */
  RECONCILE_POLL_MS: z.coerce.number().int().min(50).max(60_000).default(1_000),
  /** Every tenant is re-applied at least this often; drift made by hand is repaired then. */
  RECONCILE_RESYNC_SECONDS: z.coerce.number().int().min(5).max(86_400).default(300),
  RECONCILE_CONCURRENCY: z.coerce.number().int().min(1).max(64).default(4),
  /** This replica's name on reconcile leases; must differ between replicas (default: the host name). */
  RECONCILE_WORKER_ID: z.string().min(1).default(hostname()),
  RECONCILE_LEASE_SECONDS: z.coerce.number().int().min(5).max(3_600).default(60),
  /** A namespace or claim not ready in this time fails the operation (the reconciler keeps retrying). */
  READY_TIMEOUT_SECONDS: z.coerce.number().int().min(1).max(3_600).default(120),
  /**
   * Test hook, never for production: the process kills itself (SIGKILL) right after the first
   * reconcile step whose name ends with this (e.g. `/environment`). The crash-resume test uses it.
   */
  STRATUM_FAULT_KILL_AFTER_STEP: z.string().min(1).optional(),
});

export type ResourceManagerConfig = z.infer<typeof resourceManagerConfigSchema>;
