/**
 * npm run bench:gateway — the latency the gateway adds over calling the service directly (issue #6).
 *
 * Everything runs as it does in the distributed mode: the gateway (apps/gateway/src/main.ts) as its own
 * process with its own PostgreSQL database (audit outbox) and the Kafka mock cluster (the outbox relay
 * really publishes every audit event), and a service behind it as another process
 * (tools/bench/gateway-upstream.ts) that verifies the signed identity on every request as the real
 * services do. The measured request is `GET /api/v1/tenants/<tenant>/volumes` (route → resource-manager,
 * allowed for tenant-admin), answered with ≈200 bytes of JSON:
 *
 *  - direct:  the same path on the service, with an identity header the bench signs (re-signed every 10 s);
 *  - gateway: through the gateway with `X-Auth-Token` (token validated once, then served from the
 *    gateway's token cache: Keystone is not on the measured path).
 *
 * Open loop at fixed rates (request i is sent at t0 + i/rate; latency is counted from that scheduled
 * time, so a stall is not hidden by sending less — no coordinated omission), keep-alive connections.
 * Direct and gateway run in alternating slices so machine noise hits both alike, after a warm-up per
 * target. The slices are short (1 s by default): this machine has stalls of a few hundred ms that
 * delay every request in flight, and with 4 s slices one stall decided which target's p99 it raised;
 * shorter slices spread each stall over more of them (runs still differ by about ±0.7 ms). Then
 * saturation: a closed loop of BENCH_CONCURRENCY callers against each. Prints, per rate: p50/p90/p99/max
 * per target and the overhead (gateway minus direct), errors (any non-200); what the
 * gateway reports about its slices on /metrics (its own time per request, event-loop delay, GC pauses);
 * CPU per request of the gateway and of the service (from /proc); then saturation, the processes' CPU
 * and memory, how much other work competed for the machine (a shared machine inflates the tail), the
 * connections opened, the identities the service verified, and that exactly one audit event per request
 * reached Kafka. Target (issue #6): p99 overhead ≤ 2 ms at 500 requests/s. Exits 0 whether the target
 * is met or not (tests assert behaviour); 1 when the bench itself fails.
 *
 * Environment: BENCH_RATES (500,2000 requests/s), BENCH_SECONDS (20: measured seconds per target and
 * rate), BENCH_SLICES (20), BENCH_WARMUP_SECONDS (2), BENCH_CONCURRENCY (64), BENCH_SATURATION_SECONDS
 * (10), BENCH_KEYSTONE (`dev`, the default: the gateway's development identity provider; `real`: a
 * real Keystone from @stratum/testing's KeystoneBench), BENCH_GATEWAY_NODE_OPTIONS (Node options for the
 * gateway process only, e.g. `--cpu-prof --cpu-prof-dir=/tmp/gw-prof` to profile it, or
 * `--heapsnapshot-signal=SIGUSR2`), BENCH_GATEWAY_LOG (a file to write the gateway's whole output to),
 * BENCH_DEBUG (print the gateway's URL, database and pid at start), BENCH_BARE_PROXY=1 (also measure
 * tools/bench/bare-proxy.ts in the same slices: the least one Node proxy hop costs on this machine, to
 * read the gateway's overhead against). The gateway's own variables (e.g.
 * AUDIT_FLUSH_MS) are passed on from the environment, except those the bench sets.
 * Needs the local PostgreSQL (see libs/testing/src/lib/postgres.ts).
 */
import { generateIdentityKeyPair, IDENTITY_HEADER, type PlatformRole, signIdentity } from '@stratum/authz';
import { EventRecorded, TOPIC_CATALOG } from '@stratum/contracts';
import {
  createTestDatabase,
  freePortBase,
  KafkaMockCluster,
  KeystoneBench,
  runTs,
  type RunningProcess,
  type TestDatabase,
} from '@stratum/testing';
import { percentile, waitFor } from '@stratum/util';
import { KafkaJS } from '@confluentinc/kafka-javascript';
import { execFileSync } from 'node:child_process';
import { cpus, loadavg, tmpdir } from 'node:os';
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { Agent, request } from 'node:http';
import { join } from 'node:path';
import { Client } from 'pg';

const rates = (process.env.BENCH_RATES ?? '500,2000').split(',').map((r) => Number(r.trim()));
const measuredSeconds = Number(process.env.BENCH_SECONDS ?? 20);
const slices = Math.max(1, Number(process.env.BENCH_SLICES ?? 20));
const warmupSeconds = Number(process.env.BENCH_WARMUP_SECONDS ?? 2);
const concurrency = Number(process.env.BENCH_CONCURRENCY ?? 64);
const saturationSeconds = Number(process.env.BENCH_SATURATION_SECONDS ?? 10);
const keystoneMode = process.env.BENCH_KEYSTONE === 'real' ? 'real' : 'dev';
/** Also measure tools/bench/bare-proxy.ts, the least a Node proxy hop costs here, as a reference. */
const withBareProxy = process.env.BENCH_BARE_PROXY === '1';
const TARGET_RATE = 500;
const TARGET_P99_OVERHEAD_MS = 2;
const REQUEST_TIMEOUT_MS = 10_000;

type TargetName = 'direct' | 'gateway' | 'proxy';

interface Target {
  name: TargetName;
  port: number;
  path: string;
  headers(): Record<string, string>;
}

/** What a batch of requests produced. */
interface Sample {
  latencies: number[];
  /** Requests sent (each either answered or failed). */
  sent: number;
  errors: Map<string, number>;
  /** Seconds from the first scheduled send to the last answer. */
  spanSeconds: number;
  /** How late the client sent each request after its scheduled time (client saturation check). */
  sendLag: number[];
}

