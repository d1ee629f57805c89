import {
  AppsV1Api,
  CoreV1Api,
  CustomObjectsApi,
  KubeConfig,
  type V1Node,
  type V1Pod,
} from '@kubernetes/client-node';
import { waitFor } from '@stratum/util';
import { existsSync, readFileSync } from 'node:fs';
import { KubeBench, type KubeBenchCluster, sharedKubeBench } from './kube-bench';
import { isAlive } from './process';

jest.setTimeout(120_000);

// Suites run in parallel against the shared bench and its etcd: every name carries our pid.
const suffix = String(process.pid);

/** A client-node config for one cluster, through `server` (default: the cluster's first apiserver). */
function kubeConfig(cluster: KubeBenchCluster, server = cluster.server): KubeConfig {
  const kc = new KubeConfig();
  kc.loadFromClusterAndUser(
    { name: cluster.name, server, caData: cluster.certificateAuthorityData, skipTLSVerify: false },
    { name: `${cluster.name}-admin`, token: cluster.token },
  );
  return kc;
}

/** Whether this pid is a running process (an unreaped zombie counts as gone). */
function running(pid: number): boolean {
  if (!isAlive(pid)) return false;
  try {
    return !/^\d+ \(.*\) Z /.test(readFileSync(`/proc/${pid}/stat`, 'utf8'));
  } catch {
    return false;
  }
}

describe('KubeBench: a bench of its own (1 cluster, no controllers) on the shared etcd', () => {
  const clusterName = `kb-own-${suffix}`;
  const namespace = `kb-own-${suffix}`;
  let bench: KubeBench;
  let core: CoreV1Api;

  beforeAll(async () => {
    bench = await KubeBench.start({
      clusters: [clusterName],
      controllers: false,
      etcdEndpoint: sharedKubeBench().etcdEndpoint,
    });
    core = kubeConfig(bench.clusters[0]).makeApiClient(CoreV1Api);
  });

  afterAll(async () => {
    // stop() also deletes the cluster's keys from the shared etcd: nothing else to clean up.
    await bench?.stop();
  });

  it('serves the API through client-node with the kubeconfig (token + certificate-authority-data)', async () => {
    const kc = new KubeConfig();
    kc.loadFromString(bench.kubeconfig);
    expect(kc.getCurrentContext()).toBe(clusterName);
    const viaKubeconfig = kc.makeApiClient(CoreV1Api);

    await viaKubeconfig.createNamespace({ body: { metadata: { name: namespace } } });
    await viaKubeconfig.createNamespacedConfigMap({
      namespace,
      body: { metadata: { name: 'settings' }, data: { answer: '42' } },
    });
    const read = await core.readNamespacedConfigMap({ name: 'settings', namespace });
    expect(read.data).toEqual({ answer: '42' });
    expect(bench.clusters[0].etcdPrefix).toBe(`/registry-${clusterName}`);
  });

  it('serves the NetworkAttachmentDefinition CRD', async () => {
    const custom = kubeConfig(bench.clusters[0]).makeApiClient(CustomObjectsApi);
    const ref = {
      group: 'k8s.cni.cncf.io',
      version: 'v1',
      namespace,
      plural: 'network-attachment-definitions',
    };
    const config = JSON.stringify({ cniVersion: '0.3.1', type: 'macvlan', master: 'eth1' });
    await custom.createNamespacedCustomObject({
      ...ref,
      body: {
        apiVersion: 'k8s.cni.cncf.io/v1',
        kind: 'NetworkAttachmentDefinition',
        metadata: { name: 'tenant-net' },
        spec: { config },
      },
    });
    const nad = (await custom.getNamespacedCustomObject({ ...ref, name: 'tenant-net' })) as {
      spec: { config: string };
    };
    expect(nad.spec.config).toBe(config);
  });

  it('loses nothing when the apiserver is stopped and started again on the same port', async () => {
    const server = bench.clusters[0].server;
    await bench.stopApiServer(clusterName);
    await expect(core.readNamespace({ name: namespace })).rejects.toThrow();

    await bench.startApiServer(clusterName);
    expect(bench.clusters[0].server).toBe(server);
    const read = await core.readNamespacedConfigMap({ name: 'settings', namespace });
    expect(read.data).toEqual({ answer: '42' });
  });

  it('adds a second apiserver for the cluster: writes through it are seen through the first', async () => {
    const second = await bench.addApiServer(clusterName);
    expect(second.index).toBe(1);
    expect(second.server).not.toBe(bench.clusters[0].server);
    const core2 = kubeConfig(bench.clusters[0], second.server).makeApiClient(CoreV1Api);

    await core2.createNamespacedConfigMap({
      namespace,
      body: { metadata: { name: 'via-second' }, data: { from: 'second' } },
    });
    expect((await core.readNamespacedConfigMap({ name: 'via-second', namespace })).data).toEqual({
      from: 'second',
    });

    // An HA pair: with the first one down, the second keeps taking writes.
    await bench.stopApiServer(clusterName, 0, 'SIGKILL');
    await core2.createNamespacedConfigMap({
      namespace,
      body: { metadata: { name: 'while-first-down' }, data: { ok: 'yes' } },
    });
    await bench.startApiServer(clusterName, 0);
    expect((await core.readNamespacedConfigMap({ name: 'while-first-down', namespace })).data).toEqual({
      ok: 'yes',
    });
  });

  it('reports its processes, and after stop() none of them is alive and its directory is gone', async () => {
    const names = bench.processes().map((p) => p.name);
    expect(names).toEqual([`kube-apiserver ${clusterName}#1`, `kube-apiserver ${clusterName}#0`]);
    expect(bench.processes().every((p) => p.rssBytes > 0)).toBe(true);
    // Three starts of #0 and one of #1; no etcd of its own (the shared one is reused).
    const pids = bench.pids();
    expect(pids).toHaveLength(4);

    await bench.stop();
    await bench.stop(); // idempotent
    expect(pids.filter(running)).toEqual([]);
    expect(existsSync(bench.dir)).toBe(false);
    // Its keys are gone from the shared etcd.
    const b64 = (s: string) => Buffer.from(s).toString('base64');
    const range = await fetch(`${bench.etcdEndpoint}/v3/kv/range`, {
      method: 'POST',
      body: JSON.stringify({
        key: b64(`/registry-${clusterName}/`),
        range_end: b64(`/registry-${clusterName}0`),
        count_only: true,
      }),
    });
    expect(((await range.json()) as { count?: string }).count ?? '0').toBe('0');
  });
});

