import { execFileSync } from 'node:child_process';
import { generateKeyPair, randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { request as httpRequest } from 'node:http';
import { request as httpsRequest } from 'node:https';
import { join, resolve } from 'node:path';
import { promisify } from 'node:util';
import { isMainThread } from 'node:worker_threads';
import {
  type BenchChild,
  cleanupLeftoverBenches,
  installExitHook,
  readLogTail,
  rssBytes,
  spawnBenchChild,
  writeBenchFile,
} from './bench-process';
import { freePortBase, repoRoot } from './process';

/*
 * A real Kubernetes control plane for tests: etcd, and per cluster kube-apiserver (+ optionally
 * kube-controller-manager and kube-scheduler), all 1.20.2 binaries built by tools/kube-bench/build.sh.
 * No kubelet: nothing runs Pods; a node simulator (libs/kube) plays the nodes.
 *
 * Several clusters share one etcd, each under its own --etcd-prefix, so a second cluster costs one
 * apiserver (≈330 MB, ≈3.5 s) rather than a whole etcd too.
 */

export interface KubeBenchOptions {
  /** Cluster names (also the kubeconfig context names). Default ['bench-a', 'bench-b']. */
  clusters?: string[];
  /** kube-controller-manager and kube-scheduler per cluster. Default true. */
  controllers?: boolean;
  /**
   * Work directory (certs, keys, kubeconfigs, logs, etcd data); removed by stop(). Default: a fresh
   * directory tmp/kube-bench-<pid>-XXXXXX in the repo, which cleanupLeftoverKubeBenches() knows.
   */
  dir?: string;
  /**
   * Reuse this etcd (http://127.0.0.1:port) instead of starting one. The cluster names must then be
   * unique among everything using that etcd: the data lives under /registry-<cluster>. stop() deletes
   * those keys again.
   */
  etcdEndpoint?: string;
  /** Deadline for each process to become ready. Default 60 000 ms (two cores, tests running). */
  startTimeoutMs?: number;
}

export interface KubeBenchCluster {
  name: string;
  /** https://127.0.0.1:<port> of the first kube-apiserver (index 0). */
  server: string;
  /** Bearer token of `admin` (group system:masters). */
  token: string;
  /** --etcd-prefix of the cluster's apiservers: /registry-<name>. */
  etcdPrefix: string;
  /** Base64 PEM of the CA that signed the apiservers' self-signed serving certificate. */
  certificateAuthorityData: string;
}

/** What a test needs to reach a running bench; JSON-serializable (the shared bench publishes it). */
export interface KubeBenchInfo {
  kubeconfigPath: string;
  clusters: KubeBenchCluster[];
  etcdEndpoint: string;
  dir: string;
}

/** Wall-clock milliseconds of each start phase (phases overlap across clusters, not across phases). */
export interface KubeBenchTimings {
  /** 0 when an existing etcd was reused. */
  etcdMs: number;
  /** Until every cluster's kube-apiserver answered /readyz. */
  apiServersMs: number;
  /** Until the bench's CRDs were Established in every cluster. */
  crdsMs: number;
  /** Until every controller-manager and scheduler answered /healthz (0 without controllers). */
  controllersMs: number;
  totalMs: number;
}

export interface KubeBenchProcess {
  /** e.g. "etcd", "kube-apiserver bench-a#0", "kube-scheduler bench-b". */
  name: string;
  pid: number;
  /** Resident memory in bytes (VmRSS), 0 if it cannot be read. */
  rssBytes: number;
}

/** The environment variable through which jest's global setup publishes the shared bench. */
export const SHARED_KUBE_BENCH_ENV = 'STRATUM_KUBE_BENCH';

const DEFAULT_CLUSTERS = ['bench-a', 'bench-b'];
const DEFAULT_START_TIMEOUT_MS = 60_000;
/**
 * A SIGTERMed kube-apiserver 1.20 closes its listener at once and finishes in-flight requests, but
 * then waits (up to 60 s) for open watches, e.g. the controllers': after this it gets SIGKILL.
 */
const STOP_GRACE_MS = 3_000;
const LOG_TAIL_BYTES = 4_096;
const PROBE_INTERVAL_MS = 50;
const PORT_ATTEMPTS = 4;
/** Single-document CRD manifests installed into every cluster (also used by deploy docs). */
const CRD_MANIFESTS = ['network-attachment-definition.crd.yaml'];
const DIR_PREFIX = 'kube-bench-';

const CLUSTER_NAME = /^[a-z0-9]([-a-z0-9]{0,40}[a-z0-9])?$/;

// ---------------------------------------------------------------------------------------------
// Binaries

export interface KubeBinaries {
  /** Directory holding kube-apiserver, kube-controller-manager and kube-scheduler. */
  dir: string;
  /** Whether this call had to build them (first run on a machine: minutes). */
  built: boolean;
  ms: number;
}

let binaries: KubeBinaries | undefined;

/**
 * Runs tools/kube-bench/build.sh (a no-op once the binaries are cached; installs missing Debian
 * packages as root) and returns where the binaries are. Build progress goes to our stderr.
 */
export function ensureKubeBinaries(): KubeBinaries {
  if (binaries) return binaries;
  const started = Date.now();
  const cacheStamp = join(repoRoot, 'tools', 'bench-bin', 'kube', '.built-from');
  const wasCached = existsSync(cacheStamp);
  let stdout: string;
  try {
    stdout = execFileSync('bash', [join(repoRoot, 'tools', 'kube-bench', 'build.sh')], {
      encoding: 'utf8',
      stdio: ['ignore', 'pipe', 'inherit'],
    });
  } catch (error) {
    throw new Error(`KubeBench: tools/kube-bench/build.sh failed: ${(error as Error).message}`);
  }
  const dir = stdout.trim().split('\n').pop() ?? '';
  for (const binary of ['kube-apiserver', 'kube-controller-manager', 'kube-scheduler']) {
    if (!existsSync(join(dir, binary))) {
      throw new Error(`KubeBench: build.sh reported ${JSON.stringify(dir)}, which holds no ${binary}`);
    }
  }
  binaries = { dir, built: !wasCached, ms: Date.now() - started };
  return binaries;
}

// ---------------------------------------------------------------------------------------------
// Child processes (bench-process.ts)

/** Thrown by a start attempt whose process found its port taken (another process won the race). */
class PortInUseError extends Error {}

/** The last `LOG_TAIL_BYTES` a child wrote to its log. */
function childLogTail(child: BenchChild): string {
  return readLogTail(child.logPath, child.logOffset, LOG_TAIL_BYTES);
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolveSleep) => setTimeout(resolveSleep, ms));
}

