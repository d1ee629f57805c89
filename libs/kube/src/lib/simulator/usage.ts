/**
 * Resource usage the node simulator reports in the kubelet Summary API shape
 * (`/stats/summary`: node and per-pod CPU, memory, network and filesystem).
 */

/** What a test sets per workload; rates are per second, CPU in millicores. */
export interface Usage {
  cpuMillicores: number;
  memoryBytes: number;
  rxBytesPerSecond: number;
  txBytesPerSecond: number;
  /** Bytes used on the pod's volumes and root filesystem. */
  fsUsedBytes: number;
}

export const IDLE_USAGE: Usage = {
  cpuMillicores: 5,
  memoryBytes: 16 * 1024 * 1024,
  rxBytesPerSecond: 100,
  txBytesPerSecond: 100,
  fsUsedBytes: 1024 * 1024,
};

/** A fixed usage, or one that changes with the time since the rule was set (for load ramps). */
export type UsageSource = Partial<Usage> | ((elapsedMs: number) => Partial<Usage>);

/** Cumulative counters the Summary API reports (CPU seconds, network bytes) for one pod. */
export class UsageAccumulator {
  cpuCoreNanoSeconds = 0;
  rxBytes = 0;
  txBytes = 0;
  private last: number;

  constructor(now: number) {
    this.last = now;
  }

  advance(now: number, usage: Usage): void {
    const seconds = Math.max(0, now - this.last) / 1_000;
    this.last = now;
    this.cpuCoreNanoSeconds += Math.round(usage.cpuMillicores * 1e6 * seconds);
    this.rxBytes += Math.round(usage.rxBytesPerSecond * seconds);
    this.txBytes += Math.round(usage.txBytesPerSecond * seconds);
  }
}

export interface PodUsageSample {
  podRef: { name: string; namespace: string; uid: string };
  startTime: string;
  containers: string[];
  volumes: string[];
  usage: Usage;
  counters: UsageAccumulator;
}

export interface NodeCapacity {
  cpuMillicores: number;
  memoryBytes: number;
  fsCapacityBytes: number;
}

/** Builds one node's Summary (the kubelet's stats/summary JSON). */
export function buildSummary(
  nodeName: string,
  nodeStart: string,
  capacity: NodeCapacity,
  pods: PodUsageSample[],
  nowMs: number,
): Record<string, unknown> {
  const time = new Date(nowMs).toISOString();
  const sum = (pick: (p: PodUsageSample) => number) => pods.reduce((total, p) => total + pick(p), 0);
  const nodeCpu = sum((p) => p.usage.cpuMillicores) + 50; // system overhead
  const nodeMemory = sum((p) => p.usage.memoryBytes) + 256 * 1024 * 1024;
  const nodeFs = sum((p) => p.usage.fsUsedBytes) + 2 * 1024 * 1024 * 1024;
  const cpu = (millicores: number, coreNanoSeconds: number) => ({
    time,
    usageNanoCores: Math.round(millicores * 1e6),
    usageCoreNanoSeconds: coreNanoSeconds,
  });
  const memory = (bytes: number, limit?: number) => ({
    time,
    ...(limit !== undefined ? { availableBytes: Math.max(0, limit - bytes) } : {}),
    usageBytes: bytes,
    workingSetBytes: bytes,
    rssBytes: Math.round(bytes * 0.8),
    pageFaults: 0,
    majorPageFaults: 0,
  });
  const fs = (used: number, capacityBytes: number) => ({
    time,
    availableBytes: Math.max(0, capacityBytes - used),
    capacityBytes,
    usedBytes: used,
    inodesFree: 1_000_000,
    inodes: 1_048_576,
    inodesUsed: 48_576,
  });
  const network = (rx: number, tx: number) => {
    const eth0 = { name: 'eth0', rxBytes: rx, rxErrors: 0, txBytes: tx, txErrors: 0 };
    return { time, ...eth0, interfaces: [eth0] };
  };
  return {
    node: {
      nodeName,
      startTime: nodeStart,
      cpu: cpu(
        nodeCpu,
        sum((p) => p.counters.cpuCoreNanoSeconds),
      ),
      memory: memory(nodeMemory, capacity.memoryBytes),
      network: network(
        sum((p) => p.counters.rxBytes),
        sum((p) => p.counters.txBytes),
      ),
      fs: fs(nodeFs, capacity.fsCapacityBytes),
      runtime: { imageFs: fs(4 * 1024 * 1024 * 1024, capacity.fsCapacityBytes) },
      rlimit: { time, maxpid: 4_194_304, curproc: 100 + pods.length * 5 },
    },
    pods: pods.map((p) => {
      const perContainer = Math.max(1, p.containers.length);
      const volumeShare = p.volumes.length ? Math.round(p.usage.fsUsedBytes / 2 / p.volumes.length) : 0;
      return {
        podRef: p.podRef,
        startTime: p.startTime,
        containers: p.containers.map((name) => ({
          name,
          startTime: p.startTime,
          cpu: cpu(
            p.usage.cpuMillicores / perContainer,
            Math.round(p.counters.cpuCoreNanoSeconds / perContainer),
          ),
          memory: memory(Math.round(p.usage.memoryBytes / perContainer)),
          rootfs: fs(Math.round(p.usage.fsUsedBytes / 2 / perContainer), capacity.fsCapacityBytes),
          logs: fs(64 * 1024, capacity.fsCapacityBytes),
        })),
        cpu: cpu(p.usage.cpuMillicores, p.counters.cpuCoreNanoSeconds),
        memory: memory(p.usage.memoryBytes),
        network: network(p.counters.rxBytes, p.counters.txBytes),
        volume: p.volumes.map((name) => ({ name, ...fs(volumeShare, 10 * 1024 * 1024 * 1024) })),
        'ephemeral-storage': fs(Math.round(p.usage.fsUsedBytes / 2), capacity.fsCapacityBytes),
      };
    }),
  };
}
