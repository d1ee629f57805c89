import { PatchStrategy, setHeaderOptions, type V1Deployment, type V1Pod } from '@kubernetes/client-node';
import { waitFor } from '@stratum/util';

import { failure, namespace, type SandboxClients, startSandbox } from './spec-helpers';

const merge = setHeaderOptions('Content-Type', PatchStrategy.MergePatch);

describe('sandbox cluster: controllers and scheduler', () => {
  let sbx: SandboxClients;

  beforeAll(async () => {
    sbx = await startSandbox({ name: 'workloads', gracefulPodDeletion: false });
    await node('node-a', { zone: 'a', disk: 'ssd' });
    await node('node-b', { zone: 'b' });
  });

  afterAll(async () => {
    await sbx.cluster.stop();
  });

  /** A node as a kubelet registers it: labels, capacity, then a Ready condition. */
  async function node(
    name: string,
    labels: Record<string, string>,
    taints?: Array<{ key: string; value?: string; effect: string }>,
  ) {
    await sbx.core.createNode({ body: { metadata: { name, labels }, spec: taints ? { taints } : {} } });
    await sbx.core.patchNodeStatus(
      {
        name,
        body: {
          status: {
            allocatable: { cpu: '8', memory: '16Gi', pods: '110' },
            conditions: [
              {
                type: 'Ready',
                status: 'True',
                reason: 'KubeletReady',
                lastHeartbeatTime: new Date().toISOString(),
              },
            ],
          },
        },
      },
      merge,
    );
  }

  /** What the node simulator does: running and ready, through pods/status. */
  async function markReady(ns: string, pods: V1Pod[]) {
    for (const pod of pods) {
      if (!pod.spec?.nodeName || pod.metadata?.deletionTimestamp) continue;
      if (pod.status?.conditions?.some((c) => c.type === 'Ready' && c.status === 'True')) continue;
      await sbx.core.patchNamespacedPodStatus(
        {
          name: pod.metadata!.name!,
          namespace: ns,
          body: {
            status: {
              phase: 'Running',
              conditions: [
                { type: 'PodScheduled', status: 'True' },
                { type: 'Ready', status: 'True', lastTransitionTime: new Date().toISOString() },
              ],
            },
          },
        },
        merge,
      );
    }
  }

  async function pods(ns: string, labelSelector: string): Promise<V1Pod[]> {
    return (await sbx.core.listNamespacedPod({ namespace: ns, labelSelector })).items;
  }

  const deployment = (name: string, replicas: number, image = 'registry.test/app:1'): V1Deployment => ({
    metadata: { name },
    spec: {
      replicas,
      selector: { matchLabels: { app: name } },
      template: { metadata: { labels: { app: name } }, spec: { containers: [{ name: 'app', image }] } },
    },
  });

  it('rolls a Deployment out: ReplicaSet, pods on ready nodes, readiness from pod status', async () => {
    const ns = await namespace(sbx);
    await sbx.apps.createNamespacedDeployment({ namespace: ns, body: deployment('web', 3) });
    const scheduled = await waitFor(
      async () => {
        const found = await pods(ns, 'app=web');
        return found.length === 3 && found.every((p) => p.spec?.nodeName) && found;
      },
      { description: 'three scheduled pods' },
    );
    const [replicaSet] = (await sbx.apps.listNamespacedReplicaSet({ namespace: ns })).items;
    const hash = replicaSet.metadata?.labels?.['pod-template-hash'];
    expect(replicaSet.metadata?.name).toBe(`web-${hash}`);
    expect(replicaSet.metadata?.ownerReferences?.[0]).toMatchObject({
      kind: 'Deployment',
      name: 'web',
      controller: true,
    });
    expect(replicaSet.metadata?.annotations?.['deployment.kubernetes.io/revision']).toBe('1');
    for (const pod of scheduled) {
      expect(pod.metadata?.name).toMatch(new RegExp(`^web-${hash}-[bcdfghjklmnpqrstvwxz2456789]{5}$`));
      expect(pod.metadata?.labels).toEqual({ app: 'web', 'pod-template-hash': hash });
      expect(pod.metadata?.ownerReferences?.[0]).toMatchObject({
        kind: 'ReplicaSet',
        name: replicaSet.metadata?.name,
      });
      expect(pod.status?.phase).toBe('Pending');
      expect(pod.status?.conditions).toContainEqual(
        expect.objectContaining({ type: 'PodScheduled', status: 'True' }),
      );
    }
    // Spread by pod count over the two nodes.
    const perNode = new Set(scheduled.map((p) => p.spec?.nodeName));
    expect(perNode).toEqual(new Set(['node-a', 'node-b']));

    const unready = await sbx.apps.readNamespacedDeployment({ name: 'web', namespace: ns });
    expect(unready.status).toMatchObject({ replicas: 3, updatedReplicas: 3, unavailableReplicas: 3 });
    expect(unready.status?.conditions?.find((c) => c.type === 'Available')).toMatchObject({
      status: 'False',
      reason: 'MinimumReplicasUnavailable',
    });

    await markReady(ns, scheduled);
    const ready = await waitFor(
      async () => {
        const d = await sbx.apps.readNamespacedDeployment({ name: 'web', namespace: ns });
        return d.status?.availableReplicas === 3 && d;
      },
      { description: 'an available deployment' },
    );
    expect(ready.status).toMatchObject({
      observedGeneration: 1,
      replicas: 3,
      updatedReplicas: 3,
      readyReplicas: 3,
      availableReplicas: 3,
    });
    expect(ready.status?.unavailableReplicas).toBeUndefined();
    expect(ready.status?.conditions?.map((c) => `${c.type}=${c.status}/${c.reason}`)).toEqual([
      'Available=True/MinimumReplicasAvailable',
      'Progressing=True/NewReplicaSetAvailable',
    ]);
    expect(ready.metadata?.generation).toBe(1);
  });

  it('rolls a new template out with a new ReplicaSet and retires the old one as new pods become ready', async () => {
    const ns = await namespace(sbx);
    await sbx.apps.createNamespacedDeployment({ namespace: ns, body: deployment('api', 2) });
    await waitFor(async () => (await pods(ns, 'app=api')).length === 2, { description: 'first pods' });
    await markReady(ns, await pods(ns, 'app=api'));
    await sbx.apps.patchNamespacedDeployment(
      {
        name: 'api',
        namespace: ns,
        body: {
          spec: { template: { spec: { containers: [{ name: 'app', image: 'registry.test/app:2' }] } } },
        },
      },
      setHeaderOptions('Content-Type', PatchStrategy.StrategicMergePatch),
    );
    // Keep acting as the kubelet until only new pods remain and the old ReplicaSet is at 0.
    await waitFor(
      async () => {
        const current = await pods(ns, 'app=api');
        await markReady(ns, current);
        const images = current.map((p) => p.spec?.containers[0].image);
        return current.length === 2 && images.every((i) => i === 'registry.test/app:2');
      },
      { description: 'the rollout to replace every pod' },
    );
    const sets = (await sbx.apps.listNamespacedReplicaSet({ namespace: ns })).items;
    expect(sets).toHaveLength(2);
    const byRevision = Object.fromEntries(
      sets.map((rs) => [rs.metadata?.annotations?.['deployment.kubernetes.io/revision'], rs.spec?.replicas]),
    );
    expect(byRevision).toEqual({ '1': 0, '2': 2 });
    const done = await waitFor(
      async () => {
        const d = await sbx.apps.readNamespacedDeployment({ name: 'api', namespace: ns });
        return (
          d.status?.updatedReplicas === 2 && d.status.availableReplicas === 2 && d.status.replicas === 2 && d
        );
      },
      { description: 'the rollout status' },
    );
    expect(done.metadata?.annotations?.['deployment.kubernetes.io/revision']).toBe('2');
    expect(done.metadata?.generation).toBe(2);
  });

  it('scales through /scale: pods are added and removed', async () => {
    const ns = await namespace(sbx);
    await sbx.apps.createNamespacedDeployment({ namespace: ns, body: deployment('scaled', 1) });
    await sbx.apps.patchNamespacedDeploymentScale(
      { name: 'scaled', namespace: ns, body: { spec: { replicas: 4 } } },
      merge,
    );
    await waitFor(async () => (await pods(ns, 'app=scaled')).length === 4, { description: 'four pods' });
    await sbx.apps.patchNamespacedDeploymentScale(
      { name: 'scaled', namespace: ns, body: { spec: { replicas: 1 } } },
      merge,
    );
    await waitFor(async () => (await pods(ns, 'app=scaled')).length === 1, { description: 'one pod left' });
    const scale = await sbx.apps.readNamespacedDeploymentScale({ name: 'scaled', namespace: ns });
    await waitFor(
      async () =>
        (await sbx.apps.readNamespacedDeploymentScale({ name: 'scaled', namespace: ns })).status?.replicas ===
        1,
      {
        description: 'status.replicas 1',
      },
    );
    expect(scale.status?.selector).toBe('app=scaled');
  });

  it('schedules by nodeSelector, required node affinity and taints, and reports unschedulable pods', async () => {
    const ns = await namespace(sbx);
    const pod = (name: string, spec: Partial<NonNullable<V1Pod['spec']>>): V1Pod => ({
      metadata: { name },
      spec: { containers: [{ name: 'c', image: 'x:1' }], ...spec },
    });
    await sbx.core.createNamespacedPod({
      namespace: ns,
      body: pod('ssd', { nodeSelector: { disk: 'ssd' } }),
    });
    await sbx.core.createNamespacedPod({
      namespace: ns,
      body: pod('not-a', {
        affinity: {
          nodeAffinity: {
            requiredDuringSchedulingIgnoredDuringExecution: {
              nodeSelectorTerms: [{ matchExpressions: [{ key: 'zone', operator: 'NotIn', values: ['a'] }] }],
            },
          },
        },
      }),
    });
    await sbx.core.createNamespacedPod({
      namespace: ns,
      body: pod('nowhere', { nodeSelector: { zone: 'mars' } }),
    });
    const placed = async (name: string) =>
      (await sbx.core.readNamespacedPod({ name, namespace: ns })).spec?.nodeName;
    await waitFor(async () => (await placed('ssd')) && (await placed('not-a')), { description: 'placement' });
    expect(await placed('ssd')).toBe('node-a');
    expect(await placed('not-a')).toBe('node-b');
    const stuck = await waitFor(
      async () => {
        const p = await sbx.core.readNamespacedPod({ name: 'nowhere', namespace: ns });
        return p.status?.conditions?.find((c) => c.type === 'PodScheduled' && c.status === 'False');
      },
      { description: 'the Unschedulable condition' },
    );
    expect(stuck).toMatchObject({
      reason: 'Unschedulable',
      message: expect.stringMatching(/^0\/\d+ nodes are available: .*didn't match node selector/),
    });

    // A tainted node takes only pods that tolerate it; a new node lets the waiting pod in.
    await node('node-mars', { zone: 'mars' }, [{ key: 'dedicated', value: 'mars', effect: 'NoSchedule' }]);
    await sbx.core.createNamespacedPod({
      namespace: ns,
      body: pod('tolerant', {
        nodeSelector: { zone: 'mars' },
        tolerations: [{ key: 'dedicated', operator: 'Equal', value: 'mars', effect: 'NoSchedule' }],
      }),
    });
    await waitFor(async () => (await placed('tolerant')) === 'node-mars', {
      description: 'the tolerant pod on node-mars',
    });
    const still = await sbx.core.readNamespacedPod({ name: 'nowhere', namespace: ns });
    expect(still.spec?.nodeName).toBeUndefined();
    expect(still.status?.conditions?.[0].message).toContain(
      "had taint {dedicated: mars}, that the pod didn't tolerate",
    );
    await sbx.core.deleteNode({ name: 'node-mars' });
  });

  it('keeps nodes whose Ready condition is False out (not-ready taint), as the node lifecycle controller does', async () => {
    await node('node-sick', { zone: 'sick' });
    await sbx.core.patchNodeStatus(
      {
        name: 'node-sick',
        body: { status: { conditions: [{ type: 'Ready', status: 'False', reason: 'KubeletNotReady' }] } },
      },
      merge,
    );
    await waitFor(
      async () =>
        (await sbx.core.readNode({ name: 'node-sick' })).spec?.taints?.some(
          (t) => t.key === 'node.kubernetes.io/not-ready',
        ),
      { description: 'the not-ready taint' },
    );
    const ns = await namespace(sbx);
    await sbx.core.createNamespacedPod({
      namespace: ns,
      body: {
        metadata: { name: 'p' },
        spec: { nodeSelector: { zone: 'sick' }, containers: [{ name: 'c', image: 'x:1' }] },
      },
    });
    await waitFor(
      async () =>
        (await sbx.core.readNamespacedPod({ name: 'p', namespace: ns })).status?.conditions?.some(
          (c) => c.reason === 'Unschedulable',
        ),
      { description: 'p unschedulable' },
    );
    await sbx.core.patchNodeStatus(
      {
        name: 'node-sick',
        body: { status: { conditions: [{ type: 'Ready', status: 'True', reason: 'KubeletReady' }] } },
      },
      merge,
    );
    await waitFor(
      async () =>
        (await sbx.core.readNamespacedPod({ name: 'p', namespace: ns })).spec?.nodeName === 'node-sick',
      {
        description: 'p scheduled once the node is ready',
      },
    );
    await sbx.core.deleteNode({ name: 'node-sick' });
  });

  it('creates StatefulSet pods one ordinal at a time, each after its predecessor is ready', async () => {
    const ns = await namespace(sbx);
    await sbx.apps.createNamespacedStatefulSet({
      namespace: ns,
      body: {
        metadata: { name: 'db' },
        spec: {
          replicas: 3,
          serviceName: 'db',
          selector: { matchLabels: { app: 'db' } },
          template: {
            metadata: { labels: { app: 'db' } },
            spec: { containers: [{ name: 'db', image: 'postgres:13' }] },
          },
          volumeClaimTemplates: [
            {
              metadata: { name: 'data' },
              spec: { accessModes: ['ReadWriteOnce'], resources: { requests: { storage: '1Gi' } } },
            },
          ],
        },
      },
    });
    const first = await waitFor(async () => (await pods(ns, 'app=db')).filter((p) => p.spec?.nodeName), {
      description: 'db-0',
    });
    expect(first.map((p) => p.metadata?.name)).toEqual(['db-0']);
    expect(first[0].spec?.volumes?.find((v) => v.name === 'data')?.persistentVolumeClaim?.claimName).toBe(
      'data-db-0',
    );
    expect(
      (await sbx.core.readNamespacedPersistentVolumeClaim({ name: 'data-db-0', namespace: ns })).status
        ?.phase,
    ).toBe('Pending');
    await waitFor(
      async () => {
        const current = await pods(ns, 'app=db');
        await markReady(ns, current);
        return current.length === 3 && current.every((p) => p.status?.phase === 'Running');
      },
      { description: 'all three pods running' },
    );
    expect((await pods(ns, 'app=db')).map((p) => p.metadata?.name)).toEqual(['db-0', 'db-1', 'db-2']);
    const sts = await waitFor(
      async () => {
        const s = await sbx.apps.readNamespacedStatefulSet({ name: 'db', namespace: ns });
        return s.status?.readyReplicas === 3 && s;
      },
      { description: 'statefulset ready' },
    );
    expect(sts.status).toMatchObject({
      replicas: 3,
      currentReplicas: 3,
      updatedReplicas: 3,
      observedGeneration: 1,
    });
    await sbx.apps.patchNamespacedStatefulSetScale(
      { name: 'db', namespace: ns, body: { spec: { replicas: 1 } } },
      merge,
    );
    await waitFor(async () => (await pods(ns, 'app=db')).length === 1, {
      description: 'scaled down to db-0',
    });
    expect((await pods(ns, 'app=db'))[0].metadata?.name).toBe('db-0');
  });

  it('collects garbage through ownerReferences: background, foreground and orphan', async () => {
    const ns = await namespace(sbx);
    await sbx.apps.createNamespacedDeployment({ namespace: ns, body: deployment('bg', 2) });
    await waitFor(async () => (await pods(ns, 'app=bg')).length === 2, { description: 'bg pods' });
    await sbx.apps.deleteNamespacedDeployment({ name: 'bg', namespace: ns });
    await waitFor(
      async () =>
        (await pods(ns, 'app=bg')).length === 0 &&
        (await sbx.apps.listNamespacedReplicaSet({ namespace: ns })).items.length === 0,
      { description: 'background collection' },
    );

    await sbx.apps.createNamespacedDeployment({ namespace: ns, body: deployment('fg', 1) });
    await waitFor(async () => (await pods(ns, 'app=fg')).length === 1, { description: 'fg pod' });
    const deleting = await sbx.apps.deleteNamespacedDeployment({
      name: 'fg',
      namespace: ns,
      propagationPolicy: 'Foreground',
    });
    expect(deleting).toBeDefined();
    await waitFor(
      async () =>
        (await failure(sbx.apps.readNamespacedDeployment({ name: 'fg', namespace: ns }))).code === 404,
      {
        description: 'the foreground-deleted deployment to go after its dependents',
      },
    );
    expect(await pods(ns, 'app=fg')).toHaveLength(0);

    await sbx.apps.createNamespacedDeployment({ namespace: ns, body: deployment('or', 1) });
    await waitFor(async () => (await pods(ns, 'app=or')).length === 1, { description: 'or pod' });
    await sbx.apps.deleteNamespacedDeployment({ name: 'or', namespace: ns, propagationPolicy: 'Orphan' });
    const orphans = await waitFor(
      async () => {
        const sets = (await sbx.apps.listNamespacedReplicaSet({ namespace: ns, labelSelector: 'app=or' }))
          .items;
        return sets.length === 1 && !sets[0].metadata?.ownerReferences && sets;
      },
      { description: 'the orphaned ReplicaSet' },
    );
    expect(orphans[0].spec?.replicas).toBe(1);
    expect(await pods(ns, 'app=or')).toHaveLength(1);
  });
});