// ---------------------------------------------------------------------------------------------
// HTTP probes (plain node:http(s): the launcher does not need @kubernetes/client-node)

interface HttpResult {
  status: number;
  body: string;
}

interface HttpOptions {
  method?: string;
  headers?: Record<string, string>;
  body?: string;
  /** PEM to trust; omitted with `insecure` for components that serve an in-memory self-signed cert. */
  ca?: string;
  insecure?: boolean;
  timeoutMs?: number;
}

function http(url: string, options: HttpOptions = {}): Promise<HttpResult> {
  const target = new URL(url);
  const send = target.protocol === 'https:' ? httpsRequest : httpRequest;
  return new Promise((resolveHttp, reject) => {
    const req = send(
      target,
      {
        method: options.method ?? 'GET',
        headers: options.headers,
        ca: options.ca,
        rejectUnauthorized: !options.insecure,
        agent: false,
        timeout: options.timeoutMs ?? 5_000,
      },
      (res) => {
        let body = '';
        res.setEncoding('utf8');
        res.on('data', (chunk: string) => (body += chunk));
        res.on('end', () => resolveHttp({ status: res.statusCode ?? 0, body }));
        res.on('error', reject);
      },
    );
    req.on('timeout', () => req.destroy(new Error(`no answer within ${options.timeoutMs ?? 5_000} ms`)));
    req.on('error', reject);
    req.end(options.body);
  });
}

function short(text: string, max = 300): string {
  const flat = text.replace(/\s+/g, ' ').trim();
  return flat.length > max ? `${flat.slice(0, max)}…` : flat;
}

// ---------------------------------------------------------------------------------------------
// The bench

interface ApiServerSlot {
  port: number;
  child?: BenchChild;
}

interface ClusterState {
  name: string;
  dir: string;
  etcdPrefix: string;
  token: string;
  tokenFile: string;
  saPrivateKey: string;
  saPublicKey: string;
  /** Shared by all apiservers of the cluster: the first one generates the cert, the others reuse it. */
  certDir: string;
  caFile: string;
  caData: string;
  kubeconfigFile: string;
  apiServers: ApiServerSlot[];
  controllerManager?: BenchChild;
  scheduler?: BenchChild;
}

