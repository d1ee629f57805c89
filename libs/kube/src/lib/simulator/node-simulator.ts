import { createHash } from 'node:crypto';
import { appendFile, mkdir, rm, symlink } from 'node:fs/promises';
import { createServer, type Server } from 'node:http';
import { type AddressInfo } from 'node:net';
import { join } from 'node:path';
import type { KubeClient } from '../client';
import { NotFoundError } from '../errors';
import { Informer } from '../informer';
import type { KubeObject } from '../resources';
import {
  intToIp,
  IpPool,
  ipamFromCniConfig,
  parseCidr,
  parseFixedIps,
  parseNetworkSelections,
} from './ip-pools';
import { buildSummary, IDLE_USAGE, type Usage, UsageAccumulator, type UsageSource } from './usage';

/** Labels fake Nodes carry so placement by zone and rack can be tested (R-NW-2, R-OR placement). */
export const NODE_LABELS = {
  networkZone: 'stratum.io/network-zone',
  securityZone: 'stratum.io/security-zone',
  rack: 'stratum.io/rack',
} as const;

/** Pod annotations a manifest may carry to ask the simulator for a behaviour. */
export const SIM_ANNOTATIONS = {
  failure: 'sim.stratum.io/failure',
  readyDelayMs: 'sim.stratum.io/ready-delay-ms',
} as const;

export const MULTUS_NETWORKS = 'k8s.v1.cni.cncf.io/networks';
/**
 * Fixed addresses for the replicas of one workload (R-NW-1, seed 000), comma-separated, as the
 * Stratum translator writes them: a pod gets the first address of the list that is free in the pool
 * of its first tenant network (Multus selection without its own `ips`). Multus' `ips` field would
 * give every replica the same address.
 */
export const FIXED_IPS_ANNOTATION = 'stratum.io/fixed-ips';
export const MULTUS_NETWORK_STATUS = 'k8s.v1.cni.cncf.io/network-status';

export type PodFailure = 'image-pull' | 'crash-loop' | 'never-ready';

export interface SimulatedNode {
  name: string;
  networkZone?: string;
  securityZone?: string;
  rack?: string;
  labels?: Record<string, string>;
  cpuMillicores?: number;
  memoryBytes?: number;
}

/** Which pods a rule applies to. All given parts must match. */
export interface PodMatch {
  namespace?: string;
  /** Label equality, e.g. { app: 'web' }. */
  labels?: Record<string, string>;
  namePrefix?: string;
  /** A container image of the pod, e.g. the broken image of a bad update that is never Ready. */
  image?: string;
}

export interface PodBehaviour {
  readyDelayMs?: number;
  failure?: PodFailure;
}

export interface NodeSimulatorOptions {
  client: KubeClient;
  nodes: SimulatedNode[];
  /** Each node writes under <logRoot>/<node>/ with a kubelet's layout (/var/log/pods/…). */
  logRoot: string;
  /** Delay before a bound pod becomes Running and Ready. */
  readyDelayMs?: number;
  /** Pod range; node i gets the i-th /24 of it. */
  podCidr?: string;
  /** Port of the Summary API server (0 = any free one). */
  summaryPort?: number;
}

interface PodLike extends KubeObject {
  spec?: {
    nodeName?: string;
    containers?: Array<{
      name: string;
      image?: string;
      volumeMounts?: Array<{ name: string; mountPath: string }>;
    }>;
    volumes?: Array<{
      name: string;
      hostPath?: { path: string };
      emptyDir?: object;
      persistentVolumeClaim?: { claimName: string };
    }>;
  };
  status?: { phase?: string; podIP?: string; startTime?: string };
}

interface TrackedPod {
  key: string;
  uid: string;
  namespace: string;
  name: string;
  node: string;
  startedAt?: number;
  counters?: UsageAccumulator;
  timer?: NodeJS.Timeout;
  pools: IpPool[];
  pod: PodLike;
  /** Set while the pod waits for one of its fixed IPs to be released (the behaviour to start it with). */
  awaitingAddress?: PodBehaviour;
}

