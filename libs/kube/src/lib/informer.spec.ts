/**
 * The informer's recovery when its resourceVersion is gone (410): against the sandbox cluster,
 * restarted from its persisted state on the same port, so the watch history the informer resumes
 * from no longer exists. It must list again and report what changed meanwhile, deletions included.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { waitFor } from '@stratum/util';
import { KubeClusters } from './clusters';
import { Informer } from './informer';
import type { KubeObject } from './resources';
import { SandboxCluster } from './sandbox';

describe('informer after its version expired (410)', () => {
  const dir = mkdtempSync(join(tmpdir(), 'stratum-informer-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('lists again and reports additions, updates and deletions it missed', async () => {
    const persistPath = join(dir, 'state.json');
    let sandbox = await SandboxCluster.start({ name: 'sbx', persistPath, persistDebounceMs: 0 });
    const { token } = sandbox;
    const port = Number(new URL(sandbox.server).port);
    const kubeconfig = sandbox.kubeconfig();
    const client = KubeClusters.fromYaml(kubeconfig, {
      fieldManager: 'test',
      retry: { maxDelayMs: 200 },
    }).client();
    await client.create({ apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'ns' } });
    const cm = (name: string, v: string): KubeObject => ({
      apiVersion: 'v1',
      kind: 'ConfigMap',
      metadata: { name, namespace: 'ns', labels: { app: 'informer-test' } },
      data: { v },
    });
    for (const name of ['keep', 'change', 'drop']) await client.create(cm(name, '1'));

    const informer = new Informer(client, 'v1', 'ConfigMap', {
      namespace: 'ns',
      labelSelector: 'app=informer-test',
      retryMaxMs: 200,
    });
    const seen: string[] = [];
    informer
      .on('add', (o) => seen.push(`add ${o.metadata!.name}`))
      .on('update', (o) => seen.push(`update ${o.metadata!.name}`))
      .on('delete', (o) => seen.push(`delete ${o.metadata!.name}`));
    await informer.start();
    expect(seen.sort()).toEqual(['add change', 'add drop', 'add keep']);
    seen.length = 0;

    // The server goes away. While the informer cannot get in (another token), the objects change;
    // then the server comes back from its saved state without the watch history: the informer's
    // version is too old there.
    await sandbox.stop();
    sandbox = await SandboxCluster.start({
      name: 'sbx',
      persistPath,
      port,
      token: `${token}-other`,
      persistDebounceMs: 0,
    });
    const other = KubeClusters.fromYaml(sandbox.kubeconfig(), { fieldManager: 'test' }).client();
    await other.mergePatch(
      { apiVersion: 'v1', kind: 'ConfigMap', namespace: 'ns', name: 'change' },
      { data: { v: '2' } },
    );
    await other.delete({ apiVersion: 'v1', kind: 'ConfigMap', namespace: 'ns', name: 'drop' });
    await other.create(cm('new', '1'));
    await sandbox.stop();
    expect(seen).toEqual([]);
    sandbox = await SandboxCluster.start({ name: 'sbx', persistPath, port, token, persistDebounceMs: 0 });
    try {
      await waitFor(() => seen.length >= 3, {
        description: `the informer to report 3 changes (saw ${seen.join(', ')})`,
      });
      expect(seen.sort()).toEqual(['add new', 'delete drop', 'update change']);
      expect(
        informer
          .list()
          .map((o) => o.metadata!.name)
          .sort(),
      ).toEqual(['change', 'keep', 'new']);
      expect(informer.get('change', 'ns')?.data).toEqual({ v: '2' });
      expect(informer.stats.expired).toBeGreaterThanOrEqual(1);
      expect(informer.stats.lists).toBe(2);
    } finally {
      await informer.stop();
      await Promise.all([client.close(), other.close()]);
      await sandbox.stop();
    }
  });
});