/**
 * A real Kubernetes 1.20.2 control plane on 127.0.0.1: one etcd (or a given one) and per cluster a
 * kube-apiserver with token auth + RBAC, plus kube-controller-manager and kube-scheduler.
 *
 * Children run under `setpriv --pdeathsig SIGKILL`, so they die with this process even when it is
 * SIGKILLed; they are also killed on process exit, and cleanupLeftoverKubeBenches() removes what a
 * killed run left. Start it on the main thread: pdeathsig fires when the spawning *thread* ends.
 */
export class KubeBench {
  readonly dir: string;
  readonly kubeconfigPath: string;
  readonly timings: KubeBenchTimings = {
    etcdMs: 0,
    apiServersMs: 0,
    crdsMs: 0,
    controllersMs: 0,
    totalMs: 0,
  };

  private readonly binDir: string;
  private readonly withControllers: boolean;
  private readonly startTimeoutMs: number;
  private readonly ownsEtcd: boolean;
  private readonly state: ClusterState[];
  private readonly children: BenchChild[] = [];
  private etcdUrl = '';
  private kubeconfigText = '';
  private stopPromise: Promise<void> | undefined;

  private constructor(options: KubeBenchOptions, binDir: string) {
    this.binDir = binDir;
    this.withControllers = options.controllers ?? true;
    this.startTimeoutMs = options.startTimeoutMs ?? DEFAULT_START_TIMEOUT_MS;
    this.ownsEtcd = !options.etcdEndpoint;
    this.etcdUrl = options.etcdEndpoint?.replace(/\/+$/, '') ?? '';
    if (options.dir) {
      this.dir = resolve(options.dir);
      mkdirSync(this.dir, { recursive: true });
    } else {
      const tmp = join(repoRoot, 'tmp');
      mkdirSync(tmp, { recursive: true });
      this.dir = mkdtempSync(join(tmp, `${DIR_PREFIX}${process.pid}-`));
    }
    this.kubeconfigPath = join(this.dir, 'kubeconfig');
    // Written first, so that a run killed at any later point can be cleaned up.
    writeBenchFile(this.dir, []);
    this.state = (options.clusters ?? DEFAULT_CLUSTERS).map((name) => {
      const dir = join(this.dir, name);
      return {
        name,
        dir,
        etcdPrefix: `/registry-${name}`,
        token: randomBytes(24).toString('hex'),
        tokenFile: join(dir, 'tokens.csv'),
        saPrivateKey: join(dir, 'sa.key'),
        saPublicKey: join(dir, 'sa.pub'),
        certDir: join(dir, 'certs'),
        caFile: join(dir, 'ca.crt'),
        caData: '',
        kubeconfigFile: join(dir, 'admin.kubeconfig'),
        apiServers: [],
      };
    });
  }

  /** Starts etcd, the apiservers, the CRDs and (by default) the controllers; see {@link KubeBenchOptions}. */
  static async start(options: KubeBenchOptions = {}): Promise<KubeBench> {
    if (!isMainThread) {
      // setpriv's pdeathsig is tied to the thread that forked: children started from a worker
      // thread would be SIGKILLed as soon as that thread ends.
      throw new Error('KubeBench: start it on the main thread (jest: no workerThreads)');
    }
    const names = options.clusters ?? DEFAULT_CLUSTERS;
    if (names.length === 0) throw new Error('KubeBench: at least one cluster is needed');
    for (const name of names) {
      if (!CLUSTER_NAME.test(name)) {
        throw new Error(`KubeBench: cluster name ${JSON.stringify(name)} must be a DNS label (a-z, 0-9, -)`);
      }
    }
    if (new Set(names).size !== names.length) throw new Error('KubeBench: cluster names must be unique');
    if (options.etcdEndpoint && !/^https?:\/\/[^/]+\/?$/.test(options.etcdEndpoint)) {
      throw new Error(
        `KubeBench: etcdEndpoint must look like http://127.0.0.1:2379, got ${options.etcdEndpoint}`,
      );
    }
    const { dir: binDir } = ensureKubeBinaries();
    installExitHook();
    const bench = new KubeBench(options, binDir);
    try {
      await bench.boot();
    } catch (error) {
      await bench.stop();
      throw error;
    }
    return bench;
  }

  /** http://127.0.0.1:<port> of the etcd the clusters store their data in. */
  get etcdEndpoint(): string {
    return this.etcdUrl;
  }

  /** The clusters, each reached through its first apiserver. */
  get clusters(): KubeBenchCluster[] {
    return this.state.map((c) => ({
      name: c.name,
      server: `https://127.0.0.1:${c.apiServers[0]?.port ?? 0}`,
      token: c.token,
      etcdPrefix: c.etcdPrefix,
      certificateAuthorityData: c.caData,
    }));
  }