const RULE_ORDER = Symbol('rules');

/**
 * Plays the kubelet for fake Nodes, on any cluster reached through the adapter (the sandbox or a
 * real API server): registers the Nodes, then for every Pod bound to them sets it Running and Ready
 * after a delay (or fails it on request), gives it an IP (from the tenant network's subnet when the
 * Pod asks through the Multus annotation, honouring a requested fixed IP), writes its logs where a
 * kubelet would, confirms its deletion, and serves usage in the Summary API shape.
 */
export class NodeSimulator {
  private readonly nodes = new Map<
    string,
    { spec: SimulatedNode; index: number; podPool: IpPool; start: string }
  >();
  private readonly pods = new Map<string, TrackedPod>();
  private readonly networkPools = new Map<string, Promise<IpPool>>();
  private readonly behaviours: Array<{ match: PodMatch; behaviour: PodBehaviour; [RULE_ORDER]: number }> = [];
  private readonly usages: Array<{ match: PodMatch; source: UsageSource; since: number }> = [];
  private informer!: Informer<PodLike>;
  private server!: Server;
  private stopped = false;
  private readonly work = new Set<Promise<unknown>>();
  private readonly errors: string[] = [];
  summaryUrl = '';

  private constructor(private readonly options: NodeSimulatorOptions) {
    const podRange = parseCidr(options.podCidr ?? '10.244.0.0/16');
    options.nodes.forEach((spec, index) => {
      const base = podRange.network + index * 256;
      this.nodes.set(spec.name, {
        spec,
        index,
        podPool: new IpPool(`${intToIp(base)}/24`, { gateway: intToIp(base + 1) }),
        start: new Date().toISOString(),
      });
    });
  }

  static async start(options: NodeSimulatorOptions): Promise<NodeSimulator> {
    const simulator = new NodeSimulator(options);
    await simulator.listen();
    await simulator.registerNodes();
    await simulator.followPods();
    return simulator;
  }

  get client(): KubeClient {
    return this.options.client;
  }

  /** Failures the simulator met while acting (e.g. a status write refused); tests can assert none. */
  get problems(): readonly string[] {
    return this.errors;
  }

  /** Later rules win. */
  setBehaviour(match: PodMatch, behaviour: PodBehaviour): void {
    this.behaviours.push({ match, behaviour, [RULE_ORDER]: this.behaviours.length });
  }

  /** Usage for matching pods from now on (later rules win). */
  setUsage(match: PodMatch, source: UsageSource): void {
    this.usages.push({ match, source, since: Date.now() });
  }

  /** The node's root directory (its `/`). */
  nodeRoot(node: string): string {
    return join(this.options.logRoot, node);
  }

  /** /var/log/pods/<ns>_<pod>_<uid>/<container>/0.log on the pod's node. */
  containerLogPath(namespace: string, name: string, container: string): string {
    const pod = this.tracked(namespace, name);
    return join(
      this.nodeRoot(pod.node),
      'var/log/pods',
      `${namespace}_${name}_${pod.uid}`,
      container,
      '0.log',
    );
  }

  /** Appends lines to a container's stdout/stderr log, in the CRI format a kubelet writes. */
  async writeContainerLog(
    namespace: string,
    name: string,
    container: string,
    lines: string[],
    stream: 'stdout' | 'stderr' = 'stdout',
  ): Promise<string> {
    const path = this.containerLogPath(namespace, name, container);
    const text = lines.map((line) => `${new Date().toISOString()} ${stream} F ${line}\n`).join('');
    await appendFile(path, text);
    return path;
  }

  /**
   * Appends lines to an application log file inside the container (`/app/logs/app.log`), written
   * where the kubelet keeps the volume mounted there (hostPath, emptyDir or PVC directory).
   */
  async writeAppLog(
    namespace: string,
    name: string,
    container: string,
    fileInContainer: string,
    lines: string[],
  ): Promise<string> {
    const path = await this.hostPathOf(namespace, name, container, fileInContainer);
    await mkdir(join(path, '..'), { recursive: true });
    await appendFile(path, lines.map((line) => `${line}\n`).join(''));
    return path;
  }

