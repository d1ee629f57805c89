import type { BusMetrics } from '@stratum/messaging';
import type { Log } from '@stratum/telemetry';
import { type ChildProcess, fork } from 'node:child_process';
import { setPriority } from 'node:os';
import { join } from 'node:path';
import type { AuditProcessSettings, FromAuditProcess, ToAuditProcess } from './audit-protocol';
import { type AuditEntry, AuditSink } from './audit-writer';

export interface AuditProcessOptions {
  settings: AuditProcessSettings;
  /** Entries are handed to the audit process in groups, at most this long after the decision. */
  flushMs: number;
  /** Entries waiting (not yet committed) above which the gateway turns requests away. */
  maxBuffered?: number;
  log: Log;
  /** The gateway's bus metrics: what the audit process's relay publishes is counted here. */
  metrics?: BusMetrics;
  /** How long the audit process may take to connect at start. */
  startTimeoutMs?: number;
  /** How long it may take to commit and publish what is left at shutdown. */
  stopTimeoutMs?: number;
  /**
   * The audit process's nice value (default 10): it yields the CPU to the request path whenever both
   * want it, and catches up in the gaps (its work is never on a request's path).
   */
  nice?: number;
}

type Health = { ok: boolean; detail?: string };

/** The child's entry point, run with the same TypeScript loader as the gateway itself. */
const ENTRY = join(__dirname, 'audit-process.main.ts');

/**
 * The gateway's audit pipeline in a child process (distributed mode, R-AU-6, R-MO-4). The request thread
 * only builds each entry and pushes it onto an array; every `flushMs` the array goes to the audit
 * process over IPC, which commits it to the gateway's outbox and runs the gateway's outbox relay to
 * Kafka. Measured reason (docs/gateway.md): in the request thread, the commit and the relay kept
 * envelopes, rows and Kafka messages alive long enough to make 5–15 ms young-generation GC pauses, the
 * largest part of the gateway's p99.
 *
 * Nothing is dropped on the way: a batch stays in this process until the audit process says it is
 * committed, and goes again if that process dies first (restarted with backoff; a batch committed but
 * not yet acknowledged when it died is committed twice, with the same request id — at-least-once like
 * every event). While it is down or the database fails, entries wait here up to `maxBuffered`; past that
 * the gateway answers 503 rather than serve unaudited. What a killed gateway loses is the same as in
 * the in-process writer: the entries of the last `flushMs`.
 */
export class AuditProcess extends AuditSink {
  private buffer: AuditEntry[] = [];
  private readonly unacked: { seq: number; entries: AuditEntry[] }[] = [];
  private unackedCount = 0;
  private seq = 0;
  private committedTotal = 0;
  private child: ChildProcess | undefined;
  private ready = false;
  private closed = false;
  private timer: NodeJS.Timeout | undefined;
  private restartTimer: NodeJS.Timeout | undefined;
  private failures = 0;
  private lastStats: { relay: Health; commits: Health } | undefined;
  private waiters: { seq: number; resolve: () => void }[] = [];
  private readonly maxBuffered: number;
  /** Times the audit process was restarted after dying (for health and tests). */
  restarts = 0;

  private constructor(private readonly options: AuditProcessOptions) {
    super();
    this.maxBuffered = options.maxBuffered ?? 50_000;
  }

  /** Starts the audit process and waits until it has connected to the database and the brokers. */
  static async start(options: AuditProcessOptions): Promise<AuditProcess> {
    const audit = new AuditProcess(options);
    await audit.spawn();
    return audit;
  }

  get accepting(): boolean {
    return !this.closed && this.pending < this.maxBuffered;
  }

  get pending(): number {
    return this.buffer.length + this.unackedCount;
  }

  get written(): number {
    return this.committedTotal;
  }

  /** The process id of the audit process while it runs (operators, tests). */
  get pid(): number | undefined {
    return this.ready ? this.child?.pid : undefined;
  }

  record(entry: AuditEntry): void {
    this.buffer.push(entry);
    this.timer ??= setTimeout(() => this.handOver(), this.options.flushMs);
  }

  /** Readiness of the relay the audit process runs (the gateway's `outbox-relay` check). */
  relayHealth(): Health {
    if (!this.ready) return { ok: false, detail: 'the audit process is not running; restarting it' };
    return this.lastStats?.relay ?? { ok: true };
  }

  /** The audit check: accepting, and what waits where. */
  health(): { ok: boolean; detail: string } {
    const state = this.ready ? `audit process ${this.child?.pid} running` : 'audit process down, restarting';
    const commits =
      this.lastStats && !this.lastStats.commits.ok
        ? `; commits failing: ${this.lastStats.commits.detail}`
        : '';
    return {
      ok: this.accepting,
      detail: `${state}; ${this.pending} entries waiting for the outbox${commits}${this.restarts ? `; ${this.restarts} restarts` : ''}`,
    };
  }

  flush(timeoutMs = 5_000): Promise<void> {
    this.handOver();
    const target = this.seq;
    if (this.unacked.length === 0) return Promise.resolve();
    return new Promise<void>((resolve) => {
      const timer = setTimeout(done, timeoutMs);
      timer.unref();
      function done() {
        clearTimeout(timer);
        resolve();
      }
      this.waiters.push({ seq: target, resolve: done });
    });
  }