const emptySample = (): Sample => ({
  latencies: [],
  sent: 0,
  errors: new Map(),
  spanSeconds: 0,
  sendLag: [],
});

function merge(into: Sample, from: Sample): void {
  for (const l of from.latencies) into.latencies.push(l);
  for (const l of from.sendLag) into.sendLag.push(l);
  into.sent += from.sent;
  into.spanSeconds += from.spanSeconds;
  for (const [k, v] of from.errors) into.errors.set(k, (into.errors.get(k) ?? 0) + v);
}

// One keep-alive pool per target (the agent keys its pools by host:port). The idle timeout makes the
// agent honour the servers' `Keep-Alive: timeout=5` (it closes an idle connection a second before they
// do), so a connection idle while the other target is measured is not reused as the server closes it.
const agent = new Agent({
  keepAlive: true,
  maxSockets: 256,
  maxFreeSockets: 256,
  scheduling: 'lifo',
  timeout: 60_000,
});
/** Every request sent to the gateway's API (each answered one must become one audit event). */
let gatewayApiRequests = 0;
/**
 * Gateway requests that failed at the client without an answer (e.g. a reused keep-alive connection
 * reset): each may or may not have reached the gateway, so may or may not have an audit event.
 */
let gatewayUnanswered = 0;
/** TCP connections the bench opened, per target (keep-alive: few, unless answers stall). */
const seenSockets = new WeakSet<object>();
const connectionsOpened: Record<TargetName, number> = { direct: 0, gateway: 0, proxy: 0 };

/** One GET; calls back with the status (0: no answer) and the time the whole answer was read. */
function send(target: Target, done: (status: number, endedAt: number, error?: string) => void): void {
  if (target.name === 'gateway') gatewayApiRequests++;
  let finished = false;
  const finish = (status: number, error?: string) => {
    if (finished) return;
    finished = true;
    if (target.name === 'gateway' && status === 0) gatewayUnanswered++;
    done(status, performance.now(), error);
  };
  const req = request(
    {
      host: '127.0.0.1',
      port: target.port,
      path: target.path,
      method: 'GET',
      headers: target.headers(),
      agent,
    },
    (res) => {
      res.on('data', () => undefined);
      res.on('end', () => finish(res.statusCode ?? 0));
      res.on('error', (error: NodeJS.ErrnoException) => finish(0, error.code ?? error.message));
    },
  );
  req.on('socket', (socket) => {
    if (seenSockets.has(socket)) return;
    seenSockets.add(socket);
    connectionsOpened[target.name]++;
  });
  req.setTimeout(REQUEST_TIMEOUT_MS, () => req.destroy(new Error('client timeout')));
  req.on('error', (error: NodeJS.ErrnoException) => finish(0, error.code ?? error.message));
  req.end();
}

function countResult(sample: Sample, status: number, error: string | undefined): boolean {
  if (status === 200) return true;
  const key = status === 0 ? (error ?? 'no answer') : String(status);
  sample.errors.set(key, (sample.errors.get(key) ?? 0) + 1);
  return false;
}

/** Open loop: request i at t0 + i/rate; latency from that scheduled time to the last byte of the answer. */
function openLoop(target: Target, rate: number, seconds: number): Promise<Sample> {
  const total = Math.max(1, Math.round(rate * seconds));
  const interval = 1000 / rate;
  const sample = emptySample();
  const t0 = performance.now() + 2;
  let lastEnd = t0;
  let next = 0;
  let answered = 0;
  return new Promise((resolve) => {
    const tick = () => {
      const now = performance.now();
      while (next < total && t0 + next * interval <= now) {
        const scheduled = t0 + next * interval;
        next++;
        sample.sendLag.push(now - scheduled);
        sample.sent++;
        send(target, (status, endedAt, error) => {
          if (countResult(sample, status, error)) sample.latencies.push(endedAt - scheduled);
          if (endedAt > lastEnd) lastEnd = endedAt;
          if (++answered === total) {
            sample.spanSeconds = (lastEnd - t0) / 1000;
            resolve(sample);
          }
        });
      }
      if (next < total) setTimeout(tick, Math.max(0, t0 + next * interval - performance.now()));
    };
    tick();
  });
}

/** Closed loop: `callers` each send the next request when the previous is answered, for `seconds`. */
async function closedLoop(target: Target, callers: number, seconds: number): Promise<Sample> {
  const sample = emptySample();
  const started = performance.now();
  const end = started + seconds * 1000;
  const one = () =>
    new Promise<void>((resolve) => {
      const sentAt = performance.now();
      sample.sent++;
      send(target, (status, endedAt, error) => {
        if (countResult(sample, status, error)) sample.latencies.push(endedAt - sentAt);
        resolve();
      });
    });
  await Promise.all(
    Array.from({ length: callers }, async () => {
      while (performance.now() < end) await one();
    }),
  );
  sample.spanSeconds = (performance.now() - started) / 1000;
  return sample;
}

// ---------------------------------------------------------------------------------------------
// CPU and memory of the child processes, from /proc (Linux).

const clockTicks = (() => {
  try {
    return Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim()) || 100;
  } catch {
    return 100;
  }
})();

/** User + system CPU time of a process (all its threads), in ms; NaN when /proc cannot tell. */
function cpuMs(pid: number | undefined): number {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return ((Number(fields[11]) + Number(fields[12])) * 1000) / clockTicks;
  } catch {
    return Number.NaN;
  }
}

/** The processes a process started (Linux: /proc/<pid>/task/<tid>/children), e.g. the gateway's audit process. */
function childPids(pid: number | undefined): number[] {
  try {
    return readdirSync(`/proc/${pid}/task`).flatMap((tid) =>
      readFileSync(`/proc/${pid}/task/${tid}/children`, 'utf8').split(' ').filter(Boolean).map(Number),
    );
  } catch {
    return [];
  }
}

