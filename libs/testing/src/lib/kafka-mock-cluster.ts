import { ChildProcess, execFileSync, spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { createInterface } from 'node:readline';
import { installExitHook, killOnExit } from './bench-process';

/** A topic to create on the mock cluster. */
export interface MockTopic {
  name: string;
  partitions: number;
  /** Defaults to min(3, number of brokers). */
  replication?: number;
}

export interface KafkaMockClusterOptions {
  /** Number of mock brokers (ids 1..N). Default 3. */
  brokers?: number;
  /** Topics to create before start() resolves. */
  topics?: MockTopic[];
  /**
   * The mock's group.initial.rebalance.delay.ms: how long the first JoinGroup of an empty group waits
   * for more members. librdkafka's mock default (like Kafka's) is 3000 ms; 0–100 makes tests faster.
   */
  groupInitialRebalanceDelayMs?: number;
  /** How long to wait for the mock to print its bootstrap servers. Default 10 000 ms. */
  startTimeoutMs?: number;
}

/** Kafka protocol API keys commonly used with {@link KafkaMockCluster.pushRequestErrors}. */
export const KafkaApiKey = {
  Produce: 0,
  Fetch: 1,
  ListOffsets: 2,
  Metadata: 3,
  OffsetCommit: 8,
  OffsetFetch: 9,
  FindCoordinator: 10,
  JoinGroup: 11,
  Heartbeat: 12,
  LeaveGroup: 13,
  SyncGroup: 14,
  InitProducerId: 22,
} as const;

/** Error codes commonly used with {@link KafkaMockCluster.pushRequestErrors}. */
export const KafkaErrorCode = {
  /** librdkafka's local transport error: the mock broker drops the connection. */
  Disconnect: -195,
  NotLeaderOrFollower: 6,
  RequestTimedOut: 7,
  NotCoordinator: 16,
  NotEnoughReplicas: 19,
  CoordinatorNotAvailable: 15,
  RebalanceInProgress: 27,
} as const;

const COMMAND_TIMEOUT_MS = 15_000;
const STOP_GRACE_MS = 3_000;
const STDERR_TAIL_CHARS = 16_384;

function findRepoRoot(): string {
  let dir = __dirname;
  for (;;) {
    if (existsSync(join(dir, 'tools', 'kafka-mock', 'build.sh'))) return dir;
    const parent = dirname(dir);
    if (parent === dir) {
      throw new Error(`KafkaMockCluster: tools/kafka-mock/build.sh not found above ${__dirname}`);
    }
    dir = parent;
  }
}

let builtBinary: string | undefined;

/** Runs tools/kafka-mock/build.sh (a no-op when the binary is up to date) and returns the binary's path. */
function ensureBinary(): string {
  if (builtBinary) return builtBinary;
  const script = join(findRepoRoot(), 'tools', 'kafka-mock', 'build.sh');
  let stdout: string;
  try {
    stdout = execFileSync('bash', [script], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
  } catch (error) {
    const e = error as { stderr?: string | Buffer; message?: string };
    const detail = (e.stderr ? String(e.stderr) : '').trim() || e.message || String(error);
    throw new Error(`KafkaMockCluster: building the kafka-mock binary failed:\n${detail}`);
  }
  const path = stdout.trim().split('\n').pop();
  if (!path || !existsSync(path)) {
    throw new Error(`KafkaMockCluster: build.sh did not report a binary (output: ${JSON.stringify(stdout)})`);
  }
  builtBinary = path;
  return path;
}

/** A token sent to the mock must be one non-empty word. */
function word(what: string, value: string): string {
  if (!/^[^\s]+$/.test(value))
    throw new Error(
      `KafkaMockCluster: ${what} must be a non-empty string without whitespace, got ${JSON.stringify(value)}`,
    );
  return value;
}

function int(what: string, value: number): string {
  if (!Number.isSafeInteger(value))
    throw new Error(`KafkaMockCluster: ${what} must be an integer, got ${value}`);
  return String(value);
}

interface Waiter {
  resolve: (line: string) => void;
  reject: (error: Error) => void;
}

/**
 * A librdkafka mock Kafka cluster (real Kafka wire protocol, in memory, on 127.0.0.1) running in a
 * child process (tools/bench-bin/kafka-mock), with fault injection.
 *
 * The child dies with its parent (PR_SET_PDEATHSIG) and is killed on process exit; call stop() anyway.
 */
export class KafkaMockCluster {
  /** "127.0.0.1:p1,127.0.0.1:p2,..." */
  readonly bootstrapServers: string;
  /** Mock broker ids: 1..N. */
  readonly brokerIds: number[];
  /** The child process' pid. */
  readonly pid: number;

  private readonly child: ChildProcess;
  private readonly replies: string[] = [];
  private waiter: Waiter | undefined;
  private queue: Promise<unknown> = Promise.resolve();
  private exited = false;
  private exitDescription = '';
  private readonly exitPromise: Promise<void>;
  private stopPromise: Promise<void> | undefined;
  private readonly stderrTail: { text: string };
  private holds = 0;

  private constructor(
    child: ChildProcess,
    bootstrapServers: string,
    brokers: number,
    stderrTail: { text: string },
  ) {
    this.child = child;
    this.pid = child.pid!;
    this.bootstrapServers = bootstrapServers;
    this.brokerIds = Array.from({ length: brokers }, (_, i) => i + 1);
    this.stderrTail = stderrTail;
    this.exited = child.exitCode !== null || child.signalCode !== null;
    this.exitPromise = new Promise<void>((resolve) => {
      if (this.exited) resolve();
      else child.once('exit', () => resolve());
    });
  }

  static async start(options: KafkaMockClusterOptions = {}): Promise<KafkaMockCluster> {
    const brokers = options.brokers ?? 3;
    if (!Number.isInteger(brokers) || brokers < 1)
      throw new Error(`KafkaMockCluster: brokers must be a positive integer, got ${brokers}`);
    const timeoutMs = options.startTimeoutMs ?? 10_000;
    const binary = ensureBinary();
    installExitHook();

    const child = spawn(binary, [String(brokers)], {
      stdio: ['pipe', 'pipe', 'pipe'],
      env: { ...process.env, KAFKA_MOCK_PARENT_PID: String(process.pid) },
    });
    // Not under setpriv: the harness sets its own PR_SET_PDEATHSIG (KAFKA_MOCK_PARENT_PID).
    killOnExit(child);
    // Writes to a dead child fail with EPIPE; the exit handling reports it.
    child.stdin!.on('error', () => undefined);

    const stderr = { text: '' }; // shared with the cluster once it exists
    const debug = !!process.env.KAFKA_MOCK_DEBUG;
    child.stderr!.setEncoding('utf8');
    child.stderr!.on('data', (chunk: string) => {
      if (debug) process.stderr.write(chunk);
      stderr.text = (stderr.text + chunk).slice(-STDERR_TAIL_CHARS);
    });

    const lines = createInterface({ input: child.stdout!, crlfDelay: Infinity });

    const bootstrap = await new Promise<string>((resolve, reject) => {
      let settled = false;
      const finish = (error: Error | undefined, value?: string) => {
        if (settled) return;
        settled = true;
        clearTimeout(timer);
        child.off('exit', onExit);
        child.off('error', onError);
        if (error) reject(error);
        else resolve(value!);
      };
      const timer = setTimeout(() => {
        child.kill('SIGKILL');
        finish(
          new Error(
            `KafkaMockCluster: no BOOTSTRAP line from ${binary} within ${timeoutMs} ms${stderr.text ? `; stderr:\n${stderr.text}` : ''}`,
          ),
        );
      }, timeoutMs);
      const onExit = (code: number | null, signal: string | null) =>
        finish(
          new Error(
            `KafkaMockCluster: ${binary} exited (code ${code}, signal ${signal}) before printing BOOTSTRAP${stderr.text ? `; stderr:\n${stderr.text}` : ''}`,
          ),
        );
      const onError = (error: Error) =>
        finish(new Error(`KafkaMockCluster: cannot run ${binary}: ${error.message}`));
      child.once('exit', onExit);
      child.once('error', onError);
      lines.once('line', (line: string) => {
        const match = /^BOOTSTRAP (\S+)$/.exec(line);
        if (match) finish(undefined, match[1]);
        else {
          child.kill('SIGKILL');
          finish(new Error(`KafkaMockCluster: expected "BOOTSTRAP <servers>", got ${JSON.stringify(line)}`));
        }
      });
    });

    const c = new KafkaMockCluster(child, bootstrap, brokers, stderr);
    lines.on('line', (line: string) => c.onReply(line));
    child.once('exit', (code, signal) => c.onExit(code, signal));
    child.on('error', (error) => c.onExit(null, null, error));
    if (c.exited) c.onExit(child.exitCode, child.signalCode);
    c.release(); // idle: a forgotten cluster must not keep the process alive

    try {
      if (options.groupInitialRebalanceDelayMs !== undefined) {
        await c.setGroupInitialRebalanceDelay(options.groupInitialRebalanceDelayMs);
      }
      for (const topic of options.topics ?? []) await c.createTopic(topic);
    } catch (error) {
      await c.stop();
      throw error;
    }
    return c;
  }

  async createTopic(topic: MockTopic): Promise<void> {
    const replication = topic.replication ?? Math.min(3, this.brokerIds.length);
    await this.command([
      'topic',
      word('topic name', topic.name),
      int('partitions', topic.partitions),
      int('replication', replication),
    ]);
  }

  /** Disconnects the broker and refuses new connections. Does not move partition leadership. */
  async brokerDown(id: number): Promise<void> {
    await this.command(['broker-down', int('broker id', id)]);
  }

  async brokerUp(id: number): Promise<void> {
    await this.command(['broker-up', int('broker id', id)]);
  }

  /** Sets the partition's leader (-1: leaderless). Only topics created through this cluster are accepted. */
  async moveLeader(topic: string, partition: number, brokerId: number): Promise<void> {
    await this.command([
      'leader',
      word('topic name', topic),
      int('partition', partition),
      int('broker id', brokerId),
    ]);
  }

  /** The next `count` requests with this API key (cluster-wide) fail with `errorCode` (-195: disconnect). */
  async pushRequestErrors(apiKey: number, count: number, errorCode: number): Promise<void> {
    await this.command([
      'request-errors',
      int('api key', apiKey),
      int('count', count),
      int('error code', errorCode),
    ]);
  }

  /** Delays every response of the broker (-1: all brokers) by `ms`. */
  async setRtt(brokerId: number, ms: number): Promise<void> {
    await this.command(['rtt', int('broker id', brokerId), int('milliseconds', ms)]);
  }

  async setCoordinator(kind: 'group' | 'transaction', key: string, brokerId: number): Promise<void> {
    await this.command(['coordinator', kind, word('coordinator key', key), int('broker id', brokerId)]);
  }

  /** Sets the controller id reported in Metadata (the harness sets 1 at start). */
  async setController(brokerId: number): Promise<void> {
    await this.command(['controller', int('broker id', brokerId)]);
  }

  /** group.initial.rebalance.delay.ms for groups that are empty from now on (mock default 3000). */
  async setGroupInitialRebalanceDelay(ms: number): Promise<void> {
    await this.command(['rebalance-delay', int('milliseconds', ms)]);
  }

  async ping(): Promise<void> {
    await this.command(['ping']);
  }

  /** Ends the child's stdin and waits for it to exit; kills it after 3 s. Idempotent. */
  stop(): Promise<void> {
    this.stopPromise ??= this.doStop();
    return this.stopPromise;
  }

  private async doStop(): Promise<void> {
    if (this.exited) return;
    this.hold();
    try {
      // Let queued commands finish first, but do not wait on them forever.
      const drained = this.queue.then(
        () => undefined,
        () => undefined,
      );
      await Promise.race([drained, this.delay(STOP_GRACE_MS)]);
      this.child.stdin!.end();
      const exitedInTime = await Promise.race([
        this.exitPromise.then(() => true),
        this.delay(STOP_GRACE_MS).then(() => false),
      ]);
      if (!exitedInTime) {
        this.child.kill('SIGKILL');
        await this.exitPromise;
      }
    } finally {
      this.release();
    }
  }

  private delay(ms: number): Promise<void> {
    return new Promise((resolve) => setTimeout(resolve, ms).unref());
  }

  /** Serializes commands: one in flight, each awaiting its OK / ERR line. */
  private command(args: string[]): Promise<void> {
    const line = args.join(' ');
    const run = this.queue.then(() => this.execute(line));
    this.queue = run.catch(() => undefined);
    return run;
  }

  private async execute(line: string): Promise<void> {
    if (this.stopPromise) throw new Error(`KafkaMockCluster: "${line}" after stop()`);
    if (this.exited)
      throw new Error(`KafkaMockCluster: "${line}": mock cluster is not running (${this.exitDescription})`);
    this.hold();
    try {
      const reply = await new Promise<string>((resolve, reject) => {
        const timer = setTimeout(() => {
          this.waiter = undefined;
          // The reply stream can no longer be trusted to line up with commands.
          this.child.kill('SIGKILL');
          reject(
            new Error(`KafkaMockCluster: no reply to "${line}" within ${COMMAND_TIMEOUT_MS} ms; mock killed`),
          );
        }, COMMAND_TIMEOUT_MS);
        this.waiter = {
          resolve: (reply) => {
            clearTimeout(timer);
            resolve(reply);
          },
          reject: (error) => {
            clearTimeout(timer);
            reject(error);
          },
        };
        this.child.stdin!.write(`${line}\n`);
      });
      if (reply === 'OK') return;
      if (reply.startsWith('ERR ')) throw new Error(`KafkaMockCluster: "${line}" failed: ${reply.slice(4)}`);
      throw new Error(`KafkaMockCluster: unexpected reply to "${line}": ${JSON.stringify(reply)}`);
    } finally {
      this.release();
    }
  }

  private onReply(line: string): void {
    const waiter = this.waiter;
    this.waiter = undefined;
    if (waiter) waiter.resolve(line);
    else this.replies.push(line); // unsolicited; kept for debugging
  }

  private onExit(code: number | null, signal: string | null, error?: Error): void {
    if (this.exited && this.exitDescription) return;
    this.exited = true;
    this.exitDescription = error
      ? `spawn error: ${error.message}`
      : `exited with code ${code}, signal ${signal}`;
    const waiter = this.waiter;
    this.waiter = undefined;
    const stderr = this.stderrTail.text.trim();
    waiter?.reject(
      new Error(
        `KafkaMockCluster: mock cluster ${this.exitDescription} while a command was in flight${stderr ? `; stderr:\n${stderr}` : ''}`,
      ),
    );
  }

  /** Keep the event loop alive while something is awaited on the child; let it go when idle. */
  private hold(): void {
    if (this.holds++ === 0) this.setRef(true);
  }

  private release(): void {
    if (this.holds > 0) this.holds--;
    if (this.holds === 0) this.setRef(false);
  }

  private setRef(on: boolean): void {
    const handles = [this.child, this.child.stdin, this.child.stdout, this.child.stderr] as Array<{
      ref?: () => void;
      unref?: () => void;
    } | null>;
    for (const h of handles) {
      if (!h) continue;
      if (on) h.ref?.();
      else h.unref?.();
    }
  }
}
