import { hostname } from 'node:os';
import { z } from 'zod';

/**
 * Settings of the deployment engine (issue #5 §5). Meant to be merged into the orchestrator's config
 * schema (`orchestratorConfigSchema.extend(deployConfigSchema.shape)`); DeployModule parses them again
 * so the defaults hold until then.
 */
export const deployConfigSchema = z.object({
  /** A unit whose workloads are not all Ready in this time fails its deployment (then it is rolled back). */
  DEPLOY_UNIT_READY_TIMEOUT_SECONDS: z.coerce.number().int().min(1).max(3_600).default(300),
  /** How long a removed unit's pods may take to go; afterwards the deployment goes on and says so. */
  DEPLOY_UNIT_GONE_TIMEOUT_SECONDS: z.coerce.number().int().min(1).max(3_600).default(120),
  /** How often the worker looks for deployments when nobody wakes it. */
  DEPLOY_POLL_MS: z.coerce.number().int().min(50).max(60_000).default(1_000),
  /** Stacks deployed at once by this replica. */
  DEPLOY_CONCURRENCY: z.coerce.number().int().min(1).max(64).default(4),
  /** This replica's name on stack leases; must differ between replicas (default: the host name). */
  DEPLOY_WORKER_ID: z.string().min(1).default(hostname()),
  DEPLOY_LEASE_SECONDS: z.coerce.number().int().min(5).max(3_600).default(60),
  /**
   * Test hook, never for production: the process kills itself (SIGKILL) right after the first
   * deployment step whose name ends with this (e.g. `wave-0/applied`). The crash-resume test uses it.
   */
  STRATUM_FAULT_KILL_AFTER_STEP: z.string().min(1).optional(),
});

export type DeployConfig = z.infer<typeof deployConfigSchema>;