  /** Kubeconfig YAML: one context per cluster (context name = cluster name), token auth. */
  get kubeconfig(): string {
    return this.kubeconfigText;
  }

  info(): KubeBenchInfo {
    return {
      kubeconfigPath: this.kubeconfigPath,
      clusters: this.clusters,
      etcdEndpoint: this.etcdEndpoint,
      dir: this.dir,
    };
  }

  /** Pids of every process this bench started, running or not (stopped apiservers included). */
  pids(): number[] {
    return this.children.map((c) => c.pid);
  }

  /** The bench's running processes with their resident memory. */
  processes(): KubeBenchProcess[] {
    return this.children
      .filter((c) => !c.exit)
      .map((c) => ({ name: c.name, pid: c.pid, rssBytes: rssBytes(c.pid) }));
  }

  /**
   * Stops one kube-apiserver of `cluster`: SIGTERM (graceful, like a rolling restart: the port closes
   * at once, in-flight requests finish; SIGKILL after 3 s) or SIGKILL (a crash). Its port is kept
   * for startApiServer().
   */
  async stopApiServer(cluster: string, index = 0, signal: 'SIGTERM' | 'SIGKILL' = 'SIGTERM'): Promise<void> {
    const slot = this.slot(cluster, index);
    const child = slot.child;
    slot.child = undefined;
    if (child) await this.kill(child, signal);
  }

  /** Starts a stopped kube-apiserver again, on the same port and etcd prefix; resolves once ready. */
  async startApiServer(cluster: string, index = 0): Promise<void> {
    this.assertRunning();
    const slot = this.slot(cluster, index);
    if (slot.child && !slot.child.exit) {
      throw new Error(`KubeBench: kube-apiserver ${cluster}#${index} is already running`);
    }
    slot.child = await this.launchApiServer(this.cluster(cluster), index, slot.port);
  }

  /**
   * Starts one more kube-apiserver for `cluster` (same etcd prefix, keys and serving cert, another
   * port): with the first one it forms an HA pair, so a test can keep writing while one is down.
   */
  async addApiServer(cluster: string): Promise<{ index: number; server: string }> {
    this.assertRunning();
    const c = this.cluster(cluster);
    const index = c.apiServers.length;
    const slot: ApiServerSlot = { port: 0 };
    c.apiServers.push(slot);
    try {
      await this.withFreePorts(1, async ([port]) => {
        slot.port = port;
        slot.child = await this.launchApiServer(c, index, port);
      });
    } catch (error) {
      c.apiServers.pop();
      throw error;
    }
    return { index, server: `https://127.0.0.1:${slot.port}` };
  }

  /** Server URL of one apiserver of `cluster`. */
  server(cluster: string, index = 0): string {
    return `https://127.0.0.1:${this.slot(cluster, index).port}`;
  }

  /**
   * Kills every process (SIGKILL: nothing here needs a graceful end), deletes the clusters' keys from
   * a reused etcd, and removes the work directory. Idempotent.
   */
  stop(): Promise<void> {
    this.stopPromise ??= this.doStop();
    return this.stopPromise;
  }

  private async doStop(): Promise<void> {
    await Promise.all(this.children.filter((c) => !c.exit).map((c) => this.kill(c, 'SIGKILL')));
    if (!this.ownsEtcd && this.etcdUrl) {
      // Only now: a running apiserver would write its bootstrap objects again.
      await Promise.all(this.state.map((c) => this.deleteEtcdPrefix(c.etcdPrefix))).catch(() => undefined);
    }
    rmSync(this.dir, { recursive: true, force: true });
  }

  // ------------------------------------------------------------------------- start phases

