import { PatchStrategy, setHeaderOptions } from '@kubernetes/client-node';
import { waitFor } from '@stratum/util';

import { failure, namespace, request, type SandboxClients, startSandbox } from './spec-helpers';

const merge = setHeaderOptions('Content-Type', PatchStrategy.MergePatch);

describe('sandbox cluster: deletion, finalizers, namespaces and custom resources', () => {
  let sbx: SandboxClients;

  beforeAll(async () => {
    sbx = await startSandbox({ name: 'lifecycle' });
  });

  afterAll(async () => {
    await sbx.cluster.stop();
  });

  it('keeps an object with finalizers, marked for deletion, until they are removed', async () => {
    const ns = await namespace(sbx);
    await sbx.core.createNamespacedConfigMap({
      namespace: ns,
      body: { metadata: { name: 'guarded', finalizers: ['stratum.io/cleanup'] } },
    });
    const marked = await request(sbx.cluster, 'DELETE', `/api/v1/namespaces/${ns}/configmaps/guarded`);
    expect(marked.code).toBe(200);
    expect(marked.body).toMatchObject({
      kind: 'ConfigMap',
      metadata: {
        deletionTimestamp: expect.any(String),
        deletionGracePeriodSeconds: 0,
        finalizers: ['stratum.io/cleanup'],
      },
    });
    const addFinalizer = await failure(
      sbx.core.patchNamespacedConfigMap(
        {
          name: 'guarded',
          namespace: ns,
          body: { metadata: { finalizers: ['stratum.io/cleanup', 'late'] } },
        },
        merge,
      ),
    );
    expect(addFinalizer.status.message).toContain(
      'no new finalizers can be added if the object is being deleted',
    );
    await sbx.core.patchNamespacedConfigMap(
      { name: 'guarded', namespace: ns, body: { metadata: { finalizers: null } } },
      merge,
    );
    expect((await failure(sbx.core.readNamespacedConfigMap({ name: 'guarded', namespace: ns }))).code).toBe(
      404,
    );
  });

  it('leaves a pod on a node Terminating until the kubelet confirms with grace period 0', async () => {
    await sbx.core.createNode({ body: { metadata: { name: 'kubelet-node' } } });
    await sbx.core.patchNodeStatus(
      { name: 'kubelet-node', body: { status: { conditions: [{ type: 'Ready', status: 'True' }] } } },
      merge,
    );
    const ns = await namespace(sbx);
    await sbx.core.createNamespacedPod({
      namespace: ns,
      body: { metadata: { name: 'p' }, spec: { containers: [{ name: 'c', image: 'x:1' }] } },
    });
    await waitFor(
      async () => (await sbx.core.readNamespacedPod({ name: 'p', namespace: ns })).spec?.nodeName,
      { description: 'binding' },
    );
    const terminating = await sbx.core.deleteNamespacedPod({ name: 'p', namespace: ns });
    expect(terminating.metadata?.deletionGracePeriodSeconds).toBe(30);
    expect(
      (await sbx.core.readNamespacedPod({ name: 'p', namespace: ns })).metadata?.deletionTimestamp,
    ).toBeDefined();
    await sbx.core.deleteNamespacedPod({ name: 'p', namespace: ns, gracePeriodSeconds: 0 });
    expect((await failure(sbx.core.readNamespacedPod({ name: 'p', namespace: ns }))).code).toBe(404);
    await sbx.core.deleteNode({ name: 'kubelet-node' });
  });

  it('deletes a namespace: Terminating, content removed (finalizers respected), then gone', async () => {
    const ns = await namespace(sbx);
    await sbx.core.createNamespacedConfigMap({ namespace: ns, body: { metadata: { name: 'plain' } } });
    await sbx.core.createNamespacedConfigMap({
      namespace: ns,
      body: { metadata: { name: 'held', finalizers: ['stratum.io/hold'] } },
    });
    const deleting = await sbx.core.deleteNamespace({ name: ns });
    expect(deleting).toBeDefined();
    const terminating = await sbx.core.readNamespace({ name: ns });
    expect(terminating.status?.phase).toBe('Terminating');
    const refused = await failure(
      sbx.core.createNamespacedConfigMap({ namespace: ns, body: { metadata: { name: 'late' } } }),
    );
    expect(refused.code).toBe(403);
    expect(refused.status.message).toBe(
      `configmaps "late" is forbidden: unable to create new content in namespace ${ns} because it is being terminated`,
    );
    const waiting = await waitFor(
      async () => {
        const state = await sbx.core.readNamespace({ name: ns });
        return state.status?.conditions?.find(
          (c) => c.type === 'NamespaceFinalizersRemaining' && c.status === 'True',
        );
      },
      { description: 'the namespace to report the held ConfigMap' },
    );
    expect(waiting.message).toBe(
      'Some content in the namespace has finalizers remaining: stratum.io/hold in 1 resource instances',
    );
    expect((await failure(sbx.core.readNamespacedConfigMap({ name: 'plain', namespace: ns }))).code).toBe(
      404,
    );
    await sbx.core.patchNamespacedConfigMap(
      { name: 'held', namespace: ns, body: { metadata: { finalizers: null } } },
      merge,
    );
    await waitFor(async () => (await failure(sbx.core.readNamespace({ name: ns }))).code === 404, {
      description: 'the namespace to go',
    });
  });

  it('serves the NetworkAttachmentDefinition CRD out of the box', async () => {
    const crd = (
      await request(
        sbx.cluster,
        'GET',
        '/apis/apiextensions.k8s.io/v1/customresourcedefinitions/network-attachment-definitions.k8s.cni.cncf.io',
      )
    ).body as { status: { conditions: Array<{ type: string; status: string }> } };
    expect(crd.status.conditions.map((c) => `${c.type}=${c.status}`)).toEqual([
      'NamesAccepted=True',
      'Established=True',
    ]);
    const ns = await namespace(sbx);
    const ref = {
      group: 'k8s.cni.cncf.io',
      version: 'v1',
      namespace: ns,
      plural: 'network-attachment-definitions',
    };
    const config = JSON.stringify({ cniVersion: '0.3.1', type: 'macvlan', master: 'eth1' });
    await sbx.custom.createNamespacedCustomObject({
      ...ref,
      body: {
        apiVersion: 'k8s.cni.cncf.io/v1',
        kind: 'NetworkAttachmentDefinition',
        metadata: { name: 'tenant-net' },
        spec: { config },
      },
    });
    const nad = (await sbx.custom.getNamespacedCustomObject({ ...ref, name: 'tenant-net' })) as {
      spec: { config: string };
      metadata: { generation: number };
    };
    expect(nad.spec.config).toBe(config);
    expect(nad.metadata.generation).toBe(1);
  });

  it('serves a new CRD (status subresource, pruning, scope) and removes its objects with it', async () => {
    await sbx.objects.create({
      apiVersion: 'apiextensions.k8s.io/v1',
      kind: 'CustomResourceDefinition',
      metadata: { name: 'widgets.example.io' },
      spec: {
        group: 'example.io',
        scope: 'Cluster',
        names: { plural: 'widgets', kind: 'Widget' },
        versions: [
          {
            name: 'v1',
            served: true,
            storage: true,
            subresources: { status: {} },
            schema: {
              openAPIV3Schema: {
                type: 'object',
                properties: {
                  spec: { type: 'object', properties: { size: { type: 'integer' } } },
                  status: { type: 'object', properties: { ready: { type: 'boolean' } } },
                },
              },
            },
          },
        ],
      },
    } as never);
    const discovery = await waitFor(
      async () => {
        const found = await request(sbx.cluster, 'GET', '/apis/example.io/v1');
        return (
          found.code === 200 && (found.body as { resources: Array<{ name: string; namespaced: boolean }> })
        );
      },
      { description: 'discovery of example.io/v1' },
    );
    expect(discovery.resources.map((r) => `${r.name}:${r.namespaced}`)).toEqual([
      'widgets:false',
      'widgets/status:false',
    ]);

    const ref = { group: 'example.io', version: 'v1', plural: 'widgets' };
    const created = (await sbx.custom.createClusterCustomObject({
      ...ref,
      body: {
        apiVersion: 'example.io/v1',
        kind: 'Widget',
        metadata: { name: 'w' },
        spec: { size: 1, unknown: true },
        status: { ready: true },
      },
    })) as { spec: Record<string, unknown>; status?: unknown };
    expect(created.spec).toEqual({ size: 1 });
    expect(created.status).toBeUndefined();
    const status = (await sbx.custom.patchClusterCustomObjectStatus(
      { ...ref, name: 'w', body: { status: { ready: true }, spec: { size: 5 } } },
      merge,
    )) as { spec: { size: number }; status: { ready: boolean }; metadata: { generation: number } };
    expect(status).toMatchObject({ spec: { size: 1 }, status: { ready: true }, metadata: { generation: 1 } });
    const grown = (await sbx.custom.patchClusterCustomObject(
      { ...ref, name: 'w', body: { spec: { size: 2 } } },
      merge,
    )) as {
      metadata: { generation: number };
    };
    expect(grown.metadata.generation).toBe(2);
    const strategic = await failure(
      sbx.custom.patchClusterCustomObject(
        { ...ref, name: 'w', body: {} },
        setHeaderOptions('Content-Type', PatchStrategy.StrategicMergePatch),
      ),
    );
    expect(strategic.code).toBe(415);

    await sbx.objects.delete({
      apiVersion: 'apiextensions.k8s.io/v1',
      kind: 'CustomResourceDefinition',
      metadata: { name: 'widgets.example.io' },
    });
    await waitFor(async () => (await request(sbx.cluster, 'GET', '/apis/example.io/v1')).code === 404, {
      description: 'example.io/v1 to stop being served',
    });
    expect(
      (
        await request(
          sbx.cluster,
          'GET',
          '/apis/apiextensions.k8s.io/v1/customresourcedefinitions/widgets.example.io',
        )
      ).code,
    ).toBe(404);
  });

  it('reported no controller errors', () => {
    expect(sbx.cluster.errors).toEqual([]);
  });
});
