import {
  PatchStrategy,
  setHeaderOptions,
  type V1PersistentVolume,
  type V1PersistentVolumeClaim,
} from '@kubernetes/client-node';
import { waitFor } from '@stratum/util';

import { namespace, type SandboxClients, startSandbox } from './spec-helpers';

const BIND_COMPLETED = 'pv.kubernetes.io/bind-completed';
const BOUND_BY_CONTROLLER = 'pv.kubernetes.io/bound-by-controller';

describe('sandbox cluster: persistentvolume-binder (static binding) and storage protection', () => {
  let sbx: SandboxClients;
  let counter = 0;

  beforeAll(async () => {
    sbx = await startSandbox({ name: 'pv-binder', gracefulPodDeletion: false });
  });

  afterAll(async () => {
    await sbx.cluster.stop();
  });

  const volume = (
    name: string,
    options: {
      size?: string;
      claim?: { namespace: string; name: string };
      modes?: string[];
      cls?: string;
    } = {},
  ): V1PersistentVolume => ({
    metadata: { name },
    spec: {
      capacity: { storage: options.size ?? '1Gi' },
      accessModes: options.modes ?? ['ReadWriteMany'],
      storageClassName: options.cls ?? 'static',
      csi: { driver: 'nfs.csi.k8s.io', volumeHandle: name },
      ...(options.claim
        ? { claimRef: { apiVersion: 'v1', kind: 'PersistentVolumeClaim', ...options.claim } }
        : {}),
    },
  });

  const claim = (
    name: string,
    options: { size?: string; volumeName?: string; modes?: string[]; cls?: string } = {},
  ): V1PersistentVolumeClaim => ({
    metadata: { name },
    spec: {
      accessModes: options.modes ?? ['ReadWriteMany'],
      storageClassName: options.cls ?? 'static',
      resources: { requests: { storage: options.size ?? '1Gi' } },
      ...(options.volumeName ? { volumeName: options.volumeName } : {}),
    },
  });

  const pvName = (prefix: string) => `${prefix}-${++counter}`;

  const readVolume = (name: string) => sbx.core.readPersistentVolume({ name });
  const readClaim = (ns: string, name: string) =>
    sbx.core.readNamespacedPersistentVolumeClaim({ namespace: ns, name });

  async function volumeInPhase(name: string, phase: string) {
    return waitFor(
      async () => {
        const pv = await readVolume(name);
        return pv.status?.phase === phase && pv;
      },
      { description: `PersistentVolume ${name} to be ${phase}` },
    );
  }

  async function claimInPhase(ns: string, name: string, phase: string) {
    return waitFor(
      async () => {
        const pvc = await readClaim(ns, name);
        return pvc.status?.phase === phase && pvc;
      },
      { description: `PersistentVolumeClaim ${ns}/${name} to be ${phase}` },
    );
  }

  it('binds a pair pre-bound both ways: full claimRef on the volume, status and bind-completed on the claim', async () => {
    const ns = await namespace(sbx, 'pv');
    const name = pvName('prebound');
    await sbx.core.createPersistentVolume({
      body: volume(name, { size: '2Gi', claim: { namespace: ns, name: 'data' } }),
    });
    expect((await volumeInPhase(name, 'Available')).spec?.claimRef?.uid).toBeUndefined();
    const created = await sbx.core.createNamespacedPersistentVolumeClaim({
      namespace: ns,
      body: claim('data', { size: '1Gi', volumeName: name }),
    });

    const bound = await volumeInPhase(name, 'Bound');
    expect(bound.spec?.claimRef).toEqual({
      apiVersion: 'v1',
      kind: 'PersistentVolumeClaim',
      namespace: ns,
      name: 'data',
      uid: created.metadata?.uid,
      resourceVersion: expect.any(String),
    });
    expect(bound.metadata?.annotations?.[BOUND_BY_CONTROLLER]).toBeUndefined();
    const boundClaim = await claimInPhase(ns, 'data', 'Bound');
    expect(boundClaim.status).toEqual({
      phase: 'Bound',
      accessModes: ['ReadWriteMany'],
      capacity: { storage: '2Gi' },
    });
    expect(boundClaim.metadata?.annotations).toEqual({ [BIND_COMPLETED]: 'yes' });
    expect(boundClaim.spec?.volumeName).toBe(name);
    const managers = (boundClaim.metadata?.managedFields ?? []).map((m) => `${m.manager}:${m.operation}`);
    expect(managers).toContain('kube-controller-manager:Update');
  });

  it('makes a volume without a claim Available', async () => {
    const name = pvName('free');
    await sbx.core.createPersistentVolume({ body: volume(name) });
    const available = await volumeInPhase(name, 'Available');
    expect(available.spec?.claimRef).toBeUndefined();
  });

  it('keeps a claim Pending while the volume it names is missing, too small or claimed by another; binds once one fits', async () => {
    const ns = await namespace(sbx, 'pv');
    const missing = pvName('later');
    const small = pvName('small');
    const taken = pvName('taken');
    await sbx.core.createPersistentVolume({ body: volume(small, { size: '512Mi' }) });
    await sbx.core.createPersistentVolume({
      body: volume(taken, { claim: { namespace: ns, name: 'someone-else' } }),
    });
    for (const [claimName, volumeName] of [
      ['waits', missing],
      ['too-big', small],
      ['late', taken],
    ]) {
      await sbx.core.createNamespacedPersistentVolumeClaim({
        namespace: ns,
        body: claim(claimName, { size: '1Gi', volumeName }),
      });
    }
    // A pair created after them binds: the binder has seen the three claims by then.
    const marker = pvName('marker');
    await sbx.core.createPersistentVolume({
      body: volume(marker, { claim: { namespace: ns, name: 'marker' } }),
    });
    await sbx.core.createNamespacedPersistentVolumeClaim({
      namespace: ns,
      body: claim('marker', { volumeName: marker }),
    });
    await claimInPhase(ns, 'marker', 'Bound');
    for (const claimName of ['waits', 'too-big', 'late']) {
      const pending = await readClaim(ns, claimName);
      expect(pending.status).toEqual({ phase: 'Pending' });
      expect(pending.metadata?.annotations).toBeUndefined();
    }
    expect((await readVolume(small)).status?.phase).toBe('Available');

    // The named volume appears, unclaimed and big enough: the controller claims it for the claim.
    await sbx.core.createPersistentVolume({ body: volume(missing, { size: '1Gi' }) });
    const bound = await volumeInPhase(missing, 'Bound');
    expect(bound.metadata?.annotations?.[BOUND_BY_CONTROLLER]).toBe('yes');
    expect(bound.spec?.claimRef).toMatchObject({ namespace: ns, name: 'waits' });
    const boundClaim = await claimInPhase(ns, 'waits', 'Bound');
    // The claim named its volume itself: not bound by the controller.
    expect(boundClaim.metadata?.annotations).toEqual({ [BIND_COMPLETED]: 'yes' });
  });

  it('binds a claim without a volume name to the smallest Available volume that satisfies it', async () => {
    const ns = await namespace(sbx, 'pv');
    const cls = `pick-${++counter}`;
    const big = pvName('big');
    const fit = pvName('fit');
    const tooSmall = pvName('tiny');
    const readOnly = pvName('rox');
    await sbx.core.createPersistentVolume({ body: volume(big, { size: '10Gi', cls }) });
    await sbx.core.createPersistentVolume({ body: volume(fit, { size: '2Gi', cls }) });
    await sbx.core.createPersistentVolume({ body: volume(tooSmall, { size: '1Gi', cls }) });
    await sbx.core.createPersistentVolume({
      body: volume(readOnly, { size: '2Gi', cls, modes: ['ReadOnlyMany'] }),
    });
    await volumeInPhase(fit, 'Available');
    await sbx.core.createNamespacedPersistentVolumeClaim({
      namespace: ns,
      body: claim('any', { size: '1500Mi', cls }),
    });
    const boundClaim = await claimInPhase(ns, 'any', 'Bound');
    expect(boundClaim.spec?.volumeName).toBe(fit);
    expect(boundClaim.metadata?.annotations).toEqual({
      [BIND_COMPLETED]: 'yes',
      [BOUND_BY_CONTROLLER]: 'yes',
    });
    expect(boundClaim.status?.capacity).toEqual({ storage: '2Gi' });
    const bound = await volumeInPhase(fit, 'Bound');
    expect(bound.metadata?.annotations?.[BOUND_BY_CONTROLLER]).toBe('yes');
    for (const other of [big, tooSmall, readOnly])
      expect((await readVolume(other)).status?.phase).toBe('Available');
  });

  it('releases the volume when its bound claim is deleted (Retain keeps it and its claimRef)', async () => {
    const ns = await namespace(sbx, 'pv');
    const name = pvName('kept');
    await sbx.core.createPersistentVolume({ body: volume(name, { claim: { namespace: ns, name: 'gone' } }) });
    await sbx.core.createNamespacedPersistentVolumeClaim({
      namespace: ns,
      body: claim('gone', { volumeName: name }),
    });
    const uid = (await claimInPhase(ns, 'gone', 'Bound')).metadata?.uid;
    await sbx.core.deleteNamespacedPersistentVolumeClaim({ namespace: ns, name: 'gone' });
    const released = await volumeInPhase(name, 'Released');
    expect(released.spec?.claimRef).toMatchObject({ name: 'gone', uid });
    expect(released.spec?.persistentVolumeReclaimPolicy).toBe('Retain');

    // A new claim of the same name is another claim: the released volume does not take it.
    await sbx.core.createNamespacedPersistentVolumeClaim({
      namespace: ns,
      body: claim('gone', { volumeName: name }),
    });
    const marker = pvName('marker');
    await sbx.core.createPersistentVolume({
      body: volume(marker, { claim: { namespace: ns, name: 'marker' } }),
    });
    await sbx.core.createNamespacedPersistentVolumeClaim({
      namespace: ns,
      body: claim('marker', { volumeName: marker }),
    });
    await claimInPhase(ns, 'marker', 'Bound');
    expect((await readClaim(ns, 'gone')).status?.phase).toBe('Pending');
    expect((await readVolume(name)).status?.phase).toBe('Released');
  });

  it('keeps a deleted claim while a scheduled pod mounts it, and a deleted volume while it is Bound', async () => {
    const ns = await namespace(sbx, 'pv');
    const name = pvName('guarded');
    const created = await sbx.core.createPersistentVolume({
      body: volume(name, { claim: { namespace: ns, name: 'used' } }),
    });
    expect(created.metadata?.finalizers).toEqual(['kubernetes.io/pv-protection']);
    const claimCreated = await sbx.core.createNamespacedPersistentVolumeClaim({
      namespace: ns,
      body: claim('used', { volumeName: name }),
    });
    expect(claimCreated.metadata?.finalizers).toEqual(['kubernetes.io/pvc-protection']);
    await claimInPhase(ns, 'used', 'Bound');
    await sbx.core.createNamespacedPod({
      namespace: ns,
      body: {
        metadata: { name: 'mounts' },
        spec: {
          nodeName: 'node-x',
          containers: [{ name: 'app', image: 'registry.test/app:1' }],
          volumes: [{ name: 'data', persistentVolumeClaim: { claimName: 'used' } }],
        },
      },
    });

    // The volume is Bound: deleting it leaves it Terminating, and the claim stays Bound.
    await sbx.core.deletePersistentVolume({ name });
    // The claim is mounted: deleting it leaves it Terminating too.
    await sbx.core.deleteNamespacedPersistentVolumeClaim({ namespace: ns, name: 'used' });
    const marker = pvName('marker');
    await sbx.core.createPersistentVolume({
      body: volume(marker, { claim: { namespace: ns, name: 'marker' } }),
    });
    await sbx.core.createNamespacedPersistentVolumeClaim({
      namespace: ns,
      body: claim('marker', { volumeName: marker }),
    });
    await claimInPhase(ns, 'marker', 'Bound');
    const terminatingClaim = await readClaim(ns, 'used');
    expect(terminatingClaim.metadata?.deletionTimestamp).toBeDefined();
    expect(terminatingClaim.status?.phase).toBe('Bound');
    const terminatingVolume = await readVolume(name);
    expect(terminatingVolume.metadata?.deletionTimestamp).toBeDefined();
    expect(terminatingVolume.status?.phase).toBe('Bound');

    // The pod goes: the claim goes, the volume is Released and goes as well.
    await sbx.core.deleteNamespacedPod({ namespace: ns, name: 'mounts' });
    await waitFor(
      async () =>
        (await sbx.core.listPersistentVolume()).items.every((pv) => pv.metadata?.name !== name) &&
        (await sbx.core.listNamespacedPersistentVolumeClaim({ namespace: ns })).items.every(
          (pvc) => pvc.metadata?.name !== 'used',
        ),
      { description: 'the claim and its volume to go once nothing uses them' },
    );
  });

  it('marks a bound claim Lost when its volume is gone', async () => {
    const ns = await namespace(sbx, 'pv');
    const name = pvName('lost');
    await sbx.core.createPersistentVolume({
      body: volume(name, { claim: { namespace: ns, name: 'orphan' } }),
    });
    await sbx.core.createNamespacedPersistentVolumeClaim({
      namespace: ns,
      body: claim('orphan', { volumeName: name }),
    });
    await claimInPhase(ns, 'orphan', 'Bound');
    await sbx.core.deletePersistentVolume({ name });
    // Only once someone removes the protection finalizer of the Bound volume.
    await sbx.core.patchPersistentVolume(
      { name, body: { metadata: { finalizers: null } } },
      setHeaderOptions('Content-Type', PatchStrategy.MergePatch),
    );
    const lost = await claimInPhase(ns, 'orphan', 'Lost');
    expect(lost.status).toEqual({ phase: 'Lost' });
  });
});
