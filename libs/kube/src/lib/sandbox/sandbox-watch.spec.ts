import { PatchStrategy, setHeaderOptions } from '@kubernetes/client-node';
import { waitFor } from '@stratum/util';

import { namespace, type SandboxClients, startSandbox } from './spec-helpers';

interface Seen {
  type: string;
  name?: string;
  resourceVersion?: string;
  object: Record<string, unknown>;
}

describe('sandbox cluster: watches', () => {
  let sbx: SandboxClients;

  beforeAll(async () => {
    // A small event window, so a test can outrun it.
    sbx = await startSandbox({ name: 'watch', historySize: 50, bookmarkIntervalMs: 50 });
  });

  afterAll(async () => {
    await sbx.cluster.stop();
  });

  /** Starts a client-node watch collecting its events; `stop` aborts it. */
  async function watch(path: string, query: Record<string, string | number | boolean>) {
    const events: Seen[] = [];
    let ended: unknown = 'running';
    const controller = await sbx.watch.watch(
      path,
      query,
      (type, object: Record<string, unknown> & { metadata?: { name?: string; resourceVersion?: string } }) =>
        events.push({
          type,
          name: object.metadata?.name,
          resourceVersion: object.metadata?.resourceVersion,
          object,
        }),
      (error) => {
        ended = error ?? null;
      },
    );
    return { events, ended: () => ended, stop: () => controller.abort() };
  }

  it('from a resourceVersion, sees create, update and delete in order; from none, the current objects first', async () => {
    const ns = await namespace(sbx);
    await sbx.core.createNamespacedConfigMap({ namespace: ns, body: { metadata: { name: 'before' } } });
    const list = await sbx.core.listNamespacedConfigMap({ namespace: ns });
    const fromVersion = await watch(`/api/v1/namespaces/${ns}/configmaps`, {
      resourceVersion: list.metadata!.resourceVersion!,
    });
    const fromScratch = await watch(`/api/v1/namespaces/${ns}/configmaps`, {});
    try {
      await sbx.core.createNamespacedConfigMap({
        namespace: ns,
        body: { metadata: { name: 'watched' }, data: { v: '1' } },
      });
      await sbx.core.patchNamespacedConfigMap(
        { name: 'watched', namespace: ns, body: { data: { v: '2' } } },
        setHeaderOptions('Content-Type', PatchStrategy.MergePatch),
      );
      await sbx.core.deleteNamespacedConfigMap({ name: 'watched', namespace: ns });
      await waitFor(
        () => fromVersion.events.length >= 3 && fromScratch.events.some((e) => e.type === 'DELETED'),
        {
          description: 'watch events',
        },
      );
      expect(fromVersion.events.map((e) => `${e.type} ${e.name}`)).toEqual([
        'ADDED watched',
        'MODIFIED watched',
        'DELETED watched',
      ]);
      expect((fromVersion.events[1].object['data'] as Record<string, string>).v).toBe('2');
      expect(fromVersion.events.every((e) => e.object['kind'] === 'ConfigMap')).toBe(true);
      const versions = fromVersion.events.map((e) => Number(e.resourceVersion));
      expect([...versions].sort((a, b) => a - b)).toEqual(versions);
      expect(fromScratch.events.map((e) => `${e.type} ${e.name}`)).toEqual([
        'ADDED before',
        'ADDED kube-root-ca.crt',
        'ADDED watched',
        'MODIFIED watched',
        'DELETED watched',
      ]);
    } finally {
      fromVersion.stop();
      fromScratch.stop();
    }
  });

  it('reports objects entering and leaving a label selector as ADDED and DELETED', async () => {
    const ns = await namespace(sbx);
    await sbx.core.createNamespacedConfigMap({ namespace: ns, body: { metadata: { name: 'cm' } } });
    const selected = await watch(`/api/v1/namespaces/${ns}/configmaps`, { labelSelector: 'team=a' });
    const merge = setHeaderOptions('Content-Type', PatchStrategy.MergePatch);
    try {
      await sbx.core.patchNamespacedConfigMap(
        { name: 'cm', namespace: ns, body: { metadata: { labels: { team: 'a' } } } },
        merge,
      );
      await sbx.core.patchNamespacedConfigMap(
        { name: 'cm', namespace: ns, body: { data: { x: '1' } } },
        merge,
      );
      await sbx.core.patchNamespacedConfigMap(
        { name: 'cm', namespace: ns, body: { metadata: { labels: { team: 'b' } } } },
        merge,
      );
      await waitFor(() => selected.events.length >= 3, { description: 'selector transitions' });
      expect(selected.events.map((e) => e.type)).toEqual(['ADDED', 'MODIFIED', 'DELETED']);
    } finally {
      selected.stop();
    }
  });

  it('answers a resourceVersion older than the event window with one ERROR 410 Expired, then ends', async () => {
    const ns = await namespace(sbx);
    const start = await sbx.core.listNamespacedConfigMap({ namespace: ns });
    for (let i = 0; i < 60; i++)
      await sbx.core.createNamespacedConfigMap({ namespace: ns, body: { metadata: { name: `c${i}` } } });
    const expired = await watch(`/api/v1/namespaces/${ns}/configmaps`, {
      resourceVersion: start.metadata!.resourceVersion!,
    });
    await waitFor(() => expired.events.length > 0 && expired.ended() !== 'running', {
      description: 'the 410',
    });
    expect(expired.events).toHaveLength(1);
    expect(expired.events[0].type).toBe('ERROR');
    expect(expired.events[0].object).toEqual({
      kind: 'Status',
      apiVersion: 'v1',
      metadata: {},
      status: 'Failure',
      message: expect.stringMatching(
        new RegExp(`^too old resource version: ${start.metadata!.resourceVersion} \\(\\d+\\)$`),
      ),
      reason: 'Expired',
      code: 410,
    });
  });

  it('sends bookmarks when allowed, and ends at timeoutSeconds', async () => {
    const ns = await namespace(sbx);
    const bookmarks = await watch(`/api/v1/namespaces/${ns}/pods`, {
      allowWatchBookmarks: true,
      timeoutSeconds: 1,
    });
    await waitFor(() => bookmarks.events.some((e) => e.type === 'BOOKMARK'), { description: 'a bookmark' });
    const bookmark = bookmarks.events.find((e) => e.type === 'BOOKMARK');
    expect(bookmark?.object).toMatchObject({
      kind: 'Pod',
      apiVersion: 'v1',
      metadata: { resourceVersion: expect.stringMatching(/^\d+$/) },
    });
    await waitFor(() => bookmarks.ended() !== 'running', {
      timeoutMs: 5_000,
      description: 'the server to end the watch',
    });
    expect(bookmarks.ended()).toBeNull();
  });
});
