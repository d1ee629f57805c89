/**
 * Runs the tenant reconciler (issue #4 §6): picks tenants whose desired state moved on
 * (`generation > reconciled_generation`) or whose last resync is older than the resync period — and,
 * after a start, every tenant once, so a restart re-converges everything. A tenant is reconciled
 * under a lease in its row, so with several replicas one works on it at a time; a crashed holder's
 * lease runs out and another (or the restarted one) takes over and converges from the database.
 *
 * Failures are retried with exponential backoff; errors Kubernetes will keep giving (the object is
 * invalid, access denied) or a readiness timeout fail the open operations with the reason, while the
 * worker keeps retrying in the background in case the cause is fixed outside.
 */
import type { ErrorInfo } from '@stratum/contracts';
import { ForbiddenError, InvalidError } from '@stratum/kube';
import type { ServiceDatabase } from '@stratum/persistence';
import type { Log } from '@stratum/telemetry';
import { backoffDelay } from '@stratum/util';
import type { Operations } from '../operations/operations';
import type { ReconcileMetrics } from './reconcile-metrics';
import type { TenantReconciler } from './tenant-reconciler';
import { returning } from '../common/sql';

export interface ReconcileWorkerOptions {
  /**
   * This replica's name on the leases it holds. Stable across restarts (the pod or host name), so a
   * replica that crashed and came back takes its own leases over at once instead of waiting them out.
   */
  owner: string;
  /** How often the database is asked for work when nobody wakes the worker. */
  pollMs: number;
  /** Every tenant is reconciled at least this often: drift made by hand is repaired then. */
  resyncMs: number;
  leaseMs: number;
  /** Tenants reconciled at once. */
  concurrency: number;
}

export interface ReconcileWorkerStats {
  reconciles: number;
  failures: number;
  inFlight: number;
}

export class ReconcileWorker {
  readonly stats: ReconcileWorkerStats = { reconciles: 0, failures: 0, inFlight: 0 };
  private readonly startedAt = new Date();
  private readonly inFlight = new Map<string, Promise<void>>();
  private timer: NodeJS.Timeout | undefined;
  private wakeUp: (() => void) | undefined;
  private loop: Promise<void> | undefined;
  private stopped = false;
  readonly owner: string;

  constructor(
    private readonly database: ServiceDatabase,
    private readonly reconciler: TenantReconciler,
    private readonly operations: Operations,
    private readonly log: Log,
    private readonly options: ReconcileWorkerOptions,
    private readonly metrics?: ReconcileMetrics,
  ) {
    this.owner = options.owner;
  }

  start(): void {
    this.loop ??= this.run();
  }

  /** Looks for work now (after a request recorded a change). */
  wake(): void {
    this.wakeUp?.();
  }

  async stop(): Promise<void> {
    this.stopped = true;
    this.wake();
    clearTimeout(this.timer);
    await this.loop;
    await Promise.allSettled([...this.inFlight.values()]);
  }

  private async run(): Promise<void> {
    while (!this.stopped) {
      try {
        await this.refreshGauges();
        const free = this.options.concurrency - this.inFlight.size;
        if (free > 0) {
          for (const tenantId of await this.claim(free)) {
            const work = this.reconcileOne(tenantId).finally(() => {
              this.inFlight.delete(tenantId);
              this.stats.inFlight = this.inFlight.size;
              this.wake();
            });
            this.inFlight.set(tenantId, work);
            this.stats.inFlight = this.inFlight.size;
          }
        }
      } catch (error) {
        this.log.warn('reconcile worker could not read its work; retrying', {
          error: (error as Error).message,
        });
      }
      if (this.stopped) break;
      await new Promise<void>((resolve) => {
        this.wakeUp = resolve;
        this.timer = setTimeout(resolve, this.options.pollMs);
      });
      clearTimeout(this.timer);
    }
  }

  private async refreshGauges(): Promise<void> {
    if (!this.metrics) return;
    const rows = await this.database.dataSource.query<Array<{ pending: string; failing: string }>>(
      `SELECT count(*) FILTER (WHERE generation > reconciled_generation) AS pending,
              count(*) FILTER (WHERE last_error IS NOT NULL) AS failing FROM tenant`,
    );
    this.metrics.pendingTenants.set(Number(rows[0].pending));
    this.metrics.failingTenants.set(Number(rows[0].failing));
  }

