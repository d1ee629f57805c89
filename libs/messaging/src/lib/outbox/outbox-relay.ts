import { createHash } from 'node:crypto';
import type { ServiceDatabase } from '@stratum/persistence';
import { sleep } from '@stratum/util';
import type { BusProducer, OutgoingMessage } from '../bus';
import type { BusLog } from '../kafka/kafka-bus';
import type { BusMetrics } from '../metrics';

export interface OutboxRelayOptions {
  service: string;
  database: ServiceDatabase;
  producer: BusProducer;
  log: BusLog;
  metrics?: BusMetrics;
  /** Rows published per round. */
  batchSize?: number;
  /** Safety net under LISTEN/NOTIFY: look for pending rows at least this often. */
  pollIntervalMs?: number;
  /**
   * Inbox rows (event ids already applied) are kept this long. It must exceed the longest time an
   * event can come back: dead-letter topics keep 30 days and a replay re-sends to every group.
   */
  retainInboxMs?: number;
  /**
   * Called after the bus acknowledged a batch and before the rows are removed from the outbox. Throwing here
   * behaves like a crash at that point: the rows stay pending and are published again.
   */
  onPublished?: (messages: readonly OutgoingMessage[]) => void | Promise<void>;
}

function toMessage(row: OutboxRow): OutgoingMessage {
  return {
    topic: row.topic,
    key: row.key,
    value: row.payload,
    headers: typeof row.headers === 'string' ? JSON.parse(row.headers) : row.headers,
  };
}

interface OutboxRow {
  seq: string;
  topic: string;
  key: string;
  headers: Record<string, string> | string;
  payload: string;
}

/** How many events wait in a service's outbox and for how long the oldest has (for /metrics and operators). */
export async function outboxLag(
  database: ServiceDatabase,
): Promise<{ pending: number; oldestPendingSeconds: number }> {
  const [row] = await database.dataSource.query(
    `SELECT count(*)::int AS pending, COALESCE(EXTRACT(EPOCH FROM now() - min(created_at)), 0)::float8 AS oldest
       FROM outbox`,
  );
  return { pending: Number(row.pending), oldestPendingSeconds: Number(row.oldest) };
}

/**
 * Publishes outbox rows in commit order. Several relays (replicas of a service) may run at once: each
 * round takes a transaction-scoped advisory lock, so one relay publishes at a time and per-key order
 * holds; the others stand by. Crash between publish and delete → the rows are published again
 * (at-least-once; consumers dedupe by event id).
 */
export class OutboxRelay {
  private readonly batchSize: number;
  private readonly pollIntervalMs: number;
  private readonly lockKey: string;
  private wake: (() => void) | undefined;
  private pendingWake = false;
  private loop: Promise<void> | undefined;
  private stopping = false;
  private unlisten: (() => Promise<void>) | undefined;
  private lastCleanup = 0;
  private failingSince: number | undefined;
  private lastError: string | undefined;

  constructor(private readonly options: OutboxRelayOptions) {
    this.batchSize = options.batchSize ?? 500;
    this.pollIntervalMs = options.pollIntervalMs ?? 1_000;
    // Advisory lock keys are bigints; derive one per service schema so relays of different services
    // sharing one PostgreSQL never block each other.
    const digest = createHash('sha256')
      .update(`stratum-outbox:${options.database.schema}:${options.service}`)
      .digest();
    this.lockKey = digest.readBigInt64BE(0).toString();
  }

  get channel(): string {
    return `stratum_outbox_${this.options.database.schema}`;
  }

  async start(): Promise<void> {
    if (this.loop) return;
    this.unlisten = await this.options.database.listen(this.channel, () => this.nudge());
    this.stopping = false;
    this.loop = this.run();
  }

  /** Wakes the relay now (new rows were committed). */
  nudge(): void {
    this.pendingWake = true;
    this.wake?.();
  }

  /**
   * Stops after publishing what is pending, waiting at most `drainTimeoutMs` (graceful shutdown drains
   * the outbox; rows left are published by the next start).
   */
  async stop(drainTimeoutMs = 5_000): Promise<void> {
    if (!this.loop) return;
    await this.unlisten?.();
    const deadline = Date.now() + drainTimeoutMs;
    this.stopping = true;
    this.wake?.();
    await this.loop;
    this.loop = undefined;
    while (Date.now() < deadline) {
      try {
        if ((await this.publishRound()) === 0) break;
      } catch {
        break;
      }
    }
  }