  private async boot(): Promise<void> {
    const started = Date.now();
    await Promise.all(this.state.map((c) => this.prepareCluster(c)));

    let phase = Date.now();
    if (this.ownsEtcd) {
      await this.startEtcd();
      this.timings.etcdMs = Date.now() - phase;
    } else {
      const health = await http(`${this.etcdUrl}/health`).catch((error: Error) => ({
        status: 0,
        body: error.message,
      }));
      if (health.status !== 200) {
        throw new Error(
          `KubeBench: etcd at ${this.etcdUrl} is not healthy: ${health.status} ${short(health.body)}`,
        );
      }
    }

    phase = Date.now();
    await Promise.all(
      this.state.map(async (c) => {
        const slot: ApiServerSlot = { port: 0 };
        c.apiServers.push(slot);
        await this.withFreePorts(1, async ([port]) => {
          slot.port = port;
          slot.child = await this.launchApiServer(c, 0, port);
        });
        // The apiserver wrote its self-signed serving cert followed by the CA that signed it.
        const pems = readFileSync(join(c.certDir, 'apiserver.crt'), 'utf8').match(
          /-----BEGIN CERTIFICATE-----[^-]+-----END CERTIFICATE-----\n?/g,
        );
        const ca = pems?.[pems.length - 1];
        if (!ca) throw new Error(`KubeBench: no certificate in ${join(c.certDir, 'apiserver.crt')}`);
        writeFileSync(c.caFile, ca);
        c.caData = Buffer.from(ca).toString('base64');
        writeFileSync(c.kubeconfigFile, kubeconfigYaml([c], this.server.bind(this)));
      }),
    );
    this.timings.apiServersMs = Date.now() - phase;
    this.kubeconfigText = kubeconfigYaml(this.state, this.server.bind(this));
    writeFileSync(this.kubeconfigPath, this.kubeconfigText, { mode: 0o600 });

    phase = Date.now();
    await Promise.all(this.state.map((c) => this.installCrds(c)));
    this.timings.crdsMs = Date.now() - phase;

    if (this.withControllers) {
      phase = Date.now();
      await Promise.all(this.state.flatMap((c) => [this.startControllerManager(c), this.startScheduler(c)]));
      this.timings.controllersMs = Date.now() - phase;
    }
    this.timings.totalMs = Date.now() - started;
    if (process.env.KUBE_BENCH_DEBUG) {
      const t = this.timings;
      process.stderr.write(
        `kube bench ${this.dir}: etcd ${t.etcdMs} ms, apiservers ${t.apiServersMs} ms, CRDs ${t.crdsMs} ms, ` +
          `controllers ${t.controllersMs} ms, total ${t.totalMs} ms\n`,
      );
    }
  }

  private async prepareCluster(c: ClusterState): Promise<void> {
    mkdirSync(c.certDir, { recursive: true });
    // token,user,uid,"groups": system:masters is bound to cluster-admin by RBAC's bootstrap policy.
    writeFileSync(c.tokenFile, `${c.token},admin,admin,"system:masters"\n`, { mode: 0o600 });
    // The service-account token signer: kube-apiserver verifies with the public key and signs
    // TokenRequest tokens with the private one; the controller-manager signs legacy token secrets.
    const { publicKey, privateKey } = await promisify(generateKeyPair)('rsa', {
      modulusLength: 2048,
      publicKeyEncoding: { type: 'spki', format: 'pem' },
      privateKeyEncoding: { type: 'pkcs1', format: 'pem' },
    });
    writeFileSync(c.saPrivateKey, privateKey, { mode: 0o600 });
    writeFileSync(c.saPublicKey, publicKey);
  }

  private async startEtcd(): Promise<void> {
    await this.withFreePorts(2, async ([clientPort, peerPort]) => {
      const client = `http://127.0.0.1:${clientPort}`;
      const peer = `http://127.0.0.1:${peerPort}`;
      const child = this.spawnChild('etcd', 'etcd', [
        '--name=bench',
        `--data-dir=${join(this.dir, 'etcd')}`,
        `--listen-client-urls=${client}`,
        `--advertise-client-urls=${client}`,
        `--listen-peer-urls=${peer}`,
        `--initial-advertise-peer-urls=${peer}`,
        `--initial-cluster=bench=${peer}`,
        // Test data: losing it in a machine crash is fine, fsync latency is not.
        '--unsafe-no-fsync',
        '--logger=zap',
        '--log-level=warn',
      ]);
      await this.waitReady(child, async () => {
        const res = await http(`${client}/health`);
        return res.status === 200 && res.body.includes('"true"') ? true : `${res.status} ${short(res.body)}`;
      });
      this.etcdUrl = client;
    });
  }

