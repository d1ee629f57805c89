import {
  PatchStrategy,
  setHeaderOptions,
  type V1ConfigMap,
  type V1Deployment,
} from '@kubernetes/client-node';

import { failure, namespace, request, type SandboxClients, startSandbox } from './spec-helpers';

interface ManagedEntry {
  manager: string;
  operation: string;
  fieldsV1: Record<string, unknown>;
}

describe('sandbox cluster: server-side apply and patches', () => {
  let sbx: SandboxClients;

  beforeAll(async () => {
    sbx = await startSandbox({ name: 'apply' });
  });

  afterAll(async () => {
    await sbx.cluster.stop();
  });

  const configMap = (
    ns: string,
    data: Record<string, string>,
    labels?: Record<string, string>,
  ): V1ConfigMap => ({
    apiVersion: 'v1',
    kind: 'ConfigMap',
    metadata: { name: 'applied', namespace: ns, ...(labels ? { labels } : {}) },
    data,
  });

  const apply = <T extends V1ConfigMap | V1Deployment>(object: T, manager: string, force = false) =>
    sbx.objects.patch(object, undefined, undefined, manager, force, PatchStrategy.ServerSideApply);

  const managers = (object: { metadata?: { managedFields?: unknown[] } }) =>
    (object.metadata?.managedFields ?? []) as ManagedEntry[];

  it('creates, updates, removes fields it no longer applies, and is a no-op when nothing changes', async () => {
    const ns = await namespace(sbx);
    const first = await apply(configMap(ns, { a: '1', b: '2' }), 'owner');
    expect(first.data).toEqual({ a: '1', b: '2' });
    expect(managers(first)).toEqual([
      expect.objectContaining({
        manager: 'owner',
        operation: 'Apply',
        fieldsV1: { 'f:data': { 'f:a': {}, 'f:b': {} } },
      }),
    ]);
    const again = await apply(configMap(ns, { a: '1', b: '2' }), 'owner');
    expect(again.metadata?.resourceVersion).toBe(first.metadata?.resourceVersion);
    const dropped = await apply(configMap(ns, { a: '1' }), 'owner');
    expect(dropped.data).toEqual({ a: '1' });
  });

  it('refuses to change another manager’s field (409 with the real message) unless forced', async () => {
    const ns = await namespace(sbx);
    await apply(configMap(ns, { a: '1', b: '2' }, { x: 'y' }), 'm1');
    const conflict = await failure(apply(configMap(ns, { a: '9', b: '2' }, { x: 'z' }), 'm2'));
    expect(conflict.code).toBe(409);
    expect(conflict.status).toMatchObject({
      reason: 'Conflict',
      message: 'Apply failed with 2 conflicts: conflicts with "m1":\n- .data.a\n- .metadata.labels.x',
      details: {
        causes: [
          { reason: 'FieldManagerConflict', message: 'conflict with "m1"', field: '.data.a' },
          { reason: 'FieldManagerConflict', message: 'conflict with "m1"', field: '.metadata.labels.x' },
        ],
      },
    });

    // The same value is no conflict: both own it.
    const shared = await apply(configMap(ns, { b: '2', c: '3' }), 'm2');
    expect(shared.data).toEqual({ a: '1', b: '2', c: '3' });

    // An updater (PUT) owns what it changed; conflicts name it with its API version.
    const current = await sbx.core.readNamespacedConfigMap({ name: 'applied', namespace: ns });
    await sbx.core.replaceNamespacedConfigMap({
      name: 'applied',
      namespace: ns,
      fieldManager: 'editor',
      body: { ...current, data: { ...current.data, u: '7' } },
    });
    const single = await failure(apply(configMap(ns, { u: '8' }), 'm3'));
    expect(single.status.message).toBe(
      'Apply failed with 1 conflict: conflict with "editor" using v1: .data.u',
    );

    const forced = await apply(configMap(ns, { a: 'forced' }), 'm3', true);
    expect(forced.data?.a).toBe('forced');
    const owners = managers(forced);
    expect(owners.find((m) => m.manager === 'm3')?.fieldsV1).toEqual({ 'f:data': { 'f:a': {} } });
    expect(owners.find((m) => m.manager === 'm1')?.fieldsV1).toEqual({
      'f:data': { 'f:b': {} },
      'f:metadata': { 'f:labels': { 'f:x': {} } },
    });

    // m1 drops b, still owned by m2: it stays.
    const kept = await apply(configMap(ns, {}, { x: 'y' }), 'm1');
    expect(kept.data?.b).toBe('2');
  });

  it('requires a field manager for apply (422 on PatchOptions)', async () => {
    const ns = await namespace(sbx);
    const missing = await request(sbx.cluster, 'PATCH', `/api/v1/namespaces/${ns}/configmaps/x`, {
      body: { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'x' } },
      contentType: 'application/apply-patch+yaml',
    });
    expect(missing.code).toBe(422);
    expect(missing.body).toMatchObject({
      message:
        'PatchOptions.meta.k8s.io "" is invalid: fieldManager: Required value: is required for apply patch',
    });
  });

  it('accepts YAML bodies and tracks keyed lists (containers by name) like structured-merge-diff', async () => {
    const ns = await namespace(sbx);
    const yaml = [
      'apiVersion: apps/v1',
      'kind: Deployment',
      'metadata:',
      '  name: api',
      'spec:',
      '  replicas: 0',
      '  selector: {matchLabels: {app: api}}',
      '  template:',
      '    metadata: {labels: {app: api}}',
      '    spec:',
      '      containers:',
      '      - name: app',
      '        image: registry.test/app:1',
      '        ports: [{containerPort: 80}]',
    ].join('\n');
    const created = await request(
      sbx.cluster,
      'PATCH',
      `/apis/apps/v1/namespaces/${ns}/deployments/api?fieldManager=stratum`,
      {
        body: yaml,
        contentType: 'application/apply-patch+yaml',
      },
    );
    expect(created.code).toBe(201);
    const owned = managers(created.body as V1Deployment)[0].fieldsV1 as { 'f:spec': Record<string, unknown> };
    expect(owned['f:spec']['f:selector']).toEqual({});
    expect(owned['f:spec']['f:template']).toMatchObject({
      'f:spec': {
        'f:containers': {
          'k:{"name":"app"}': {
            '.': {},
            'f:image': {},
            'f:name': {},
            'f:ports': { 'k:{"containerPort":80,"protocol":"TCP"}': { '.': {}, 'f:containerPort': {} } },
          },
        },
      },
    });

    // Another manager adds a sidecar: merged by name, no conflict.
    const sidecar = await apply(
      {
        apiVersion: 'apps/v1',
        kind: 'Deployment',
        metadata: { name: 'api', namespace: ns },
        spec: {
          template: { spec: { containers: [{ name: 'sidecar', image: 'registry.test/proxy:1' }] } },
        } as V1Deployment['spec'],
      },
      'mesh',
    );
    expect(sidecar.spec?.template.spec?.containers.map((c) => c.name)).toEqual(['app', 'sidecar']);
    const image = await failure(
      apply(
        {
          apiVersion: 'apps/v1',
          kind: 'Deployment',
          metadata: { name: 'api', namespace: ns },
          spec: {
            template: { spec: { containers: [{ name: 'app', image: 'registry.test/app:2' }] } },
          } as V1Deployment['spec'],
        },
        'mesh',
      ),
    );
    expect(image.status.message).toBe(
      'Apply failed with 1 conflict: conflict with "stratum": .spec.template.spec.containers[name="app"].image',
    );
  });

  it('merges strategic patches by key (containers by name, env by name)', async () => {
    const ns = await namespace(sbx);
    await sbx.apps.createNamespacedDeployment({
      namespace: ns,
      body: {
        metadata: { name: 'web' },
        spec: {
          replicas: 0,
          selector: { matchLabels: { app: 'web' } },
          template: {
            metadata: { labels: { app: 'web' } },
            spec: {
              containers: [
                { name: 'app', image: 'nginx:1', env: [{ name: 'A', value: '1' }] },
                { name: 'side', image: 'proxy:1' },
              ],
            },
          },
        },
      },
    });
    const patched = await sbx.apps.patchNamespacedDeployment(
      {
        name: 'web',
        namespace: ns,
        body: {
          spec: { template: { spec: { containers: [{ name: 'app', env: [{ name: 'B', value: '2' }] }] } } },
        },
      },
      setHeaderOptions('Content-Type', PatchStrategy.StrategicMergePatch),
    );
    const containers = patched.spec?.template.spec?.containers ?? [];
    expect(containers.map((c) => c.name)).toEqual(['app', 'side']);
    expect(containers[0].image).toBe('nginx:1');
    // New list items come first, as in the real server's merge order.
    expect(containers[0].env?.map((e) => e.name)).toEqual(['B', 'A']);
    expect(patched.metadata?.generation).toBe(2);

    const removed = await sbx.apps.patchNamespacedDeployment(
      {
        name: 'web',
        namespace: ns,
        body: { spec: { template: { spec: { containers: [{ name: 'side', $patch: 'delete' }] } } } },
      },
      setHeaderOptions('Content-Type', PatchStrategy.StrategicMergePatch),
    );
    expect(removed.spec?.template.spec?.containers.map((c) => c.name)).toEqual(['app']);
  });

  it('moves generation with the spec only, and keeps status out of main-resource writes', async () => {
    const ns = await namespace(sbx);
    const created = await sbx.apps.createNamespacedDeployment({
      namespace: ns,
      body: {
        metadata: { name: 'gen' },
        spec: {
          replicas: 0,
          selector: { matchLabels: { app: 'gen' } },
          template: {
            metadata: { labels: { app: 'gen' } },
            spec: { containers: [{ name: 'c', image: 'x:1' }] },
          },
        },
      },
    });
    expect(created.metadata?.generation).toBe(1);
    const merge = setHeaderOptions('Content-Type', PatchStrategy.MergePatch);
    const labelled = await sbx.apps.patchNamespacedDeployment(
      { name: 'gen', namespace: ns, body: { metadata: { labels: { a: 'b' } } } },
      merge,
    );
    expect(labelled.metadata?.generation).toBe(1);
    const statusIgnored = await sbx.apps.patchNamespacedDeployment(
      { name: 'gen', namespace: ns, body: { status: { replicas: 42 } } },
      merge,
    );
    expect(statusIgnored.status?.replicas).toBeUndefined();
    const respec = await sbx.apps.patchNamespacedDeployment(
      { name: 'gen', namespace: ns, body: { spec: { minReadySeconds: 1 } } },
      merge,
    );
    expect(respec.metadata?.generation).toBe(2);
    const viaStatus = await sbx.apps.patchNamespacedDeploymentStatus(
      { name: 'gen', namespace: ns, body: { status: { replicas: 42 }, spec: { replicas: 9 } } },
      merge,
    );
    expect(viaStatus.status?.replicas).toBe(42);
    expect(viaStatus.spec?.replicas).toBe(0);
    expect(viaStatus.metadata?.generation).toBe(2);
  });

  it('scales deployments through /scale', async () => {
    const ns = await namespace(sbx);
    await sbx.apps.createNamespacedDeployment({
      namespace: ns,
      body: {
        metadata: { name: 'scaled' },
        spec: {
          replicas: 0,
          selector: { matchLabels: { app: 'scaled' } },
          template: {
            metadata: { labels: { app: 'scaled' } },
            spec: { containers: [{ name: 'c', image: 'x:1' }] },
          },
        },
      },
    });
    const scale = await sbx.apps.readNamespacedDeploymentScale({ name: 'scaled', namespace: ns });
    expect(scale).toMatchObject({
      kind: 'Scale',
      apiVersion: 'autoscaling/v1',
      status: { replicas: 0, selector: 'app=scaled' },
    });
    const patched = await sbx.apps.patchNamespacedDeploymentScale(
      { name: 'scaled', namespace: ns, body: { spec: { replicas: 3 } } },
      setHeaderOptions('Content-Type', PatchStrategy.MergePatch),
    );
    expect(patched.spec?.replicas).toBe(3);
    const replaced = await sbx.apps.replaceNamespacedDeploymentScale({
      name: 'scaled',
      namespace: ns,
      body: {
        apiVersion: 'autoscaling/v1',
        kind: 'Scale',
        metadata: { name: 'scaled', namespace: ns },
        spec: { replicas: 2 },
      },
    });
    expect(replaced.spec?.replicas).toBe(2);
    const deployment = await sbx.apps.readNamespacedDeployment({ name: 'scaled', namespace: ns });
    expect(deployment.spec?.replicas).toBe(2);
    expect(deployment.metadata?.generation).toBe(3);
    const negative = await failure(
      sbx.apps.patchNamespacedDeploymentScale(
        { name: 'scaled', namespace: ns, body: { spec: { replicas: -1 } } },
        setHeaderOptions('Content-Type', PatchStrategy.MergePatch),
      ),
    );
    expect(negative.status.message).toBe(
      'Scale.autoscaling "scaled" is invalid: spec.replicas: Invalid value: -1: must be greater than or equal to 0',
    );
  });
});