  /** One round: publish up to `batchSize` pending rows. Returns how many were published. */
  async publishRound(): Promise<number> {
    const { database } = this.options;
    if (database.target.kind === 'embedded') {
      // The embedded database has one session, which an open transaction holds; the all-in-one bus
      // keeps its log in that same database, so publishing inside a transaction would wait on itself.
      // One process owns it and runs one relay per outbox, so no lock is needed either.
      return this.publishFrom((sql, params) => database.dataSource.query(sql, params));
    }
    return database.transaction(async (manager) => {
      const [{ locked }] = await manager.query('SELECT pg_try_advisory_xact_lock($1::bigint) AS locked', [
        this.lockKey,
      ]);
      return locked ? this.publishFrom((sql, params) => manager.query(sql, params)) : 0;
    });
  }

  /** Read, publish, wait for the acknowledgement, delete. A crash before the delete publishes again. */
  private async publishFrom(
    query: (sql: string, params: unknown[]) => Promise<OutboxRow[]>,
  ): Promise<number> {
    const { producer, metrics, service } = this.options;
    const rows = await query('SELECT seq, topic, key, headers, payload FROM outbox ORDER BY seq LIMIT $1', [
      this.batchSize,
    ]);
    if (rows.length === 0) return 0;
    const messages = rows.map(toMessage);
    await producer.send(messages);
    await this.options.onPublished?.(messages);
    await query('DELETE FROM outbox WHERE seq = ANY($1::bigint[])', [rows.map((r) => r.seq)]);
    metrics?.outboxPublished.inc({ service }, rows.length);
    for (const m of messages) metrics?.produced.inc({ topic: m.topic });
    return rows.length;
  }

  /** Readiness: running, and not failing for longer than `graceMs` (bus or database unavailable). */
  health(graceMs = 30_000): { ok: boolean; detail?: string } {
    if (!this.loop) return { ok: false, detail: 'relay not running' };
    if (this.failingSince !== undefined && Date.now() - this.failingSince > graceMs) {
      return {
        ok: false,
        detail: `publishing has failed for ${Math.round((Date.now() - this.failingSince) / 1000)} s: ${this.lastError}`,
      };
    }
    return { ok: true };
  }

  /** Relay lag for /metrics and for operators. */
  lag(): Promise<{ pending: number; oldestPendingSeconds: number }> {
    return outboxLag(this.options.database);
  }

  private async run(): Promise<void> {
    const { log, metrics, service } = this.options;
    let failures = 0;
    while (!this.stopping) {
      this.pendingWake = false;
      try {
        let published: number;
        do {
          published = await this.publishRound();
        } while (published === this.batchSize && !this.stopping);
        failures = 0;
        this.failingSince = undefined;
        await this.cleanup();
      } catch (error) {
        failures++;
        this.failingSince ??= Date.now();
        this.lastError = (error as Error).message;
        metrics?.outboxRelayErrors.inc({ service });
        log.warn('outbox relay round failed; rows stay pending and will be retried', {
          error: (error as Error).message,
          failures,
        });
        await sleep(Math.min(5_000, 100 * 2 ** Math.min(failures, 6)));
        continue;
      }
      if (this.pendingWake || this.stopping) continue;
      await new Promise<void>((resolve) => {
        const timer = setTimeout(done, this.pollIntervalMs);
        function done() {
          clearTimeout(timer);
          resolve();
        }
        this.wake = done;
      });
      this.wake = undefined;
    }
  }

  private async cleanup(): Promise<void> {
    if (Date.now() - this.lastCleanup < 60_000) return;
    this.lastCleanup = Date.now();
    await this.options.database.dataSource.query(
      `DELETE FROM inbox WHERE processed_at < now() - ($1::bigint * interval '1 millisecond')`,
      [this.options.retainInboxMs ?? 35 * 24 * 60 * 60 * 1000],
    );
  }
}
