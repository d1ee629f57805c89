import { EventRecorded } from '@stratum/contracts';
import type { Outbox } from '@stratum/messaging';
import type { ServiceDatabase } from '@stratum/persistence';
import type { Log } from '@stratum/telemetry';

export type AuditEntry = EventRecorded.Value;

/**
 * Where the gateway's decisions go (R-AU-6, R-MO-4). Two implementations: {@link AuditWriter} commits
 * them in this process (the all-in-one mode: embedded database, in-process bus), `AuditProcess` hands
 * them to a child process that commits and publishes them (the distributed mode, so the request thread
 * never carries the audit pipeline's work or its garbage). An abstract class so that it is a Nest token.
 */
export abstract class AuditSink {
  /** Takes one entry; never blocks, never throws. */
  abstract record(entry: AuditEntry): void;
  /** False while too many entries wait (the database or the audit process failing): the gateway answers 503. */
  abstract get accepting(): boolean;
  /** Entries taken but not yet committed to the outbox. */
  abstract get pending(): number;
  /** Entries committed to the outbox so far. */
  abstract get written(): number;
  /** The gateway's `audit` readiness check. */
  abstract health(): { ok: boolean; detail: string };
  /** Resolves when every entry taken so far is committed (or the attempt failed; they stay pending). */
  abstract flush(): Promise<void>;
  /** On shutdown: commits what is left. */
  abstract close(): Promise<void>;
}

/** The most entries one transaction carries. */
const MAX_BATCH = 500;
/** Entries per INSERT statement within it. */
const SLICE = 25;

/**
 * Every decision of the gateway becomes one audit event (R-AU-6, R-MO-4) on
 * `stratum.audit.event-recorded.v1`, through the outbox like every other event (at-least-once, the
 * relay publishes it; the monitor dedupes by event id).
 *
 * Entries are committed in groups: one transaction per `flushMs` (default 100 ms) whatever the request
 * rate, so auditing costs the request path nothing but an array push, and the database and the relay
 * a few rounds a second (measured: a 10 ms interval doubled the gateway's CPU per request at 500/s).
 * The price, stated in docs/gateway.md: if the gateway process dies, the entries of at most the last
 * `flushMs` (plus a failing database's retry window) are lost. A failed commit is retried with the same entries; while
 * the database is down the buffer grows up to `maxBuffered`, then the gateway turns requests away
 * (503) rather than serve them unaudited — see {@link accepting}.
 */
export class AuditWriter extends AuditSink {
  private buffer: AuditEntry[] = [];
  private timer: NodeJS.Timeout | undefined;
  private flushing: Promise<void> | undefined;
  /** Why the last commit failed, while commits are failing. */
  private failed: string | undefined;
  private committed = 0;

  constructor(
    private readonly database: ServiceDatabase,
    private readonly outbox: Outbox,
    private readonly log: Log,
    private readonly flushMs: number,
    private readonly maxBuffered = 50_000,
    /** Told after each commit how many entries (the oldest pending, in order) it carried. */
    private readonly onCommitted?: (count: number) => void,
  ) {
    super();
  }

  get written(): number {
    return this.committed;
  }

  /** While commits fail: why the last one did. */
  get failure(): string | undefined {
    return this.failed;
  }

  health(): { ok: boolean; detail: string } {
    return { ok: this.accepting, detail: `${this.pending} entries waiting for the outbox` };
  }

  /** False while the buffer is full (the database has been failing): the gateway answers 503. */
  get accepting(): boolean {
    return this.buffer.length < this.maxBuffered;
  }

  get pending(): number {
    return this.buffer.length;
  }

  record(entry: AuditEntry): void {
    this.buffer.push(entry);
    if (!this.timer && !this.flushing) this.schedule(this.flushMs);
  }

  private schedule(ms: number): void {
    this.timer = setTimeout(() => {
      this.timer = undefined;
      void this.flush();
    }, ms);
  }

  /** Commits everything buffered so far (in batches); resolves when it is in the outbox. */
  flush(): Promise<void> {
    return (this.flushing ??= this.drain().finally(() => {
      this.flushing = undefined;
      if (this.buffer.length && !this.timer) this.schedule(this.failed !== undefined ? 1_000 : this.flushMs);
    }));
  }

  private async drain(): Promise<void> {
    while (this.buffer.length) {
      const batch = this.buffer.slice(0, MAX_BATCH);
      try {
        await this.database.transaction(async (manager) => {
          // Envelopes are built (and validated) a slice at a time, letting requests in between: one
          // flush never holds the event loop for long (it would show in the gateway's p99).
          for (let i = 0; i < batch.length; i += SLICE) {
            if (i > 0) await new Promise((resolve) => setImmediate(resolve));
            await this.outbox.addMany(manager, EventRecorded.Topic, batch.slice(i, i + SLICE));
          }
        });
      } catch (error) {
        if (this.failed === undefined) {
          this.log.error('audit entries could not be committed; retrying', {
            error: (error as Error).message,
            pending: this.buffer.length,
          });
        }
        this.failed = (error as Error).message;
        return;
      }
      if (this.failed !== undefined)
        this.log.info('audit entries committed again', { pending: this.buffer.length });
      this.failed = undefined;
      this.buffer = this.buffer.slice(batch.length);
      this.committed += batch.length;
      this.onCommitted?.(batch.length);
    }
  }

  /** On shutdown: stop the timer and commit what is left. */
  async close(): Promise<void> {
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
    await this.flushing;
    await this.flush();
  }
}