  private async launchApiServer(c: ClusterState, index: number, port: number): Promise<BenchChild> {
    const child = this.spawnChild(`kube-apiserver ${c.name}#${index}`, join(this.binDir, 'kube-apiserver'), [
      `--etcd-servers=${this.etcdUrl}`,
      `--etcd-prefix=${c.etcdPrefix}`,
      '--bind-address=127.0.0.1',
      `--secure-port=${port}`,
      // What the apiserver puts into the `kubernetes` Service/Endpoints and its serving cert's SANs.
      '--advertise-address=127.0.0.1',
      // Without --tls-cert-file the apiserver generates a self-signed cert (+ CA) here on first start;
      // later starts and the other apiservers of the cluster reuse it, so one CA serves them all.
      `--cert-dir=${c.certDir}`,
      `--token-auth-file=${c.tokenFile}`,
      '--authorization-mode=RBAC',
      `--service-account-key-file=${c.saPublicKey}`,
      `--service-account-signing-key-file=${c.saPrivateKey}`,
      '--service-account-issuer=https://kubernetes.default.svc',
      '--service-cluster-ip-range=10.96.0.0/16',
      // Several apiservers share one etcd prefix (HA pair) without fighting over the endpoints of
      // the `kubernetes` Service, which nothing here routes to anyway.
      '--endpoint-reconciler-type=none',
      // APF adds bootstrap flow schemas and a slower start, and nothing here needs fairness.
      '--enable-priority-and-fairness=false',
      // Platform workloads (CNI, node agents) ask for privileged containers; nothing runs them here.
      '--allow-privileged=true',
      // The plugin taints every new Node not-ready; only the node lifecycle controller, which the
      // bench disables (fake Nodes have no kubelet heartbeat), would remove it. Without it a Node is
      // tainted exactly as its creator (the node simulator) says.
      '--disable-admission-plugins=TaintNodesByCondition',
      // A namespace's `scheduler.alpha.kubernetes.io/node-selector` annotation pins its pods to
      // nodes (zone placement); suites sharing the bench use it to keep to their own fake Nodes.
      '--enable-admission-plugins=PodNodeSelector',
      '--profiling=false',
    ]);
    const ca = (): string | undefined => {
      try {
        return readFileSync(join(c.certDir, 'apiserver.crt'), 'utf8');
      } catch {
        return undefined;
      }
    };
    await this.waitReady(child, async () => {
      const pem = ca();
      if (!pem) return 'no serving certificate yet';
      const res = await http(`https://127.0.0.1:${port}/readyz`, {
        ca: pem,
        headers: { Authorization: `Bearer ${c.token}` },
      });
      return res.status === 200 ? true : `/readyz ${res.status} ${short(res.body)}`;
    });
    return child;
  }

  private async installCrds(c: ClusterState): Promise<void> {
    const headers = { Authorization: `Bearer ${c.token}` };
    const api = `${this.server(c.name)}/apis/apiextensions.k8s.io/v1/customresourcedefinitions`;
    const ca = readFileSync(c.caFile, 'utf8');
    for (const file of CRD_MANIFESTS) {
      const manifest = readFileSync(join(repoRoot, 'tools', 'kube-bench', file), 'utf8');
      const name = /^metadata:\n\s+name:\s*(\S+)/m.exec(manifest)?.[1];
      if (!name) throw new Error(`KubeBench: no metadata.name in tools/kube-bench/${file}`);
      // The apiserver decodes YAML bodies itself, so the manifest is sent as written.
      const created = await http(api, {
        method: 'POST',
        ca,
        headers: { ...headers, 'Content-Type': 'application/yaml' },
        body: manifest,
      });
      if (created.status !== 201 && created.status !== 409) {
        throw new Error(
          `KubeBench: creating CRD ${name} in ${c.name}: ${created.status} ${short(created.body)}`,
        );
      }
      const deadline = Date.now() + this.startTimeoutMs;
      let last = '';
      for (;;) {
        const res = await http(`${api}/${name}`, { ca, headers });
        if (res.status === 200) {
          const crd = JSON.parse(res.body) as {
            status?: { conditions?: Array<{ type: string; status: string; message?: string }> };
          };
          const conditions = crd.status?.conditions ?? [];
          if (conditions.some((x) => x.type === 'Established' && x.status === 'True')) break;
          last = JSON.stringify(conditions);
        } else {
          last = `${res.status} ${short(res.body)}`;
        }
        if (Date.now() > deadline) {
          throw new Error(
            `KubeBench: CRD ${name} not Established in ${c.name} within ${this.startTimeoutMs} ms: ${last}`,
          );
        }
        await sleep(PROBE_INTERVAL_MS);
      }
    }
  }

