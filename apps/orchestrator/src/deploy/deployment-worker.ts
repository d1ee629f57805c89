/**
 * Runs stack deployments (issue #5 §5): picks stacks that have an open deployment and works on each
 * under a lease in its row, so with several replicas one works on a stack at a time. A crashed
 * holder's lease runs out and another replica (or the restarted one, which takes its own leases over
 * at once) resumes the deployment from its record — at start, every `accepted` or `running`
 * deployment is picked up this way. Like the resource-manager's ReconcileWorker.
 *
 * A deployment that fails for good (a unit not Ready) is finished by the deployer itself; an error
 * thrown out of it (API server or database unreachable) is retried with exponential backoff.
 */
import type { ServiceDatabase } from '@stratum/persistence';
import type { Log } from '@stratum/telemetry';
import { backoffDelay } from '@stratum/util';
import { returning } from './deploy-model';
import type { Deployer } from './deployer';
import { type DeploymentJournal, LeaseLostError } from './deployment-journal';

export interface DeploymentWorkerOptions {
  /** This replica's name on the leases it holds; stable across restarts (pod or host name). */
  owner: string;
  /** How often the database is asked for work when nobody wakes the worker. */
  pollMs: number;
  leaseMs: number;
  /** Stacks worked on at once. */
  concurrency: number;
}

export interface DeploymentWorkerStats {
  deployments: number;
  retries: number;
  inFlight: number;
}

export class DeploymentWorker {
  readonly stats: DeploymentWorkerStats = { deployments: 0, retries: 0, inFlight: 0 };
  private readonly inFlight = new Map<string, Promise<void>>();
  private timer: NodeJS.Timeout | undefined;
  private wakeUp: (() => void) | undefined;
  private loop: Promise<void> | undefined;
  private stopped = false;

  constructor(
    private readonly database: ServiceDatabase,
    private readonly journal: DeploymentJournal,
    private readonly deployer: Deployer,
    private readonly log: Log,
    private readonly options: DeploymentWorkerOptions,
  ) {}

  get owner(): string {
    return this.options.owner;
  }

  start(): void {
    this.loop ??= this.run();
  }

  /** Looks for work now (after a change was accepted). */
  wake(): void {
    this.wakeUp?.();
  }

  /** Stops taking work and waits for the stacks in hand (their current step) to end. */
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
        const free = this.options.concurrency - this.inFlight.size;
        if (free > 0) {
          for (const stackId of await this.claim(free)) {
            const work = this.work(stackId).finally(() => {
              this.inFlight.delete(stackId);
              this.stats.inFlight = this.inFlight.size;
              this.wake();
            });
            this.inFlight.set(stackId, work);
            this.stats.inFlight = this.inFlight.size;
          }
        }
      } catch (error) {
        this.log.warn('deployment worker could not read its work; retrying', {
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

  /** Leases up to `limit` stacks with an open deployment, oldest request first. */
  private async claim(limit: number): Promise<string[]> {
    const rows = await returning<{ id: string }>(
      this.database.dataSource,
      `UPDATE stack SET lease_owner = $1, lease_until = now() + ($2 || ' milliseconds')::interval
       WHERE id IN (
         SELECT s.id FROM stack s
         JOIN deployment d ON d.stack_id = s.id AND d.state IN ('accepted', 'running')
         WHERE (s.lease_until IS NULL OR s.lease_until < now() OR s.lease_owner = $1)
           AND NOT (s.id = ANY($4::text[]))
           AND (s.next_attempt_at IS NULL OR s.next_attempt_at <= now())
         ORDER BY d.created_at
         LIMIT $3
         FOR UPDATE OF s SKIP LOCKED)
       RETURNING id`,
      [this.owner, this.options.leaseMs, limit, [...this.inFlight.keys()]],
    );
    return rows.map((r) => r.id);
  }

  /** Runs the stack's open deployments one after the other (a failure may have opened a rollback). */
  private async work(stackId: string): Promise<void> {
    const renew = setInterval(
      () => {
        void this.database.dataSource
          .query(
            `UPDATE stack SET lease_until = now() + ($2 || ' milliseconds')::interval WHERE id = $1 AND lease_owner = $3`,
            [stackId, this.options.leaseMs, this.owner],
          )
          .catch(() => undefined);
      },
      Math.max(500, this.options.leaseMs / 3),
    );
    try {
      for (let next = await this.journal.nextOpen(stackId); next && !this.stopped;) {
        await this.deployer.execute(next.id, this.owner);
        this.stats.deployments++;
        next = await this.journal.nextOpen(stackId);
      }
      await this.database.dataSource.query(
        `UPDATE stack SET lease_owner = NULL, lease_until = NULL, attempts = 0, next_attempt_at = NULL, last_error = NULL
         WHERE id = $1 AND lease_owner = $2`,
        [stackId, this.owner],
      );
    } catch (error) {
      if (error instanceof LeaseLostError) {
        this.log.warn('lost the lease of a stack; another worker goes on with it', { stackId });
        return;
      }
      this.stats.retries++;
      await this.failed(stackId, error as Error).catch((e: Error) =>
        this.log.error('could not record a deployment attempt failure', { stackId, error: e.message }),
      );
    } finally {
      clearInterval(renew);
    }
  }

  private async failed(stackId: string, error: Error): Promise<void> {
    const rows = await returning<{ attempts: number }>(
      this.database.dataSource,
      `UPDATE stack SET attempts = attempts + 1, last_error = $2, lease_owner = NULL, lease_until = NULL
       WHERE id = $1 AND lease_owner = $3 RETURNING attempts`,
      [stackId, error.message, this.owner],
    );
    if (!rows[0]) return;
    const delay = backoffDelay(rows[0].attempts, 500, 60_000);
    await this.database.dataSource.query(
      `UPDATE stack SET next_attempt_at = now() + ($2 || ' milliseconds')::interval WHERE id = $1`,
      [stackId, delay],
    );
    this.log.warn('deployment step failed; resuming later', {
      stackId,
      attempts: rows[0].attempts,
      retryInMs: Math.round(delay),
      error: error.message,
    });
  }
}