describe('KubeBench: the shared bench schedules Pods onto a Ready fake Node', () => {
  const info = sharedKubeBench();
  const cluster = info.clusters[0];
  const namespace = `kb-sched-${suffix}`;
  const nodeName = `kb-node-${suffix}`;
  let core: CoreV1Api;
  let apps: AppsV1Api;

  beforeAll(() => {
    // The published kubeconfig file, with the cluster's context.
    const kc = new KubeConfig();
    kc.loadFromFile(info.kubeconfigPath);
    kc.setCurrentContext(cluster.name);
    core = kc.makeApiClient(CoreV1Api);
    apps = kc.makeApiClient(AppsV1Api);
  });

  afterAll(async () => {
    await core?.deleteNamespace({ name: namespace }).catch(() => undefined);
    await core?.deleteNode({ name: nodeName }).catch(() => undefined);
  });

  it('binds both Pods of a 2-replica Deployment to the Node (spec.nodeName)', async () => {
    const now = new Date();
    const node: V1Node = {
      metadata: { name: nodeName, labels: { 'kubernetes.io/hostname': nodeName } },
      spec: {},
      status: {
        conditions: [
          {
            type: 'Ready',
            status: 'True',
            reason: 'KubeletReady',
            message: 'kube bench test node',
            lastHeartbeatTime: now,
            lastTransitionTime: now,
          },
        ],
        capacity: { cpu: '4', memory: '8Gi', pods: '110' },
        allocatable: { cpu: '4', memory: '8Gi', pods: '110' },
      },
    };
    await core.createNode({ body: node });
    // Nodes keep the status they are created with, and the bench adds no not-ready taint.
    const created = await core.readNode({ name: nodeName });
    expect(created.spec?.taints).toBeUndefined();
    expect(created.status?.conditions?.find((c) => c.type === 'Ready')?.status).toBe('True');

    await core.createNamespace({ body: { metadata: { name: namespace } } });
    const labels = { app: `kb-sched-${suffix}` };
    await apps.createNamespacedDeployment({
      namespace,
      body: {
        metadata: { name: 'web' },
        spec: {
          replicas: 2,
          selector: { matchLabels: labels },
          template: {
            metadata: { labels },
            spec: {
              // Only our Node: other suites may add fake Nodes to the shared cluster.
              nodeSelector: { 'kubernetes.io/hostname': nodeName },
              containers: [{ name: 'web', image: 'registry.invalid/web:1' }],
            },
          },
        },
      },
    });

    const bound = await waitFor(
      async () => {
        const pods: V1Pod[] = (await core.listNamespacedPod({ namespace })).items;
        return pods.length === 2 && pods.every((p) => p.spec?.nodeName === nodeName) && pods;
      },
      { timeoutMs: 60_000, intervalMs: 200, description: '2 Pods bound to the fake Node' },
    );
    expect(bound.map((p) => p.spec?.nodeName)).toEqual([nodeName, nodeName]);
  });
});