  /** Leases up to `limit` tenants that need work, changed ones first. */
  private async claim(limit: number): Promise<string[]> {
    const busy = [...this.inFlight.keys()];
    const rows = await returning<{ id: string }>(
      this.database.dataSource,
      `UPDATE tenant SET lease_owner = $1, lease_until = now() + ($2 || ' milliseconds')::interval
       WHERE id IN (
         SELECT id FROM tenant
         WHERE (lease_until IS NULL OR lease_until < now() OR lease_owner = $1)
           AND NOT (id = ANY($6::text[]))
           AND (next_attempt_at IS NULL OR next_attempt_at <= now())
           AND (generation > reconciled_generation
                OR last_reconciled_at IS NULL
                OR last_reconciled_at < $3
                OR last_reconciled_at < now() - ($4 || ' milliseconds')::interval)
         ORDER BY (generation > reconciled_generation) DESC, last_reconciled_at NULLS FIRST
         LIMIT $5
         FOR UPDATE SKIP LOCKED)
       RETURNING id`,
      [this.owner, this.options.leaseMs, this.startedAt, this.options.resyncMs, limit, busy],
    );
    return rows.map((r) => r.id);
  }

  private async reconcileOne(tenantId: string): Promise<void> {
    const renew = setInterval(
      () => {
        void this.database.dataSource
          .query(
            `UPDATE tenant SET lease_until = now() + ($2 || ' milliseconds')::interval WHERE id = $1 AND lease_owner = $3`,
            [tenantId, this.options.leaseMs, this.owner],
          )
          .catch(() => undefined);
      },
      Math.max(1_000, this.options.leaseMs / 3),
    );
    const stopTimer = this.metrics?.seconds.startTimer();
    try {
      const result = await this.reconciler.reconcile(tenantId);
      this.stats.reconciles++;
      this.metrics?.reconciles.inc({ result: 'converged' });
      await this.database.dataSource.query(
        `UPDATE tenant SET reconciled_generation = GREATEST(reconciled_generation, $2), last_reconciled_at = now(),
           reconcile_attempts = 0, next_attempt_at = NULL, last_error = NULL, lease_owner = NULL, lease_until = NULL
         WHERE id = $1 AND lease_owner = $3`,
        [tenantId, result?.generation ?? 0, this.owner],
      );
    } catch (error) {
      this.stats.failures++;
      this.metrics?.reconciles.inc({ result: 'failed' });
      await this.failed(tenantId, error as Error).catch((e: Error) =>
        this.log.error('could not record a reconcile failure', { tenantId, error: e.message }),
      );
    } finally {
      stopTimer?.();
      clearInterval(renew);
    }
  }

  private async failed(tenantId: string, error: Error): Promise<void> {
    const rows = await returning<{ reconcile_attempts: number; generation: string }>(
      this.database.dataSource,
      `UPDATE tenant SET reconcile_attempts = reconcile_attempts + 1, last_error = $2, lease_owner = NULL, lease_until = NULL
       WHERE id = $1 AND lease_owner = $3 RETURNING reconcile_attempts, generation`,
      [tenantId, error.message, this.owner],
    );
    if (!rows[0]) return;
    const attempts = rows[0].reconcile_attempts;
    const delay = backoffDelay(attempts, 500, 60_000);
    await this.database.dataSource.query(
      `UPDATE tenant SET next_attempt_at = now() + ($2 || ' milliseconds')::interval WHERE id = $1`,
      [tenantId, delay],
    );
    const permanent =
      error instanceof InvalidError ||
      error instanceof ForbiddenError ||
      /not ready after/.test(error.message);
    this.log.warn('tenant reconcile failed; retrying', {
      tenantId,
      attempts,
      retryInMs: Math.round(delay),
      permanent,
      error: error.message,
    });
    const generation = Number(rows[0].generation);
    await this.database.transaction(async (manager) => {
      if (permanent) {
        await this.operations.fail(manager, tenantId, generation, errorInfo(error));
      } else {
        await this.operations.progress(manager, tenantId, generation, {
          step: 'retrying',
          stepsDone: 0,
          stepsTotal: 0,
          message: `attempt ${attempts} failed (${error.message}); retrying in ${Math.round(delay / 1000)} s`,
        });
      }
    });
  }
}

function errorInfo(error: Error): ErrorInfo {
  if (error instanceof InvalidError) {
    return {
      code: 'KUBERNETES_REJECTED',
      message: error.message,
      hint: 'The cluster refused an object built from the recorded settings; correct the network or tenant settings.',
    };
  }
  if (error instanceof ForbiddenError) {
    return {
      code: 'KUBERNETES_FORBIDDEN',
      message: error.message,
      hint: "Grant the resource-manager's service account the rights listed in docs/resources.md.",
    };
  }
  return {
    code: 'NOT_READY',
    message: error.message,
    hint: 'The reconciler keeps retrying; check the cluster components named in the message.',
  };
}