/** CPU of a process and the processes it started (the gateway and its audit process), in ms. */
function treeCpuMs(pid: number | undefined): number {
  return childPids(pid).reduce((sum, child) => sum + treeCpuMs(child), cpuMs(pid));
}

/** CPU time the whole machine spent busy (all cores, anything not idle or waiting for I/O), in ms. */
function machineBusyMs(): number {
  try {
    const fields = readFileSync('/proc/stat', 'utf8').split('\n')[0].trim().split(/\s+/).slice(1).map(Number);
    const total = fields.reduce((a, b) => a + b, 0);
    return ((total - fields[3] - fields[4]) * 1000) / clockTicks;
  } catch {
    return Number.NaN;
  }
}

/** Resident set size of a process in MB: now (VmRSS) or its peak (VmHWM). */
function rssMb(pid: number | undefined, which: 'VmRSS' | 'VmHWM' = 'VmHWM'): number {
  try {
    const match = new RegExp(`${which}:\\s+(\\d+) kB`).exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return match ? Number(match[1]) / 1024 : Number.NaN;
  } catch {
    return Number.NaN;
  }
}

// ---------------------------------------------------------------------------------------------
// What the gateway says about itself on /metrics (prom-client's default metrics and its own histogram).

interface GatewayInternals {
  /** Event-loop delay of the last interval (prom-client resets it on every scrape), ms beyond its 10 ms timer. */
  loopDelayP99: number;
  loopDelayMax: number;
  /** Cumulative GC pauses by kind: count, total seconds, count over 10 ms. */
  gc: Map<string, { count: number; seconds: number; over10ms: number }>;
  /** Cumulative proxied requests to resource-manager answered 200, by the gateway's own time: bucket → count. */
  ownTime: Map<number, number>;
}

async function scrapeGateway(url: string): Promise<GatewayInternals> {
  const text = await (await fetch(`${url}/metrics`)).text();
  const value = (re: RegExp) => Number(re.exec(text)?.[1] ?? Number.NaN);
  // prom-client samples the loop with a 10 ms timer and reports the whole interval.
  const beyondTimer = (seconds: number) => Math.max(0, seconds * 1000 - 10);
  const gc = new Map<string, { count: number; seconds: number; over10ms: number }>();
  for (const kind of ['minor', 'major', 'incremental']) {
    const count = value(new RegExp(`nodejs_gc_duration_seconds_count\\{[^}]*kind="${kind}"[^}]*\\} (\\S+)`));
    const seconds = value(new RegExp(`nodejs_gc_duration_seconds_sum\\{[^}]*kind="${kind}"[^}]*\\} (\\S+)`));
    const upTo10ms = value(
      new RegExp(`nodejs_gc_duration_seconds_bucket\\{le="0\\.01",[^}]*kind="${kind}"[^}]*\\} (\\S+)`),
    );
    gc.set(kind, {
      count: count || 0,
      seconds: seconds || 0,
      over10ms: (count || 0) - (upTo10ms || 0),
    });
  }
  const ownTime = new Map<number, number>();
  const bucket =
    /stratum_gateway_request_duration_seconds_bucket\{le="([^"]+)",[^}]*service="resource-manager",status="200"[^}]*\} (\S+)/g;
  for (const match of text.matchAll(bucket)) {
    ownTime.set(match[1] === '+Inf' ? Number.POSITIVE_INFINITY : Number(match[1]), Number(match[2]));
  }
  return {
    loopDelayP99: beyondTimer(value(/nodejs_eventloop_lag_p99_seconds\{[^}]*\} (\S+)/)),
    loopDelayMax: beyondTimer(value(/nodejs_eventloop_lag_max_seconds\{[^}]*\} (\S+)/)),
    gc,
    ownTime,
  };
}

/** The change of the cumulative figures from `before` to `after`; the loop delay of the interval. */
function internalsBetween(before: GatewayInternals, after: GatewayInternals): GatewayInternals {
  const gc = new Map<string, { count: number; seconds: number; over10ms: number }>();
  for (const [kind, a] of after.gc) {
    const b = before.gc.get(kind) ?? { count: 0, seconds: 0, over10ms: 0 };
    gc.set(kind, {
      count: a.count - b.count,
      seconds: a.seconds - b.seconds,
      over10ms: a.over10ms - b.over10ms,
    });
  }
  const ownTime = new Map<number, number>();
  for (const [le, count] of after.ownTime) ownTime.set(le, count - (before.ownTime.get(le) ?? 0));
  return { loopDelayP99: after.loopDelayP99, loopDelayMax: after.loopDelayMax, gc, ownTime };
}

function addInternals(into: GatewayInternals | undefined, from: GatewayInternals): GatewayInternals {
  if (!into) return from;
  for (const [kind, v] of from.gc) {
    const t = into.gc.get(kind) ?? { count: 0, seconds: 0, over10ms: 0 };
    into.gc.set(kind, {
      count: t.count + v.count,
      seconds: t.seconds + v.seconds,
      over10ms: t.over10ms + v.over10ms,
    });
  }
  for (const [le, count] of from.ownTime) into.ownTime.set(le, (into.ownTime.get(le) ?? 0) + count);
  into.loopDelayP99 = Math.max(into.loopDelayP99, from.loopDelayP99);
  into.loopDelayMax = Math.max(into.loopDelayMax, from.loopDelayMax);
  return into;
}

// ---------------------------------------------------------------------------------------------

