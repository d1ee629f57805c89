/**
 * Issue #3 acceptance on the real kube-apiserver bench:
 *  - a Deployment of 3 replicas in each of two namespaces reaches Ready through the node simulator;
 *  - a scale done through the adapter is seen by an informer's watch;
 *  - killing and restarting the API server in the middle of a watch loses nothing: the informer's
 *    cache equals a fresh list afterwards (changes made meanwhile through a second API server).
 */
import { KubeBench, sharedKubeBench } from '@stratum/testing';
import { waitFor } from '@stratum/util';
import { Informer, type KubeObject, KubeClusters, waitForReady } from '../src';
import { type KubeTarget, realBenchTarget } from './targets';

const deployment = (namespace: string, name: string, replicas: number): KubeObject => ({
  apiVersion: 'apps/v1',
  kind: 'Deployment',
  metadata: { name, namespace },
  spec: {
    replicas,
    selector: { matchLabels: { app: name } },
    template: {
      metadata: { labels: { app: name } },
      spec: { containers: [{ name: 'app', image: 'registry.test/app:1' }] },
    },
  },
});

describe('real kube-apiserver bench', () => {
  let target: KubeTarget;
  beforeAll(async () => {
    target = await realBenchTarget({ nodes: 3 });
  }, 60_000);
  afterAll(() => target?.stop());

  it('runs a 3-replica Deployment to Ready in each of two namespaces', async () => {
    const namespaces = [await target.namespace(), await target.namespace()];
    for (const ns of namespaces) await target.client.apply(deployment(ns, 'teller', 3));
    const ready = await Promise.all(
      namespaces.map((ns) =>
        waitForReady(
          target.client,
          { apiVersion: 'apps/v1', kind: 'Deployment', namespace: ns, name: 'teller' },
          45_000,
        ),
      ),
    );
    for (const d of ready) expect((d!.status as { readyReplicas?: number }).readyReplicas).toBe(3);
    for (const ns of namespaces) {
      const pods = await target.client.list<
        KubeObject & { spec?: { nodeName?: string }; status?: { phase?: string } }
      >('v1', 'Pod', { namespace: ns });
      expect(pods.items.map((p) => p.status?.phase)).toEqual(['Running', 'Running', 'Running']);
      // Bound by the real scheduler to this suite's simulated nodes only.
      for (const pod of pods.items) expect(pod.spec?.nodeName).toMatch(/-node-\d$/);
    }
    expect(target.simulator.problems).toEqual([]);
  });

  it('sees a scale made through the adapter in an informer', async () => {
    const ns = await target.namespace();
    await target.client.apply(deployment(ns, 'ledger', 1));
    const informer = new Informer<KubeObject & { spec?: { replicas?: number } }>(
      target.client,
      'apps/v1',
      'Deployment',
      { namespace: ns },
    );
    const seen: number[] = [];
    informer.on('update', (d) => seen.push(d.spec?.replicas ?? -1));
    await informer.start();
    try {
      await target.client.scale(
        { apiVersion: 'apps/v1', kind: 'Deployment', namespace: ns, name: 'ledger' },
        4,
      );
      await waitFor(() => seen.includes(4), {
        timeoutMs: 15_000,
        description: 'the informer to see replicas=4',
      });
      await waitForReady(
        target.client,
        { apiVersion: 'apps/v1', kind: 'Deployment', namespace: ns, name: 'ledger' },
        45_000,
      );
    } finally {
      await informer.stop();
    }
  });
});

describe('informer across an API server restart (real bench, HA pair on one etcd prefix)', () => {
  let bench: KubeBench;
  let reader: KubeClusters;
  let writer: KubeClusters;
  const cluster = `restart${process.pid}`;

  beforeAll(async () => {
    bench = await KubeBench.start({
      clusters: [cluster],
      controllers: false,
      etcdEndpoint: sharedKubeBench().etcdEndpoint,
    });
    const second = await bench.addApiServer(cluster);
    reader = KubeClusters.fromYaml(bench.kubeconfig, { fieldManager: 'stratum-reader' });
    const first = bench.clusters.find((c) => c.name === cluster)!.server;
    writer = KubeClusters.fromYaml(bench.kubeconfig.split(first).join(second.server), {
      fieldManager: 'stratum-writer',
    });
  }, 90_000);
  afterAll(async () => {
    await Promise.all([reader?.close(), writer?.close()]);
    await bench?.stop();
  });

  it('loses nothing: after the restart the cache equals a fresh list', async () => {
    const w = writer.client(cluster);
    const r = reader.client(cluster);
    const ns = 'restart-watch';
    await w.create({ apiVersion: 'v1', kind: 'Namespace', metadata: { name: ns } });
    const cm = (name: string, v: string): KubeObject => ({
      apiVersion: 'v1',
      kind: 'ConfigMap',
      metadata: { name, namespace: ns },
      data: { v },
    });
    for (let i = 0; i < 20; i++) await w.create(cm(`before-${i}`, '1'));

    const informer = new Informer(r, 'v1', 'ConfigMap', { namespace: ns, retryMaxMs: 500 });
    await informer.start();
    await waitFor(() => informer.list().length === 20, { description: 'the informer to list 20 ConfigMaps' });

    await bench.stopApiServer(cluster, 0);
    // Meanwhile, through the other API server: creates, updates and deletes.
    for (let i = 0; i < 10; i++) await w.create(cm(`during-${i}`, '1'));
    for (let i = 0; i < 5; i++)
      await w.mergePatch(
        { apiVersion: 'v1', kind: 'ConfigMap', namespace: ns, name: `before-${i}` },
        { data: { v: '2' } },
      );
    for (let i = 15; i < 20; i++)
      await w.delete({ apiVersion: 'v1', kind: 'ConfigMap', namespace: ns, name: `before-${i}` });
    await bench.startApiServer(cluster, 0);

    const snapshot = (items: KubeObject[]) =>
      items.map((o) => `${o.metadata!.name}@${o.metadata!.resourceVersion}`).sort();
    await waitFor(
      async () => {
        const fresh = await r.list('v1', 'ConfigMap', { namespace: ns });
        return JSON.stringify(snapshot(informer.list())) === JSON.stringify(snapshot(fresh.items));
      },
      { timeoutMs: 30_000, description: 'the informer cache to equal a fresh list' },
    );
    expect(informer.list()).toHaveLength(25);
    expect(informer.get('before-0', ns)?.data).toEqual({ v: '2' });
    expect(informer.get('before-19', ns)).toBeUndefined();
    // It really was cut off: at least one failed (re)connection while the server was down.
    expect(informer.stats.errors + informer.stats.expired).toBeGreaterThan(0);
    await informer.stop();
  });
});