  private async startControllerManager(c: ClusterState): Promise<void> {
    await this.withFreePorts(1, async ([port]) => {
      const child = this.spawnChild(
        `kube-controller-manager ${c.name}`,
        join(this.binDir, 'kube-controller-manager'),
        [
          `--kubeconfig=${c.kubeconfigFile}`,
          '--leader-elect=false',
          // Fake Nodes have no kubelet heartbeat: the node lifecycle controller would mark them
          // NotReady, taint them and evict their Pods.
          '--controllers=*,-nodelifecycle',
          '--use-service-account-credentials=false',
          // A claim whose PersistentVolume reached the binder's cache after the claim is bound at the
          // next periodic sync: 2 s here instead of 15 s keeps tests short (behaviour is the same).
          '--pvclaimbinder-sync-period=2s',
          // Signs the token secrets of ServiceAccounts; Pods cannot be admitted without them.
          `--service-account-private-key-file=${c.saPrivateKey}`,
          `--root-ca-file=${c.caFile}`,
          '--bind-address=127.0.0.1',
          `--secure-port=${port}`,
          // 1.20 still serves plain HTTP on 10252 by default; 0 turns that off.
          '--port=0',
          '--profiling=false',
        ],
      );
      await this.waitReady(child, () => this.healthz(port));
      c.controllerManager = child;
    });
  }

  private async startScheduler(c: ClusterState): Promise<void> {
    await this.withFreePorts(1, async ([port]) => {
      const child = this.spawnChild(`kube-scheduler ${c.name}`, join(this.binDir, 'kube-scheduler'), [
        `--kubeconfig=${c.kubeconfigFile}`,
        '--leader-elect=false',
        '--bind-address=127.0.0.1',
        `--secure-port=${port}`,
        '--port=0', // plain HTTP on 10251 otherwise
        '--profiling=false',
      ]);
      await this.waitReady(child, () => this.healthz(port));
      c.scheduler = child;
    });
  }

  /** Controller-manager and scheduler serve /healthz to anyone, with a cert they made up in memory. */
  private async healthz(port: number): Promise<true | string> {
    const res = await http(`https://127.0.0.1:${port}/healthz`, { insecure: true });
    return res.status === 200 ? true : `/healthz ${res.status} ${short(res.body)}`;
  }

  private async deleteEtcdPrefix(prefix: string): Promise<void> {
    // etcd's v3 JSON gateway; keys are base64. [prefix/, prefix0) is exactly prefix/…: '0' follows '/'.
    const b64 = (s: string) => Buffer.from(s).toString('base64');
    const res = await http(`${this.etcdUrl}/v3/kv/deleterange`, {
      method: 'POST',
      headers: { 'Content-Type': 'application/json' },
      body: JSON.stringify({ key: b64(`${prefix}/`), range_end: b64(`${prefix}0`) }),
    });
    if (res.status !== 200) throw new Error(`etcd deleterange ${prefix}: ${res.status} ${short(res.body)}`);
  }

  // ------------------------------------------------------------------------- processes

  private spawnChild(name: string, binary: string, args: string[]): BenchChild {
    this.assertRunning();
    const benchChild = spawnBenchChild({
      name,
      command: binary,
      args,
      cwd: this.dir,
      logPath: join(this.dir, `${name.replace(/[^a-z0-9-]+/gi, '_')}.log`),
      cannotStart: `KubeBench: cannot start ${name} (setpriv ${binary}): is util-linux installed?`,
    });
    this.children.push(benchChild);
    writeBenchFile(
      this.dir,
      this.children.map((c) => ({ name: c.name, pid: c.pid })),
    );
    return benchChild;
  }

  private async kill(child: BenchChild, signal: NodeJS.Signals): Promise<void> {
    if (child.exit) return;
    child.process.ref(); // keep the event loop alive while we wait for the exit
    try {
      child.process.kill(signal);
      const timer = setTimeout(() => child.process.kill('SIGKILL'), STOP_GRACE_MS);
      await child.exited;
      clearTimeout(timer);
    } finally {
      child.process.unref();
    }
  }

  /**
   * Polls `probe` until it returns true. Fails early when the child exits (with PortInUseError if
   * its port was taken meanwhile) and after the deadline, with the probe's last answer and the tail
   * of the child's log.
   */
  private async waitReady(child: BenchChild, probe: () => Promise<true | string>): Promise<void> {
    const deadline = Date.now() + this.startTimeoutMs;
    let last = 'no answer yet';
    for (;;) {
      if (child.exit) {
        const tail = childLogTail(child);
        const message = `KubeBench: ${child.name} ${child.exit} before it was ready (last probe: ${last}); log ${child.logPath}:\n${tail}`;
        if (/address already in use/.test(tail)) throw new PortInUseError(message);
        throw new Error(message);
      }
      try {
        const result = await probe();
        if (result === true) return;
        last = result;
      } catch (error) {
        last = (error as Error).message;
      }
      if (Date.now() > deadline) {
        await this.kill(child, 'SIGKILL');
        throw new Error(
          `KubeBench: ${child.name} not ready within ${this.startTimeoutMs} ms (last probe: ${last}); log ${child.logPath}:\n${childLogTail(child)}`,
        );
      }
      await sleep(PROBE_INTERVAL_MS);
    }
  }