  /** Where a file inside a container lives on its node, through the container's volume mounts. */
  async hostPathOf(
    namespace: string,
    name: string,
    container: string,
    fileInContainer: string,
  ): Promise<string> {
    const tracked = this.tracked(namespace, name);
    const spec = tracked.pod.spec?.containers?.find((c) => c.name === container);
    if (!spec) throw new Error(`pod ${namespace}/${name} has no container ${container}`);
    const mount = (spec.volumeMounts ?? [])
      .filter(
        (m) =>
          fileInContainer === m.mountPath || fileInContainer.startsWith(`${m.mountPath.replace(/\/$/, '')}/`),
      )
      .sort((a, b) => b.mountPath.length - a.mountPath.length)[0];
    if (!mount)
      throw new Error(
        `${fileInContainer} is not on a volume of ${namespace}/${name}/${container}; mount one to collect it`,
      );
    const volume = tracked.pod.spec?.volumes?.find((v) => v.name === mount.name);
    if (!volume) throw new Error(`volume ${mount.name} of ${namespace}/${name} is not declared`);
    const relative = fileInContainer.slice(mount.mountPath.replace(/\/$/, '').length).replace(/^\//, '');
    const root = this.nodeRoot(tracked.node);
    const podDir = join(root, 'var/lib/kubelet/pods', tracked.uid, 'volumes');
    if (volume.hostPath) return join(root, volume.hostPath.path, relative);
    if (volume.persistentVolumeClaim) {
      const claim = await this.client.find<KubeObject & { spec?: { volumeName?: string } }>({
        apiVersion: 'v1',
        kind: 'PersistentVolumeClaim',
        namespace,
        name: volume.persistentVolumeClaim.claimName,
      });
      return join(
        podDir,
        'kubernetes.io~nfs',
        claim?.spec?.volumeName ?? volume.persistentVolumeClaim.claimName,
        relative,
      );
    }
    return join(podDir, 'kubernetes.io~empty-dir', volume.name, relative);
  }

  /** The kubelet Summary API document for one node, usage sampled now. */
  summary(node: string): Record<string, unknown> {
    const entry = this.nodes.get(node);
    if (!entry) throw new Error(`node ${node} is not simulated here`);
    const now = Date.now();
    const samples = [...this.pods.values()]
      .filter((p) => p.node === node && p.startedAt !== undefined)
      .map((p) => {
        const usage = this.usageOf(p, now);
        p.counters!.advance(now, usage);
        return {
          podRef: { name: p.name, namespace: p.namespace, uid: p.uid },
          startTime: new Date(p.startedAt!).toISOString(),
          containers: (p.pod.spec?.containers ?? []).map((c) => c.name),
          volumes: (p.pod.spec?.volumes ?? []).map((v) => v.name),
          usage,
          counters: p.counters!,
        };
      });
    return buildSummary(
      node,
      entry.start,
      {
        cpuMillicores: entry.spec.cpuMillicores ?? 8_000,
        memoryBytes: entry.spec.memoryBytes ?? 32 * 1024 ** 3,
        fsCapacityBytes: 200 * 1024 ** 3,
      },
      samples,
      now,
    );
  }

  /** URL of a node's Summary, at the same path the API server proxies to a kubelet. */
  nodeSummaryUrl(node: string): string {
    return `${this.summaryUrl}/api/v1/nodes/${encodeURIComponent(node)}/proxy/stats/summary`;
  }

  async stop(): Promise<void> {
    if (this.stopped) return;
    this.stopped = true;
    for (const pod of this.pods.values()) clearTimeout(pod.timer);
    await this.informer?.stop();
    await Promise.allSettled([...this.work]);
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }

  /** Deletes the Node objects (tests clean up the shared real bench this way). */
  async unregisterNodes(): Promise<void> {
    for (const name of this.nodes.keys()) await this.client.delete({ apiVersion: 'v1', kind: 'Node', name });
  }

  // --- internals -------------------------------------------------------------------------------

  private async listen(): Promise<void> {
    this.server = createServer((request, response) => {
      const match = /^\/api\/v1\/nodes\/([^/]+)\/proxy\/stats\/summary\/?(\?.*)?$/.exec(request.url ?? '');
      const node = match ? decodeURIComponent(match[1]) : undefined;
      if (!node || !this.nodes.has(node)) {
        response.writeHead(404, { 'content-type': 'application/json' });
        response.end(JSON.stringify({ message: `no simulated node at ${request.url}` }));
        return;
      }
      response.writeHead(200, { 'content-type': 'application/json' });
      response.end(JSON.stringify(this.summary(node)));
    });
    await new Promise<void>((resolve, reject) => {
      this.server.once('error', reject);
      this.server.listen(this.options.summaryPort ?? 0, '127.0.0.1', () => resolve());
    });
    this.summaryUrl = `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
  }

  private async registerNodes(): Promise<void> {
    const port = Number(new URL(this.summaryUrl).port);
    for (const { spec } of this.nodes.values()) {
      const labels = {
        'kubernetes.io/hostname': spec.name,
        'kubernetes.io/os': 'linux',
        'kubernetes.io/arch': 'amd64',
        ...(spec.networkZone ? { [NODE_LABELS.networkZone]: spec.networkZone } : {}),
        ...(spec.securityZone ? { [NODE_LABELS.securityZone]: spec.securityZone } : {}),
        ...(spec.rack ? { [NODE_LABELS.rack]: spec.rack } : {}),
        ...spec.labels,
      };
      const ref = { apiVersion: 'v1', kind: 'Node', name: spec.name };
      await this.client.apply(
        {
          apiVersion: 'v1',
          kind: 'Node',
          metadata: {
            name: spec.name,
            labels,
            annotations: { 'sim.stratum.io/summary-url': this.nodeSummaryUrl(spec.name) },
          },
          spec: {},
        },
        { force: true },
      );
      const capacity = {
        cpu: `${spec.cpuMillicores ?? 8_000}m`,
        memory: `${Math.round((spec.memoryBytes ?? 32 * 1024 ** 3) / 1024)}Ki`,
        pods: '110',
        'ephemeral-storage': '200Gi',
      };
      const now = new Date().toISOString();
      await this.client.mergePatch(
        ref,
        {
          status: {
            capacity,
            allocatable: capacity,
            conditions: [
              {
                type: 'Ready',
                status: 'True',
                reason: 'KubeletReady',
                message: 'simulated kubelet is posting ready status',
                lastHeartbeatTime: now,
                lastTransitionTime: now,
              },
              {
                type: 'MemoryPressure',
                status: 'False',
                reason: 'KubeletHasSufficientMemory',
                lastHeartbeatTime: now,
                lastTransitionTime: now,
              },
              {
                type: 'DiskPressure',
                status: 'False',
                reason: 'KubeletHasNoDiskPressure',
                lastHeartbeatTime: now,
                lastTransitionTime: now,
              },
              {
                type: 'PIDPressure',
                status: 'False',
                reason: 'KubeletHasSufficientPID',
                lastHeartbeatTime: now,
                lastTransitionTime: now,
              },
            ],
            addresses: [
              { type: 'InternalIP', address: '127.0.0.1' },
              { type: 'Hostname', address: spec.name },
            ],
            daemonEndpoints: { kubeletEndpoint: { Port: port } },
            nodeInfo: {
              machineID: hex(spec.name).slice(0, 32),
              systemUUID: hex(`uuid-${spec.name}`).slice(0, 32),
              bootID: hex(`boot-${spec.name}`).slice(0, 32),
              kernelVersion: '6.1.0-sim',
              osImage: 'Stratum node simulator',
              containerRuntimeVersion: 'sim://1.0.0',
              kubeletVersion: 'v1.20.2',
              kubeProxyVersion: 'v1.20.2',
              operatingSystem: 'linux',
              architecture: 'amd64',
            },
          },
        },
        { subresource: 'status' },
      );
    }
  }

  private async followPods(): Promise<void> {
    this.informer = new Informer<PodLike>(this.client, 'v1', 'Pod', {
      onError: (error) => {
        if (!this.stopped) this.note(`pod watch: ${error.message}`);
      },
    });
    const consider = (pod: PodLike) => this.track(pod);
    this.informer
      .on('add', consider)
      .on('update', consider)
      .on('delete', (pod) => this.forget(pod));
    await this.informer.start();
  }

  private track(pod: PodLike): void {
    if (this.stopped) return;
    const node = pod.spec?.nodeName;
    if (!node || !this.nodes.has(node)) return;
    const namespace = pod.metadata!.namespace!;
    const name = pod.metadata!.name!;
    const key = `${namespace}/${name}`;
    const uid = pod.metadata!.uid!;
    let tracked = this.pods.get(key);
    if (tracked && tracked.uid !== uid) {
      this.forget(tracked.pod);
      tracked = undefined;
    }
    if (pod.metadata?.deletionTimestamp) {
      // The kubelet confirms a graceful deletion once the containers are gone.
      this.run(`confirm deletion of ${key}`, async () => {
        await this.client.delete(
          { apiVersion: 'v1', kind: 'Pod', namespace, name },
          { gracePeriodSeconds: 0 },
        );
      });
      return;
    }
    if (tracked) {
      tracked.pod = pod;
      return;
    }
    tracked = { key, uid, namespace, name, node, pools: [], pod };
    this.pods.set(key, tracked);
    if (pod.status?.phase === 'Running' && pod.status.podIP) {
      // Already started (simulator restarted): take its addresses back, do not restart it.
      this.adopt(tracked);
      return;
    }
    const behaviour = this.behaviourOf(pod);
    const item = tracked;
    item.timer = setTimeout(
      () => this.run(`start ${key}`, () => this.startPod(item, behaviour)),
      behaviour.readyDelayMs,
    );
  }

  private forget(pod: PodLike): void {
    const key = `${pod.metadata?.namespace}/${pod.metadata?.name}`;
    const tracked = this.pods.get(key);
    if (!tracked || tracked.uid !== pod.metadata?.uid) return;
    clearTimeout(tracked.timer);
    for (const pool of tracked.pools) pool.release(key);
    this.nodes.get(tracked.node)?.podPool.release(key);
    this.pods.delete(key);
    // A released address may be the fixed IP a pod waits for (a rollout replacing a pod, R-NW-1),
    // as a kubelet retries a failed sandbox.
    if (tracked.pools.length) this.retryPodsAwaitingAddress();
  }

  private retryPodsAwaitingAddress(): void {
    for (const waiting of this.pods.values()) {
      const behaviour = waiting.awaitingAddress;
      if (!behaviour) continue;
      waiting.awaitingAddress = undefined;
      this.run(`start ${waiting.key}`, () => this.startPod(waiting, behaviour));
    }
  }

  /** A pod already running (the simulator restarted): take its addresses back, do not restart it. */
  private adopt(tracked: TrackedPod): void {
    tracked.startedAt = Date.parse(tracked.pod.status?.startTime ?? '') || Date.now();
    tracked.counters = new UsageAccumulator(Date.now());
    const podPool = this.nodes.get(tracked.node)!.podPool;
    const status = tracked.pod.metadata?.annotations?.[MULTUS_NETWORK_STATUS];
    if (!status) {
      if (tracked.pod.status?.podIP) podPool.claim(tracked.key, tracked.pod.status.podIP);
      return;
    }
    for (const entry of JSON.parse(status) as Array<{ name: string; ips?: string[]; default?: boolean }>) {
      const ip = entry.ips?.[0];
      if (!ip) continue;
      if (entry.default) {
        podPool.claim(tracked.key, ip);
        continue;
      }
      const [namespace, name] = entry.name.includes('/')
        ? entry.name.split('/')
        : [tracked.namespace, entry.name];
      this.run(`re-claim ${ip} for ${tracked.key}`, async () => {
        const pool = await this.networkPool(namespace, name);
        pool.claim(tracked.key, ip);
        tracked.pools.push(pool);
      });
    }
  }

  private async startPod(tracked: TrackedPod, behaviour: PodBehaviour): Promise<void> {
    if (this.stopped || this.pods.get(tracked.key) !== tracked) return;
    const { namespace, name } = tracked;
    const ref = { apiVersion: 'v1', kind: 'Pod', namespace, name };
    const now = new Date().toISOString();
    const containers = tracked.pod.spec?.containers ?? [];

    // Addresses: one per requested tenant network, else one from the node's pod range.
    const networkStatus: Array<{ name: string; interface: string; ips: string[]; default?: boolean }> = [];
    let primaryIp: string | undefined;
    let ipFailure: string | undefined;
    let awaitsFixedIp = false;
    try {
      const annotations = tracked.pod.metadata?.annotations ?? {};
      const selections = parseNetworkSelections(annotations[MULTUS_NETWORKS]);
      let fixedIps = parseFixedIps(annotations[FIXED_IPS_ANNOTATION]);
      for (const [i, selection] of selections.entries()) {
        const nadNamespace = selection.namespace ?? namespace;
        const pool = await this.networkPool(nadNamespace, selection.name);
        const requested = selection.ips?.[0]?.split('/')[0];
        const fromList = !requested && fixedIps.length > 0;
        const result = fromList
          ? pool.allocateFirstFree(tracked.key, fixedIps)
          : pool.allocate(tracked.key, requested);
        if (fromList) fixedIps = [];
        if (!result.ip) {
          ipFailure = `network ${nadNamespace}/${selection.name}: ${result.error}`;
          awaitsFixedIp = fromList;
          break;
        }
        tracked.pools.push(pool);
        primaryIp ??= result.ip;
        networkStatus.push({
          name: `${nadNamespace}/${selection.name}`,
          interface: selection.interface ?? `net${i + 1}`,
          ips: [result.ip],
        });
      }
    } catch (error) {
      ipFailure = (error as Error).message;
    }
    if (ipFailure) {
      if (awaitsFixedIp) tracked.awaitingAddress = behaviour;
      // As a kubelet does when the CNI plugin fails: the pod stays ContainerCreating, with an event.
      await this.client.mergePatch(
        ref,
        {
          status: {
            phase: 'Pending',
            hostIP: '127.0.0.1',
            conditions: [
              { type: 'PodScheduled', status: 'True', lastTransitionTime: now },
              { type: 'Ready', status: 'False', reason: 'ContainersNotReady', lastTransitionTime: now },
            ],
            containerStatuses: containers.map((c) => ({
              name: c.name,
              image: c.image ?? '',
              imageID: '',
              ready: false,
              restartCount: 0,
              started: false,
              state: {
                waiting: {
                  reason: 'ContainerCreating',
                  message: `failed to set up pod network: ${ipFailure}`,
                },
              },
            })),
          },
        },
        { subresource: 'status' },
      );
      await this.event(
        tracked,
        'Warning',
        'FailedCreatePodSandBox',
        `Failed to create pod sandbox: ${ipFailure}`,
      );
      return;
    }
    const podIp = primaryIp ?? this.nodes.get(tracked.node)!.podPool.allocate(tracked.key).ip!;
    if (networkStatus.length > 0) {
      networkStatus.unshift({
        name: 'cluster-network',
        interface: 'eth0',
        ips: [this.nodes.get(tracked.node)!.podPool.allocate(tracked.key).ip!],
        default: true,
      });
      await this.client.mergePatch(ref, {
        metadata: { annotations: { [MULTUS_NETWORK_STATUS]: JSON.stringify(networkStatus) } },
      });
    }

    // Log files, as the kubelet lays them out.
    const root = this.nodeRoot(tracked.node);
    const podLogDir = join(root, 'var/log/pods', `${namespace}_${name}_${tracked.uid}`);
    for (const container of containers) {
      const id = hex(`${tracked.uid}/${container.name}`);
      const dir = join(podLogDir, container.name);
      await mkdir(dir, { recursive: true });
      const stream = behaviour.failure === 'crash-loop' ? 'stderr' : 'stdout';
      const line =
        behaviour.failure === 'crash-loop'
          ? 'fatal: simulated crash (exit code 1)'
          : `started ${container.image ?? ''}`;
      await appendFile(join(dir, '0.log'), `${now} ${stream} F ${line}\n`);
      const links = join(root, 'var/log/containers');
      await mkdir(links, { recursive: true });
      await symlink(
        join(dir, '0.log'),
        join(links, `${name}_${namespace}_${container.name}-${id}.log`),
      ).catch(() => undefined);
    }

    const failure = behaviour.failure;
    const ready = failure === undefined;
    const containerStatuses = containers.map((c) => {
      const base = {
        name: c.name,
        image: c.image ?? '',
        imageID: `sim://${hex(c.image ?? '').slice(0, 16)}`,
        containerID: `containerd://${hex(`${tracked.uid}/${c.name}`)}`,
      };
      if (failure === 'image-pull')
        return {
          ...base,
          ready: false,
          restartCount: 0,
          started: false,
          state: {
            waiting: {
              reason: 'ErrImagePull',
              message: `rpc error: failed to pull image "${c.image}": simulated pull failure`,
            },
          },
        };
      if (failure === 'crash-loop')
        return {
          ...base,
          ready: false,
          restartCount: 3,
          started: false,
          state: {
            waiting: { reason: 'CrashLoopBackOff', message: 'back-off 40s restarting failed container' },
          },
          lastState: { terminated: { exitCode: 1, reason: 'Error', startedAt: now, finishedAt: now } },
        };
      return { ...base, ready, restartCount: 0, started: true, state: { running: { startedAt: now } } };
    });
    const phase = failure === 'image-pull' ? 'Pending' : 'Running';
    const readyStatus = ready ? 'True' : 'False';
    await this.client.mergePatch(
      ref,
      {
        status: {
          phase,
          hostIP: '127.0.0.1',
          podIP: podIp,
          podIPs: [{ ip: podIp }],
          startTime: now,
          qosClass: 'BestEffort',
          conditions: [
            { type: 'Initialized', status: 'True', lastTransitionTime: now },
            {
              type: 'Ready',
              status: readyStatus,
              ...(ready ? {} : { reason: 'ContainersNotReady' }),
              lastTransitionTime: now,
            },
            {
              type: 'ContainersReady',
              status: readyStatus,
              ...(ready ? {} : { reason: 'ContainersNotReady' }),
              lastTransitionTime: now,
            },
            { type: 'PodScheduled', status: 'True', lastTransitionTime: now },
          ],
          containerStatuses,
        },
      },
      { subresource: 'status' },
    );
    tracked.startedAt = Date.now();
    tracked.counters = new UsageAccumulator(tracked.startedAt);
    if (failure === 'image-pull')
      await this.event(tracked, 'Warning', 'Failed', 'Failed to pull image: simulated pull failure');
    if (failure === 'crash-loop')
      await this.event(tracked, 'Warning', 'BackOff', 'Back-off restarting failed container');
  }

  /** One pool per tenant network; concurrent first uses share one lookup (else each had its own pool). */
  private networkPool(namespace: string, name: string): Promise<IpPool> {
    const key = `${namespace}/${name}`;
    let pool = this.networkPools.get(key);
    if (!pool) {
      pool = this.loadNetworkPool(namespace, name);
      this.networkPools.set(key, pool);
      // A failed lookup (NAD not there yet) is retried by the next pod.
      pool.catch(() => this.networkPools.delete(key));
    }
    return pool;
  }

  private async loadNetworkPool(namespace: string, name: string): Promise<IpPool> {
    const key = `${namespace}/${name}`;
    let nad: (KubeObject & { spec?: { config?: string } }) | undefined;
    try {
      nad = await this.client.get({
        apiVersion: 'k8s.cni.cncf.io/v1',
        kind: 'NetworkAttachmentDefinition',
        namespace,
        name,
      });
    } catch (error) {
      if (error instanceof NotFoundError) throw new Error(`NetworkAttachmentDefinition ${key} not found`);
      throw error;
    }
    const ipam = ipamFromCniConfig(nad?.spec?.config ?? '');
    if (!ipam) throw new Error(`NetworkAttachmentDefinition ${key} has no IPAM range in spec.config`);
    return new IpPool(ipam.range, ipam);
  }

  private behaviourOf(pod: PodLike): Required<Pick<PodBehaviour, 'readyDelayMs'>> & PodBehaviour {
    let behaviour: PodBehaviour = { readyDelayMs: this.options.readyDelayMs ?? 200 };
    for (const rule of this.behaviours)
      if (matches(rule.match, pod)) behaviour = { ...behaviour, ...rule.behaviour };
    const annotations = pod.metadata?.annotations ?? {};
    const failure = annotations[SIM_ANNOTATIONS.failure];
    if (failure === 'image-pull' || failure === 'crash-loop' || failure === 'never-ready')
      behaviour.failure = failure;
    const delay = Number(annotations[SIM_ANNOTATIONS.readyDelayMs]);
    if (Number.isFinite(delay) && delay >= 0) behaviour.readyDelayMs = delay;
    return behaviour as Required<Pick<PodBehaviour, 'readyDelayMs'>> & PodBehaviour;
  }

  private usageOf(tracked: TrackedPod, now: number): Usage {
    let usage: Usage = IDLE_USAGE;
    for (const rule of this.usages) {
      if (!matches(rule.match, tracked.pod)) continue;
      const value = typeof rule.source === 'function' ? rule.source(now - rule.since) : rule.source;
      usage = { ...usage, ...value };
    }
    return usage;
  }

  private async event(
    tracked: TrackedPod,
    type: 'Normal' | 'Warning',
    reason: string,
    message: string,
  ): Promise<void> {
    const now = new Date().toISOString();
    await this.client.create({
      apiVersion: 'v1',
      kind: 'Event',
      metadata: { generateName: `${tracked.name}.`, namespace: tracked.namespace },
      involvedObject: {
        apiVersion: 'v1',
        kind: 'Pod',
        namespace: tracked.namespace,
        name: tracked.name,
        uid: tracked.uid,
      },
      type,
      reason,
      message,
      source: { component: 'kubelet', host: tracked.node },
      firstTimestamp: now,
      lastTimestamp: now,
      count: 1,
    });
  }

  private tracked(namespace: string, name: string): TrackedPod {
    const pod = this.pods.get(`${namespace}/${name}`);
    if (!pod) throw new Error(`pod ${namespace}/${name} is not on a simulated node (yet)`);
    return pod;
  }

  private run(what: string, action: () => Promise<void>): void {
    const promise = action().catch((error: unknown) => {
      if (error instanceof NotFoundError) return; // the pod went away meanwhile
      if (!this.stopped) this.note(`${what}: ${(error as Error).message}`);
    });
    this.work.add(promise);
    void promise.finally(() => this.work.delete(promise));
  }

  private note(problem: string): void {
    this.errors.push(problem);
    if (this.errors.length > 100) this.errors.shift();
  }
}

function matches(match: PodMatch, pod: KubeObject): boolean {
  if (match.namespace && pod.metadata?.namespace !== match.namespace) return false;
  if (match.namePrefix && !pod.metadata?.name?.startsWith(match.namePrefix)) return false;
  for (const [key, value] of Object.entries(match.labels ?? {}))
    if (pod.metadata?.labels?.[key] !== value) return false;
  if (match.image && !(pod as PodLike).spec?.containers?.some((c) => c.image === match.image)) return false;
  return true;
}

function hex(text: string): string {
  return createHash('sha256').update(text).digest('hex');
}

/** Removes a node root written by the simulator (tests). */
export async function removeNodeRoots(logRoot: string): Promise<void> {
  await rm(logRoot, { recursive: true, force: true });
}