const cleanups: { what: string; run: () => Promise<unknown> | unknown }[] = [];
let cleaning: Promise<void> | undefined;
function cleanup(): Promise<void> {
  return (cleaning ??= (async () => {
    for (const { what, run } of cleanups.reverse()) {
      try {
        await run();
      } catch (error) {
        console.error(`cleanup: ${what}: ${(error as Error).message}`);
      }
    }
  })());
}

async function waitReady(url: string, run: RunningProcess, what: string): Promise<void> {
  const deadline = Date.now() + 60_000;
  for (;;) {
    // A process that exited (bad configuration, say) fails at once, with its output.
    if (run.child.exitCode !== null || run.child.signalCode !== null)
      throw new Error(
        `${what} exited (${run.child.exitCode ?? run.child.signalCode}):\n${run.output().slice(-3000)}`,
      );
    const response = await fetch(url).catch(() => undefined);
    if (response?.status === 200) return;
    if (Date.now() > deadline)
      throw new Error(`${what} not ready after 60 s (${url}):\n${run.output().slice(-3000)}`);
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
}

/** CPU ms of each PostgreSQL backend serving `database` (the gateway's pool and its relay), by pid. */
async function backendCpu(databaseUrl: string, databaseName: string): Promise<Map<number, number>> {
  const client = new Client({ connectionString: databaseUrl });
  await client.connect();
  try {
    const { rows } = await client.query<{ pid: number }>(
      'SELECT pid FROM pg_stat_activity WHERE datname = $1 AND pid <> pg_backend_pid()',
      [databaseName],
    );
    return new Map(rows.map((r) => [r.pid, cpuMs(r.pid)]));
  } finally {
    await client.end();
  }
}

async function auditEventsOnKafka(bootstrapServers: string): Promise<number> {
  const admin = new KafkaJS.Kafka({
    kafkaJS: { brokers: bootstrapServers.split(','), logLevel: KafkaJS.logLevel.NOTHING },
  }).admin();
  await admin.connect();
  try {
    const offsets = await admin.fetchTopicOffsets(EventRecorded.Topic.name);
    // The high watermark: the topic started empty. (The mock drops a partition's oldest messages beyond
    // 5 MB, so the low watermark moves and high − low would undercount.)
    return offsets.reduce((sum, p) => sum + Number(p.high), 0);
  } finally {
    await admin.disconnect();
  }
}

async function main(): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'stratum-bench-gw-'));
  cleanups.push({ what: 'temp dir', run: () => rmSync(dir, { recursive: true, force: true }) });

  // The gateway's signing key; the service gets only the public half.
  const keyPair = generateIdentityKeyPair();
  const privateKeyFile = join(dir, 'identity-private.pem');
  const publicKeyFile = join(dir, 'identity-public.pem');
  writeFileSync(privateKeyFile, keyPair.privateKeyPem, { mode: 0o600 });
  writeFileSync(publicKeyFile, keyPair.publicKeyPem, { mode: 0o600 });

  const database: TestDatabase = await createTestDatabase('bench_gateway');
  cleanups.push({ what: 'database', run: () => database.drop() });
  const kafka = await KafkaMockCluster.start({
    brokers: 1,
    groupInitialRebalanceDelayMs: 0,
    topics: TOPIC_CATALOG.map((t) => ({ name: t.name, partitions: t.partitions })),
  });
  cleanups.push({ what: 'kafka mock', run: () => kafka.stop() });

  const upstream = runTs('tools/bench/gateway-upstream.ts', {
    BENCH_UPSTREAM_PORT: '0',
    BENCH_UPSTREAM_PUBLIC_KEY: publicKeyFile,
  });
  cleanups.push({ what: 'upstream process', run: () => upstream.stop('SIGTERM') });
  let upstreamPort = 0;
  await waitFor(
    () => {
      if (upstream.child.exitCode !== null) throw new Error(`upstream exited: ${upstream.output()}`);
      upstreamPort = Number(/READY (\d+)/.exec(upstream.output())?.[1] ?? 0);
      return upstreamPort > 0;
    },
    { timeoutMs: 30_000, intervalMs: 50, description: 'upstream ready' },
  );

  let identityEnv: Record<string, string> = { STRATUM_DEV_IDENTITY: 'enabled' };
  let login = { username: 'retail-admin', password: 'stratum-demo', project: 'demo-retail' };
  let identityDescription = 'the gateway’s development identity provider (STRATUM_DEV_IDENTITY=enabled)';
  if (keystoneMode === 'real') {
    const keystone = await KeystoneBench.start();
    cleanups.push({ what: 'keystone', run: () => keystone.stop() });
    const service = await keystone.createServiceUser();
    const projectId = await keystone.createProject('bench-retail');
    const userId = await keystone.createUser('bench-retail-admin', 'Bench-pass-1');
    await keystone.assignRole({ userId, projectId, roleName: 'stratum-tenant-admin' });
    identityEnv = {
      KEYSTONE_URL: keystone.url,
      KEYSTONE_SERVICE_USERNAME: service.username,
      KEYSTONE_SERVICE_PASSWORD: service.password,
    };
    login = { username: 'bench-retail-admin', password: 'Bench-pass-1', project: 'bench-retail' };
    identityDescription = 'a real Keystone (KeystoneBench, Fernet tokens)';
  }

  let bareProxy: RunningProcess | undefined;
  let bareProxyPort = 0;
  if (withBareProxy) {
    const proxy = runTs('tools/bench/bare-proxy.ts', { UPSTREAM_PORT: String(upstreamPort), HTTP_PORT: '0' });
    bareProxy = proxy;
    cleanups.push({ what: 'bare proxy process', run: () => proxy.stop('SIGTERM') });
    await waitFor(
      () => {
        if (proxy.child.exitCode !== null) throw new Error(`bare proxy exited: ${proxy.output()}`);
        bareProxyPort = Number(/READY (\d+)/.exec(proxy.output())?.[1] ?? 0);
        return bareProxyPort > 0;
      },
      { timeoutMs: 30_000, intervalMs: 50, description: 'bare proxy ready' },
    );
  }

  const gatewayPort = await freePortBase(1);
  const gatewayNodeOptions = process.env.BENCH_GATEWAY_NODE_OPTIONS ?? '';
  const gateway = runTs('apps/gateway/src/main.ts', {
    HTTP_PORT: String(gatewayPort),
    HTTP_HOST: '127.0.0.1',
    KAFKA_BROKERS: kafka.bootstrapServers,
    DATABASE_URL: database.url,
    STRATUM_IDENTITY_PRIVATE_KEY: privateKeyFile,
    UPSTREAM_RESOURCE_MANAGER: `http://127.0.0.1:${upstreamPort}`,
    // 0 would skip the limiter altogether; a limit it never reaches keeps its cost on the path.
    RATE_LIMIT_PER_TENANT: '1000000',
    RATE_LIMIT_BURST: '1000000',
    TOKEN_CACHE_TTL_SECONDS: '300',
    LOG_LEVEL: 'warn',
    ...identityEnv,
    ...(gatewayNodeOptions ? { NODE_OPTIONS: gatewayNodeOptions } : {}),
  });
  cleanups.push({ what: 'gateway process', run: () => gateway.stop('SIGTERM') });
  const gatewayUrl = `http://127.0.0.1:${gatewayPort}`;
  await waitReady(`${gatewayUrl}/health/ready`, gateway, 'gateway');
  if (process.env.BENCH_DEBUG) console.error(`DEBUG ${gatewayUrl} ${database.url} ${gateway.child.pid}`);

  // The caller: one login (audited as auth.login), then the token is only ever served from the cache.
  const loginResponse = await fetch(`${gatewayUrl}/api/v1/auth/tokens`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(login),
  });
  if (loginResponse.status !== 201)
    throw new Error(`login refused: ${loginResponse.status} ${await loginResponse.text()}`);
  const session = (await loginResponse.json()) as {
    token: string;
    user: { id: string; name: string };
    tenant: { id: string; name?: string };
    roles: PlatformRole[];
  };
  const path = `/api/v1/tenants/${session.tenant.id}/volumes`;

  // Direct calls carry an identity the bench signs like the gateway does (tokens live 30 s).
  const signDirect = () =>
    signIdentity(
      {
        userId: session.user.id,
        userName: session.user.name,
        tenantId: session.tenant.id,
        tenantName: session.tenant.name,
        roles: session.roles,
        requestId: 'bench-direct',
      },
      keyPair.privateKey,
    );
  let directIdentity = signDirect();
  const resign = setInterval(() => (directIdentity = signDirect()), 10_000);
  cleanups.push({ what: 'identity re-signing', run: () => clearInterval(resign) });

  const targets: Record<TargetName, Target> = {
    direct: {
      name: 'direct',
      port: upstreamPort,
      path,
      headers: () => ({ [IDENTITY_HEADER]: directIdentity, 'x-request-id': 'bench-direct' }),
    },
    gateway: {
      name: 'gateway',
      port: gatewayPort,
      path,
      headers: () => ({ 'x-auth-token': session.token }),
    },
    // The reference hop passes the direct call's signed identity on untouched.
    proxy: {
      name: 'proxy',
      port: bareProxyPort,
      path,
      headers: () => ({ [IDENTITY_HEADER]: directIdentity, 'x-request-id': 'bench-proxy' }),
    },
  };
  const measured: TargetName[] = withBareProxy ? ['direct', 'proxy', 'gateway'] : ['direct', 'gateway'];

  // The first request validates the token (the only identity-provider call); everything after is cached.
  const first = await openLoop(targets.gateway, 10, 0.1);
  if (first.errors.size)
    throw new Error(`first request through the gateway failed: ${[...first.errors.keys()]}`);

  const runStartedCpu = {
    gateway: treeCpuMs(gateway.child.pid),
    upstream: cpuMs(upstream.child.pid),
    kafka: cpuMs(kafka.pid),
    proxy: bareProxy ? cpuMs(bareProxy.child.pid) : 0,
    machine: machineBusyMs(),
  };
  const loadBefore = loadavg()[0];
  const backendsBefore = await backendCpu(database.url, database.name);
  const gatewayRssAtStart = rssMb(gateway.child.pid, 'VmRSS');
  const benchCpuStart = process.cpuUsage();
  const runStarted = performance.now();

  interface RateResult {
    rate: number;
    direct: Sample;
    gateway: Sample;
    /** The bare proxy (BENCH_BARE_PROXY=1; empty otherwise). */
    proxy: Sample;
    /**
     * CPU ms of the gateway and the service processes during each target's slices (during the direct
     * slices no request reaches the gateway: what it uses then is its background work).
     */
    cpu: Record<TargetName, { gateway: number; service: number }>;
    /** The gateway's own view of its slices (GC, event-loop delay, time per request). */
    internals?: GatewayInternals;
  }
  const results: RateResult[] = [];
  const sliceSeconds = measuredSeconds / slices;
  for (const rate of rates) {
    process.stderr.write(`  ${rate}/s: warm-up`);
    for (const name of measured) await openLoop(targets[name], rate, warmupSeconds);
    const result: RateResult = {
      rate,
      direct: emptySample(),
      gateway: emptySample(),
      proxy: emptySample(),
      cpu: {
        direct: { gateway: 0, service: 0 },
        gateway: { gateway: 0, service: 0 },
        proxy: { gateway: 0, service: 0 },
      },
    };
    for (let slice = 0; slice < slices; slice++) {
      process.stderr.write(` · slice ${slice + 1}/${slices}`);
      // Each target first, middle and last in turn, so machine noise hits them alike.
      const order = measured.map((_, i) => measured[(i + slice) % measured.length]);
      if (slice % 2 === 1) order.reverse();
      for (const name of order) {
        // Scraping resets the gateway's event-loop delay histogram: the next scrape covers this slice.
        const internalsBefore = name === 'gateway' ? await scrapeGateway(gatewayUrl) : undefined;
        const before = { gateway: treeCpuMs(gateway.child.pid), service: cpuMs(upstream.child.pid) };
        merge(result[name], await openLoop(targets[name], rate, sliceSeconds));
        result.cpu[name].gateway += treeCpuMs(gateway.child.pid) - before.gateway;
        result.cpu[name].service += cpuMs(upstream.child.pid) - before.service;
        if (internalsBefore) {
          const during = internalsBetween(internalsBefore, await scrapeGateway(gatewayUrl));
          result.internals = addInternals(result.internals, during);
        }
      }
    }
    process.stderr.write('\n');
    results.push(result);
  }

  process.stderr.write(
    `  saturation: gateway, then direct (${concurrency} callers × ${saturationSeconds} s)\n`,
  );
  const snapshot = () => ({ gateway: treeCpuMs(gateway.child.pid), service: cpuMs(upstream.child.pid) });
  const since = (before: { gateway: number; service: number }) => {
    const now = snapshot();
    return { gateway: now.gateway - before.gateway, service: now.service - before.service };
  };
  let cpuBefore = snapshot();
  const saturationGateway = await closedLoop(targets.gateway, concurrency, saturationSeconds);
  const saturationGatewayCpu = since(cpuBefore);
  cpuBefore = snapshot();
  const saturationDirect = await closedLoop(targets.direct, concurrency, saturationSeconds);
  const saturationDirectCpu = since(cpuBefore);
  const runSeconds = (performance.now() - runStarted) / 1000;
  const benchCpu = process.cpuUsage(benchCpuStart);
  const processCpu = {
    gateway: treeCpuMs(gateway.child.pid) - runStartedCpu.gateway,
    upstream: cpuMs(upstream.child.pid) - runStartedCpu.upstream,
    kafka: cpuMs(kafka.pid) - runStartedCpu.kafka,
    proxy: bareProxy ? cpuMs(bareProxy.child.pid) - runStartedCpu.proxy : 0,
    machine: machineBusyMs() - runStartedCpu.machine,
  };
  const loadAfter = loadavg()[0];
  let postgresCpu = 0;
  for (const [pid, ms] of await backendCpu(database.url, database.name))
    if (Number.isFinite(ms)) postgresCpu += ms - (backendsBefore.get(pid) ?? 0);
  const rss = {
    gateway: rssMb(gateway.child.pid),
    upstream: rssMb(upstream.child.pid),
    gatewayEnd: rssMb(gateway.child.pid, 'VmRSS'),
    audit: childPids(gateway.child.pid).reduce((sum, pid) => sum + rssMb(pid, 'VmRSS'), 0),
  };

  // What the service saw: every identity must have verified.
  const upstreamStats = (await (await fetch(`http://127.0.0.1:${upstreamPort}/__bench/stats`)).json()) as {
    requests: number;
    ok: number;
    rejected: number;
    lastRejection: string;
    connections: number;
  };

  // One audit event per API request, plus the login's auth.login, on Kafka (the outbox drained).
  const expectedAudit = gatewayApiRequests - gatewayUnanswered + 1;
  let audited = 0;
  let outboxPending = Number.NaN;
  try {
    await waitFor(
      async () => {
        audited = await auditEventsOnKafka(kafka.bootstrapServers);
        return audited >= expectedAudit;
      },
      { timeoutMs: 30_000, intervalMs: 500, description: 'audit events on Kafka' },
    );
  } catch {
    // reported below
  }
  const pg = new Client({ connectionString: database.url });
  await pg.connect();
  try {
    outboxPending = Number((await pg.query('SELECT count(*)::int AS n FROM outbox')).rows[0].n);
  } finally {
    await pg.end();
  }

  // ------------------------------------------------------------------------------------------
  const cpuModel = cpus()[0]?.model.replace(/\s+/g, ' ').trim() ?? 'unknown CPU';
  const f = (v: number, digits = 2) => (Number.isFinite(v) ? v.toFixed(digits) : '—');
  const pad = (s: string, n: number) => s.padStart(n);
  const errorsOf = (s: Sample) => {
    const total = [...s.errors.values()].reduce((a, b) => a + b, 0);
    return total === 0 ? '0' : `${total} (${[...s.errors].map(([k, v]) => `${k}×${v}`).join(', ')})`;
  };

  console.log('\nbench:gateway — latency the gateway adds over calling the service directly (issue #6)\n');
  console.log(
    `  machine          ${cpus().length} CPUs (${cpuModel}), Node ${process.version}, PostgreSQL, Kafka mock (1 broker)`,
  );
  console.log(
    '  processes        bench client, gateway, service (upstream), Kafka mock and PostgreSQL share the machine',
  );
  console.log(
    `  identity         ${identityDescription}; the token was validated once, then served from the gateway's cache ` +
      '(TOKEN_CACHE_TTL_SECONDS=300): Keystone is not on the measured path',
  );
  console.log(
    `  request          GET /api/v1/tenants/<tenant>/volumes → resource-manager route, tenant-admin, ≈200-byte JSON answer`,
  );
  console.log(
    '                   direct: the same path on the service with an identity signed by the bench; both verified there',
  );
  console.log(
    '  rate limiter     on at 1,000,000 requests/s per tenant (never refuses; its cost is on the path)',
  );
  console.log(
    `  audit            every request → the gateway's audit process → outbox (group commit every ${process.env.AUDIT_FLUSH_MS ? `${process.env.AUDIT_FLUSH_MS} ms, AUDIT_FLUSH_MS` : "AUDIT_FLUSH_MS, the gateway's default"}) → relay → Kafka, during the run`,
  );
  console.log(
    `  load             open loop, latency from each request's scheduled send time; ${slices} alternating slices × ` +
      `${f(sliceSeconds, 1)} s per target and rate after ${warmupSeconds} s of warm-up each; keep-alive connections\n`,
  );
  console.log(
    '  rate       target      requests  achieved/s    p50 ms    p90 ms    p99 ms    max ms   send lag p99   errors',
  );
  for (const r of results) {
    for (const name of measured) {
      const s = r[name];
      console.log(
        `  ${pad(`${r.rate}/s`, 7)}    ${name.padEnd(8)} ${pad(String(s.sent), 11)} ${pad(f(s.sent / s.spanSeconds, 1), 11)}` +
          ` ${pad(f(percentile(s.latencies, 50)), 9)} ${pad(f(percentile(s.latencies, 90)), 9)}` +
          ` ${pad(f(percentile(s.latencies, 99)), 9)} ${pad(f(percentile(s.latencies, 100)), 9)}` +
          ` ${pad(f(percentile(s.sendLag, 99)), 11)} ms   ${errorsOf(s)}`,
      );
    }
    const overheadRow = (label: string, of: Sample) => {
      const over = (p: number) => percentile(of.latencies, p) - percentile(r.direct.latencies, p);
      console.log(
        `  ${pad('', 7)}    ${label.padEnd(32)} ${pad(`+${f(over(50))}`, 9)} ${pad(`+${f(over(90))}`, 9)}` +
          ` ${pad(`+${f(over(99))}`, 9)}`,
      );
    };
    if (withBareProxy) overheadRow('bare proxy overhead', r.proxy);
    overheadRow(withBareProxy ? 'gateway overhead' : 'overhead', r.gateway);
  }

  console.log('\n  inside the gateway during its slices (from its /metrics)');
  console.log(
    '  rate       own time > 1 ms   > 2 ms   > 5 ms  > 10 ms   loop delay p99 / max   GC pauses (count, total, over 10 ms)',
  );
  for (const r of results) {
    const i = r.internals;
    if (!i) continue;
    const total = i.ownTime.get(Number.POSITIVE_INFINITY) ?? 0;
    const over = (le: number) => `${f((100 * (total - (i.ownTime.get(le) ?? 0))) / Math.max(1, total), 1)}%`;
    const gc = [...i.gc]
      .filter(([, v]) => v.count > 0)
      .map(([kind, v]) => `${kind} ${v.count}, ${f(v.seconds * 1000, 0)} ms, ${v.over10ms}`)
      .join('; ');
    console.log(
      `  ${pad(`${r.rate}/s`, 7)}    ${pad(over(0.001), 16)} ${pad(over(0.002), 8)} ${pad(over(0.005), 8)} ${pad(over(0.01), 8)}` +
        `   ${pad(`${f(i.loopDelayP99, 1)} / ${f(i.loopDelayMax, 0)} ms`, 20)}   ${gc || 'none'}`,
    );
  }
  console.log(
    "  (own time: the gateway's stratum_gateway_request_duration_seconds, from its handler's start to the answer's end)",
  );

  console.log(
    '\n  CPU per request (user + system, all threads, from /proc; the gateway with its audit process) and share of one core',
  );
  console.log(
    '  rate       gateway                 service, via gateway    service, direct         gateway while idle',
  );
  const perRequest = (ms: number, s: Sample) =>
    `${f((ms * 1000) / s.sent, 0).padStart(5)} µs (${f(ms / 10 / s.spanSeconds, 0).padStart(2)}%)`.padEnd(24);
  for (const r of results) {
    console.log(
      `  ${pad(`${r.rate}/s`, 7)}    ${perRequest(r.cpu.gateway.gateway, r.gateway)}${perRequest(r.cpu.gateway.service, r.gateway)}` +
        `${perRequest(r.cpu.direct.service, r.direct)}${f(r.cpu.direct.gateway / 10 / r.direct.spanSeconds, 0)}% of a core`,
    );
  }

  console.log(`\n  saturation (closed loop, ${concurrency} concurrent callers, ${saturationSeconds} s each)`);
  console.log(
    '  target      requests/s    p50 ms    p99 ms   gateway CPU             service CPU             errors',
  );
  for (const [name, s, cpu] of [
    ['gateway', saturationGateway, saturationGatewayCpu],
    ['direct', saturationDirect, saturationDirectCpu],
  ] as const) {
    console.log(
      `  ${name.padEnd(8)} ${pad(f(s.latencies.length / s.spanSeconds, 0), 13)} ${pad(f(percentile(s.latencies, 50)), 9)}` +
        ` ${pad(f(percentile(s.latencies, 99)), 9)}   ${name === 'gateway' ? perRequest(cpu.gateway, s) : '—'.padEnd(24)}` +
        `${perRequest(cpu.service, s)}${errorsOf(s)}`,
    );
  }
  console.log('  (every process shares the 2 cores: the client, the gateway, the service, PostgreSQL)');

  console.log(`\n  processes over the run (${f(runSeconds, 0)} s)`);
  console.log(
    `  gateway          CPU ${f(processCpu.gateway / 1000, 1)} s (${f(processCpu.gateway / 10 / runSeconds, 0)}% of a core), RSS ${f(gatewayRssAtStart, 0)} MB before the load, ${f(rss.gateway, 0)} MB at most, ${f(rss.gatewayEnd, 0)} MB after; its audit process ${f(rss.audit, 0)} MB after (CPU included)`,
  );
  console.log(
    `  service          CPU ${f(processCpu.upstream / 1000, 1)} s (${f(processCpu.upstream / 10 / runSeconds, 0)}% of a core), max RSS ${f(rss.upstream, 0)} MB`,
  );
  if (bareProxy) {
    const proxied = results.reduce((n, r) => n + r.proxy.sent, 0);
    console.log(
      `  bare proxy       CPU ${f(processCpu.proxy / 1000, 1)} s, ${f((processCpu.proxy * 1000) / Math.max(1, proxied), 0)} µs per request (tools/bench/bare-proxy.ts, the reference hop)`,
    );
  }
  const benchCpuMs = (benchCpu.user + benchCpu.system) / 1000;
  console.log(
    `  bench client     CPU ${f(benchCpuMs / 1000, 1)} s (${f(benchCpuMs / 10 / runSeconds, 0)}% of a core)`,
  );
  console.log(
    `  Kafka mock       CPU ${f(processCpu.kafka / 1000, 1)} s (${f(processCpu.kafka / 10 / runSeconds, 0)}% of a core)`,
  );
  console.log(
    `  PostgreSQL       CPU ${f(postgresCpu / 1000, 1)} s (${f(postgresCpu / 10 / runSeconds, 0)}% of a core) in the gateway's ` +
      'backends (audit commits, relay rounds); its WAL writer and other shared processes not counted',
  );
  // Latency on a shared machine means little if other work competed for the cores: say how much did.
  // Per-process and machine-wide accounting differ by a few percent: never below zero.
  const others = Math.max(
    0,
    processCpu.machine -
      processCpu.gateway -
      processCpu.upstream -
      processCpu.kafka -
      benchCpuMs -
      postgresCpu,
  );
  const othersShare = others / 10 / runSeconds;
  console.log(
    `  everything else  CPU ${f(others / 1000, 1)} s (${f(othersShare, 0)}% of a core: the kernel, PostgreSQL's shared ` +
      `processes, any other work on the machine); load average ${f(loadBefore, 1)} before, ${f(loadAfter, 1)} after` +
      `${othersShare > 15 ? ' — the machine was NOT quiet, latencies are inflated' : ''}`,
  );

  console.log(
    `\n  service          ${upstreamStats.ok} identities verified, ${upstreamStats.rejected} rejected (401)` +
      (upstreamStats.rejected ? ` — last: ${upstreamStats.lastRejection}` : ''),
  );
  // The service's connections: the bench's (direct), one for the stats, the rest from the gateway's pool.
  console.log(
    `  connections      gateway → service ${upstreamStats.connections - connectionsOpened.direct - 1} opened; ` +
      `bench → gateway ${connectionsOpened.gateway}, bench → service ${connectionsOpened.direct} (keep-alive)`,
  );
  console.log(
    `  audit            ${audited} events on ${EventRecorded.Topic.name} for ${gatewayApiRequests - gatewayUnanswered} answered API requests + 1 login` +
      (gatewayUnanswered
        ? ` (and ${gatewayUnanswered} that failed at the client, which may or may not have reached the gateway)`
        : '') +
      ` (outbox pending ${outboxPending}) — ${
        audited >= expectedAudit && audited <= expectedAudit + gatewayUnanswered
          ? 'one per request ✓'
          : audited > expectedAudit
            ? 'MORE than one per request (duplicates?)'
            : 'MISSING events ✗'
      }`,
  );

  if (process.env.BENCH_GATEWAY_LOG) writeFileSync(process.env.BENCH_GATEWAY_LOG, gateway.output());
  // The gateway logs at warn: anything besides the development-identity banner is worth reading.
  const gatewayLog = gateway
    .output()
    .split('\n')
    .filter((line) => line.trim() && !line.includes('DEVELOPMENT IDENTITY PROVIDER'));
  if (gatewayLog.length) {
    console.log(`\n  gateway log      ${gatewayLog.length} lines at warn or above; the last ones:`);
    for (const line of gatewayLog.slice(-5)) console.log(`                   ${line.slice(0, 300)}`);
  }

  const atTarget = results.find((r) => r.rate === TARGET_RATE);
  if (atTarget) {
    const overhead99 = percentile(atTarget.gateway.latencies, 99) - percentile(atTarget.direct.latencies, 99);
    const errors = atTarget.gateway.errors.size + atTarget.direct.errors.size;
    const met = overhead99 <= TARGET_P99_OVERHEAD_MS && errors === 0;
    console.log(
      `\n  target           p99 overhead ≤ ${TARGET_P99_OVERHEAD_MS} ms at ${TARGET_RATE} requests/s: ` +
        `${met ? 'MET' : 'NOT MET'} (+${f(overhead99)} ms${errors ? `, with errors` : ''})\n`,
    );
  } else {
    console.log(
      `\n  target           p99 overhead ≤ ${TARGET_P99_OVERHEAD_MS} ms at ${TARGET_RATE} requests/s: not measured (BENCH_RATES)\n`,
    );
  }
}

let failed = false;
process.once('SIGINT', () => {
  void cleanup().then(() => process.exit(130));
});
main()
  .catch((error) => {
    failed = true;
    console.error(error);
  })
  .finally(async () => {
    agent.destroy();
    await cleanup();
    process.exit(failed ? 1 : 0);
  });