  /**
   * Runs `attempt` with `count` consecutive free ports, again with new ports if the process lost
   * them to someone else between our check and its bind (parallel test runs start benches too).
   */
  private async withFreePorts(count: number, attempt: (ports: number[]) => Promise<void>): Promise<void> {
    for (let i = 1; ; i++) {
      const base = await freePortBase(count);
      try {
        await attempt(Array.from({ length: count }, (_, k) => base + k));
        return;
      } catch (error) {
        if (!(error instanceof PortInUseError) || i >= PORT_ATTEMPTS) throw error;
      }
    }
  }

  private assertRunning(): void {
    if (this.stopPromise) throw new Error('KubeBench: already stopped');
  }

  private cluster(name: string): ClusterState {
    const c = this.state.find((x) => x.name === name);
    if (!c)
      throw new Error(
        `KubeBench: no cluster ${JSON.stringify(name)} (have ${this.state.map((x) => x.name).join(', ')})`,
      );
    return c;
  }

  private slot(cluster: string, index: number): ApiServerSlot {
    const slot = this.cluster(cluster).apiServers[index];
    if (!slot) throw new Error(`KubeBench: cluster ${cluster} has no apiserver #${index}`);
    return slot;
  }
}

/** Kubeconfig YAML (JSON-quoted scalars are valid YAML) with one context per cluster. */
function kubeconfigYaml(clusters: ClusterState[], server: (cluster: string) => string): string {
  const q = (s: string) => JSON.stringify(s);
  const lines = ['apiVersion: v1', 'kind: Config', `current-context: ${q(clusters[0].name)}`, 'clusters:'];
  for (const c of clusters) {
    lines.push(
      `  - name: ${q(c.name)}`,
      '    cluster:',
      `      server: ${q(server(c.name))}`,
      `      certificate-authority-data: ${q(c.caData)}`,
    );
  }
  lines.push('users:');
  for (const c of clusters) {
    lines.push(`  - name: ${q(`${c.name}-admin`)}`, '    user:', `      token: ${q(c.token)}`);
  }
  lines.push('contexts:');
  for (const c of clusters) {
    lines.push(
      `  - name: ${q(c.name)}`,
      '    context:',
      `      cluster: ${q(c.name)}`,
      `      user: ${q(`${c.name}-admin`)}`,
    );
  }
  return `${lines.join('\n')}\n`;
}

/**
 * Kills the processes of benches whose owner process is gone (a test run that was killed) and
 * removes their directories under `root` (default: the repo's tmp/). Benches of live processes,
 * e.g. a parallel test run, are left alone. Returns the directories removed.
 */
export function cleanupLeftoverKubeBenches(root = join(repoRoot, 'tmp')): string[] {
  return cleanupLeftoverBenches(DIR_PREFIX, root);
}

let shared: KubeBenchInfo | undefined;

/**
 * The bench that jest's global setup starts for the whole `npm test` run (two clusters, bench-a and
 * bench-b, with controllers). Shared by all suites: use unique names and delete what you create.
 */
export function sharedKubeBench(): KubeBenchInfo {
  if (shared) return shared;
  const path = process.env[SHARED_KUBE_BENCH_ENV];
  if (!path) {
    throw new Error(
      `sharedKubeBench(): ${SHARED_KUBE_BENCH_ENV} is not set. The shared Kubernetes bench is started by ` +
        "jest's global setup (libs/testing/src/global-setup.ts): run the tests with `npm test`.",
    );
  }
  let info: KubeBenchInfo;
  try {
    info = JSON.parse(readFileSync(path, 'utf8')) as KubeBenchInfo;
  } catch (error) {
    throw new Error(
      `sharedKubeBench(): cannot read ${path} (${SHARED_KUBE_BENCH_ENV}): ${(error as Error).message}. ` +
        'Is the test run that started the shared bench still going?',
    );
  }
  if (!existsSync(info.kubeconfigPath)) {
    throw new Error(`sharedKubeBench(): ${info.kubeconfigPath} is gone: the shared bench was stopped`);
  }
  shared = info;
  return info;
}
