import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { waitFor } from '@stratum/util';

import { clientsFor, namespace, type SandboxClients, startSandbox } from './spec-helpers';
import { SandboxCluster } from './sandbox-cluster';

describe('sandbox cluster: persistence across restarts', () => {
  let dir: string;

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'sandbox-state-'));
  });

  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('keeps objects, custom resources and the resourceVersion counter; old watch versions expire', async () => {
    const persistPath = join(dir, 'cluster.json');
    const first: SandboxClients = await startSandbox({
      name: 'persisted',
      persistPath,
      persistDebounceMs: 20,
    });
    const ns = await namespace(first, 'kept');
    await first.core.createNamespacedConfigMap({
      namespace: ns,
      body: { metadata: { name: 'settings' }, data: { answer: '42' } },
    });
    await first.apps.createNamespacedDeployment({
      namespace: ns,
      body: {
        metadata: { name: 'web' },
        spec: {
          replicas: 1,
          selector: { matchLabels: { app: 'web' } },
          template: {
            metadata: { labels: { app: 'web' } },
            spec: { containers: [{ name: 'c', image: 'x:1' }] },
          },
        },
      },
    });
    await first.custom.createNamespacedCustomObject({
      group: 'k8s.cni.cncf.io',
      version: 'v1',
      namespace: ns,
      plural: 'network-attachment-definitions',
      body: {
        apiVersion: 'k8s.cni.cncf.io/v1',
        kind: 'NetworkAttachmentDefinition',
        metadata: { name: 'net' },
        spec: { config: '{}' },
      },
    });
    await waitFor(async () => (await first.core.listNamespacedPod({ namespace: ns })).items.length === 1, {
      description: 'the pod',
    });
    const before = await first.core.listNamespacedConfigMap({ namespace: ns });
    // A change after `before`: the restarted cluster's event window starts past it.
    await first.core.createNamespacedConfigMap({ namespace: ns, body: { metadata: { name: 'after-list' } } });
    // The snapshot is written behind a debounce; it is there well before stop's final write.
    await waitFor(
      async () => (await readFile(persistPath, 'utf8').catch(() => '')).includes('"answer":"42"'),
      {
        description: 'the snapshot file',
      },
    );
    const token = first.cluster.token;
    const port = Number(new URL(first.cluster.server).port);
    await first.cluster.stop();

    const second = clientsFor(await SandboxCluster.start({ name: 'persisted', persistPath, token, port }));
    try {
      expect(second.cluster.server).toBe(first.cluster.server);
      const settings = await second.core.readNamespacedConfigMap({ name: 'settings', namespace: ns });
      expect(settings.data).toEqual({ answer: '42' });
      const nad = (await second.custom.getNamespacedCustomObject({
        group: 'k8s.cni.cncf.io',
        version: 'v1',
        namespace: ns,
        plural: 'network-attachment-definitions',
        name: 'net',
      })) as { spec: { config: string } };
      expect(nad.spec.config).toBe('{}');
      // The controllers pick up where they were: still one pod, no duplicate ReplicaSet.
      expect((await second.apps.listNamespacedReplicaSet({ namespace: ns })).items).toHaveLength(1);
      expect((await second.core.listNamespacedPod({ namespace: ns })).items).toHaveLength(1);

      const after = await second.core.createNamespacedConfigMap({
        namespace: ns,
        body: { metadata: { name: 'later' } },
      });
      expect(Number(after.metadata?.resourceVersion)).toBeGreaterThan(
        Number(before.metadata?.resourceVersion),
      );

      const events: string[] = [];
      const controller = await second.watch.watch(
        `/api/v1/namespaces/${ns}/configmaps`,
        { resourceVersion: before.metadata!.resourceVersion! },
        (type, object: { code?: number }) => events.push(`${type} ${object.code ?? ''}`.trim()),
        () => undefined,
      );
      await waitFor(() => events.length > 0, { description: 'the watch answer' });
      controller.abort();
      expect(events).toEqual(['ERROR 410']);
    } finally {
      await second.cluster.stop();
    }
  });
});