  async close(): Promise<void> {
    if (this.closed) return;
    if (this.restartTimer) clearTimeout(this.restartTimer);
    this.restartTimer = undefined;
    this.handOver();
    if (!this.ready && this.unackedCount > 0) {
      // Down (restarting) at shutdown with entries waiting: one more start to commit them.
      await this.spawn().catch((error: Error) =>
        this.options.log.error(error.message, { waiting: this.unackedCount }),
      );
    }
    this.closed = true;
    const child = this.child;
    if (child && this.ready) {
      const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
      this.post({ type: 'close' });
      const timer = setTimeout(() => child.kill('SIGKILL'), this.options.stopTimeoutMs ?? 15_000);
      await exited;
      clearTimeout(timer);
    } else {
      child?.kill('SIGKILL');
    }
    if (this.unackedCount > 0) {
      this.options.log.error('audit entries were not committed before the gateway stopped', {
        entries: this.unackedCount,
      });
    }
    for (const waiter of this.waiters.splice(0)) waiter.resolve();
  }

  /** Sends what was recorded since the last hand-over as one batch (kept until acknowledged). */
  private handOver(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
    if (this.buffer.length === 0) return;
    const batch = { seq: ++this.seq, entries: this.buffer };
    this.buffer = [];
    this.unacked.push(batch);
    this.unackedCount += batch.entries.length;
    if (this.ready) this.post({ type: 'entries', ...batch });
  }

  private post(message: ToAuditProcess): void {
    // A closed channel shows up as the child's exit, which re-sends everything unacknowledged.
    if (this.child?.connected) this.child.send(message, () => undefined);
  }

  private spawn(): Promise<void> {
    const { log, settings } = this.options;
    const child = fork(ENTRY, [], {
      // A small young generation: this process has no latency to protect, and it keeps its memory down.
      execArgv: ['--max-semi-space-size=2', '-r', require.resolve('@swc-node/register')],
      stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
      serialization: 'advanced',
    });
    this.child = child;
    try {
      if (child.pid !== undefined) setPriority(child.pid, this.options.nice ?? 10);
    } catch (error) {
      log.warn('could not lower the audit process priority', { error: (error as Error).message });
    }
    const startTimeoutMs = this.options.startTimeoutMs ?? 60_000;
    return new Promise<void>((resolve, reject) => {
      let started = false;
      const timer = setTimeout(() => {
        child.kill('SIGKILL');
        fail(`it did not connect within ${startTimeoutMs} ms`);
      }, startTimeoutMs);
      const fail = (reason: string) => {
        clearTimeout(timer);
        if (!started) {
          started = true;
          reject(new Error(`the gateway's audit process did not start: ${reason}`));
        }
      };
      child.on('message', (message: FromAuditProcess) => {
        switch (message.type) {
          case 'ready':
            clearTimeout(timer);
            started = true;
            this.ready = true;
            // Everything not yet acknowledged goes (again) to the new process, oldest first.
            for (const batch of this.unacked) this.post({ type: 'entries', ...batch });
            resolve();
            break;
          case 'start-failed':
            fail(message.error);
            break;
          case 'committed':
            this.acknowledge(message.seq);
            break;
          case 'stats':
            this.takeStats(message);
            break;
        }
      });
      child.on('error', (error) => fail(error.message));
      child.on('exit', (code, signal) => {
        const wasReady = this.ready;
        this.ready = false;
        if (this.child === child) this.child = undefined;
        fail(`it exited (${signal ?? `code ${code}`})`);
        if (this.closed || !wasReady) return;
        log.error("the gateway's audit process exited; restarting it", {
          code,
          signal,
          waiting: this.pending,
        });
        this.scheduleRestart();
      });
      child.send({ type: 'start', settings } satisfies ToAuditProcess);
    });
  }

  private scheduleRestart(): void {
    const delay = Math.min(30_000, 1_000 * 2 ** Math.min(this.failures, 5));
    this.restartTimer = setTimeout(() => {
      this.restartTimer = undefined;
      if (this.closed) return;
      this.spawn().then(
        () => {
          this.failures = 0;
          this.restarts++;
          this.options.log.info("the gateway's audit process is back", { waiting: this.pending });
        },
        (error: Error) => {
          this.failures++;
          this.options.log.error(`${error.message}; trying again`, { waiting: this.pending });
          this.scheduleRestart();
        },
      );
    }, delay);
  }

  private acknowledge(seq: number): void {
    while (this.unacked.length && this.unacked[0].seq <= seq) {
      const batch = this.unacked.shift()!;
      this.unackedCount -= batch.entries.length;
      this.committedTotal += batch.entries.length;
    }
    if (this.waiters.length) {
      const waiting = this.waiters;
      this.waiters = [];
      for (const waiter of waiting) {
        if (waiter.seq <= seq) waiter.resolve();
        else this.waiters.push(waiter);
      }
    }
  }

  private takeStats(stats: Extract<FromAuditProcess, { type: 'stats' }>): void {
    this.lastStats = { relay: stats.relay, commits: stats.commits };
    const { metrics } = this.options;
    if (!metrics) return;
    let total = 0;
    for (const [topic, count] of Object.entries(stats.published)) {
      metrics.produced.inc({ topic }, count);
      total += count;
    }
    if (total) metrics.outboxPublished.inc({ service: 'gateway' }, total);
    if (stats.relayErrors) metrics.outboxRelayErrors.inc({ service: 'gateway' }, stats.relayErrors);
  }
}
