/**
 * The two clusters the contract runs on: the in-process sandbox and the real kube-apiserver bench.
 * On the shared real bench several suites run at once, so each target brings its own simulated
 * Nodes and pins its namespaces to them (PodNodeSelector), and removes both afterwards.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { sharedKubeBench } from '@stratum/testing';
import { KubeClusters, NodeSimulator, SandboxCluster, type SimulatedNode } from '../src';
import type { ContractContext } from './contract/cases';

export interface KubeTarget extends ContractContext {
  name: string;
  clusters: KubeClusters;
  stop(): Promise<void>;
}

export interface TargetOptions {
  sandbox?: Parameters<typeof SandboxCluster.start>[0];
  nodes?: number;
  readyDelayMs?: number;
}

let counter = 0;

function simulatedNodes(prefix: string, count: number): SimulatedNode[] {
  return Array.from({ length: count }, (_, i) => ({
    name: `${prefix}-node-${i + 1}`,
    networkZone: i % 2 === 0 ? 'zone-a' : 'zone-b',
    securityZone: 'intranet',
    rack: `rack-${(i % 3) + 1}`,
    labels: { 'stratum.io/bench-suite': prefix },
  }));
}

async function withSimulator(
  name: string,
  clusters: KubeClusters,
  cluster: string | undefined,
  suite: string,
  options: TargetOptions,
  stopCluster: () => Promise<void>,
): Promise<KubeTarget> {
  const client = clusters.client(cluster);
  const otherClusters = clusters.withFieldManager('stratum-other');
  const other = otherClusters.client(cluster);
  const logRoot = await mkdtemp(join(tmpdir(), `stratum-nodes-${suite}-`));
  const simulator = await NodeSimulator.start({
    client,
    nodes: simulatedNodes(suite, options.nodes ?? 3),
    logRoot,
    readyDelayMs: options.readyDelayMs ?? 50,
  });
  const namespaces: string[] = [];
  return {
    name,
    clusters,
    client,
    other,
    simulator,
    async namespace(nsOptions = {}) {
      const ns = `${suite}-${++counter}`;
      const selector = Object.entries({ 'stratum.io/bench-suite': suite, ...nsOptions.nodeSelector })
        .map(([k, v]) => `${k}=${v}`)
        .join(',');
      await client.create({
        apiVersion: 'v1',
        kind: 'Namespace',
        metadata: {
          name: ns,
          // Pods of this namespace go to this target's nodes only (PodNodeSelector admission).
          annotations: { 'scheduler.alpha.kubernetes.io/node-selector': selector },
        },
      });
      namespaces.push(ns);
      return ns;
    },
    async stop() {
      for (const ns of namespaces)
        await client.delete({ apiVersion: 'v1', kind: 'Namespace', name: ns }).catch(() => false);
      await simulator.unregisterNodes().catch(() => undefined);
      await simulator.stop();
      await Promise.all([clusters.close(), otherClusters.close()]);
      await stopCluster();
      await rm(logRoot, { recursive: true, force: true });
    },
  };
}

export async function sandboxTarget(options: TargetOptions = {}): Promise<KubeTarget> {
  const sandbox = await SandboxCluster.start({ name: 'sandbox', ...options.sandbox });
  const clusters = KubeClusters.fromYaml(sandbox.kubeconfig(), { fieldManager: 'stratum-contract' });
  return withSimulator('sandbox', clusters, undefined, `sbx${process.pid}`, options, () => sandbox.stop());
}

export async function realBenchTarget(
  options: TargetOptions & { cluster?: string } = {},
): Promise<KubeTarget> {
  const bench = sharedKubeBench();
  const clusters = KubeClusters.fromFile(bench.kubeconfigPath, { fieldManager: 'stratum-contract' });
  const cluster = options.cluster ?? bench.clusters[0].name;
  const suite = `real${process.pid}x${++counter}`;
  // The shared bench outlives the suite: only this target's nodes and namespaces are removed.
  return withSimulator(`real ${cluster}`, clusters, cluster, suite, options, async () => undefined);
}
