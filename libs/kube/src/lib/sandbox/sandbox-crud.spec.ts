import { PatchStrategy, setHeaderOptions } from '@kubernetes/client-node';

import { failure, namespace, request, type SandboxClients, startSandbox } from './spec-helpers';

describe('sandbox cluster: discovery and CRUD through client-node', () => {
  let sbx: SandboxClients;

  beforeAll(async () => {
    sbx = await startSandbox({ name: 'crud' });
  });

  afterAll(async () => {
    await sbx.cluster.stop();
  });

  it('serves version, health and discovery like kube-apiserver 1.20', async () => {
    expect((await request(sbx.cluster, 'GET', '/version', { token: null })).body).toMatchObject({
      gitVersion: 'v1.20.2-sandbox',
    });
    expect((await request(sbx.cluster, 'GET', '/readyz', { token: null })).text).toBe('ok');
    const core = (await request(sbx.cluster, 'GET', '/api/v1')).body as {
      resources: Array<{ name: string }>;
    };
    expect(core.resources.map((r) => r.name)).toEqual(
      expect.arrayContaining(['pods', 'pods/status', 'namespaces/finalize']),
    );
    const apps = (await request(sbx.cluster, 'GET', '/apis/apps/v1')).body as {
      resources: Array<{ name: string; kind: string; group?: string; namespaced: boolean }>;
    };
    expect(apps.resources).toContainEqual(
      expect.objectContaining({
        name: 'deployments/scale',
        kind: 'Scale',
        group: 'autoscaling',
        namespaced: true,
      }),
    );
    const groups = (await request(sbx.cluster, 'GET', '/apis')).body as { groups: Array<{ name: string }> };
    expect(groups.groups.map((g) => g.name)).toEqual(
      expect.arrayContaining([
        'apps',
        'rbac.authorization.k8s.io',
        'apiextensions.k8s.io',
        'k8s.cni.cncf.io',
      ]),
    );
  });

  it('refuses requests without the bearer token (401 Unauthorized)', async () => {
    const anonymous = await request(sbx.cluster, 'GET', '/api/v1/namespaces', { token: null });
    expect(anonymous.code).toBe(401);
    expect(anonymous.body).toMatchObject({ kind: 'Status', reason: 'Unauthorized', code: 401 });
    expect((await request(sbx.cluster, 'GET', '/api/v1/namespaces', { token: 'wrong' })).code).toBe(401);
  });

  it('creates, reads, lists, replaces, patches and deletes', async () => {
    const ns = await namespace(sbx);
    const created = await sbx.core.createNamespacedConfigMap({
      namespace: ns,
      body: { metadata: { name: 'settings', labels: { tier: 'web' } }, data: { mode: 'a' } },
    });
    expect(created.metadata?.uid).toEqual(expect.any(String));
    expect(created.metadata?.resourceVersion).toMatch(/^\d+$/);
    expect(created.metadata?.managedFields?.[0]).toMatchObject({
      operation: 'Update',
      fieldsType: 'FieldsV1',
    });

    const read = await sbx.core.readNamespacedConfigMap({ name: 'settings', namespace: ns });
    expect(read.data).toEqual({ mode: 'a' });

    await sbx.core.createNamespacedConfigMap({
      namespace: ns,
      body: { metadata: { name: 'other', labels: { tier: 'db' } } },
    });
    const web = await sbx.core.listNamespacedConfigMap({ namespace: ns, labelSelector: 'tier in (web,api)' });
    expect(web.items.map((i) => i.metadata?.name)).toEqual(['settings']);
    const notWeb = await sbx.core.listNamespacedConfigMap({ namespace: ns, labelSelector: 'tier,tier!=web' });
    expect(notWeb.items.map((i) => i.metadata?.name)).toEqual(['other']);
    const byName = await sbx.core.listConfigMapForAllNamespaces({
      fieldSelector: `metadata.namespace=${ns},metadata.name=other`,
    });
    expect(byName.items).toHaveLength(1);
    expect(web.metadata?.resourceVersion).toMatch(/^\d+$/);

    const replaced = await sbx.core.replaceNamespacedConfigMap({
      name: 'settings',
      namespace: ns,
      body: { ...read, data: { mode: 'b' } },
    });
    expect(Number(replaced.metadata?.resourceVersion)).toBeGreaterThan(
      Number(read.metadata?.resourceVersion),
    );
    const stale = await failure(
      sbx.core.replaceNamespacedConfigMap({
        name: 'settings',
        namespace: ns,
        body: { ...read, data: { mode: 'c' } },
      }),
    );
    expect(stale.code).toBe(409);
    expect(stale.status).toMatchObject({
      reason: 'Conflict',
      message:
        'Operation cannot be fulfilled on configmaps "settings": the object has been modified; please apply your changes to the latest version and try again',
    });

    const patched = await sbx.core.patchNamespacedConfigMap(
      { name: 'settings', namespace: ns, body: { data: { extra: 'x', mode: null } } },
      setHeaderOptions('Content-Type', PatchStrategy.MergePatch),
    );
    expect(patched.data).toEqual({ extra: 'x' });
    const jsonPatched = await sbx.core.patchNamespacedConfigMap({
      name: 'settings',
      namespace: ns,
      body: [{ op: 'add', path: '/data/more', value: 'y' }],
    });
    expect(jsonPatched.data).toEqual({ extra: 'x', more: 'y' });

    const deleted = await request(sbx.cluster, 'DELETE', `/api/v1/namespaces/${ns}/configmaps/settings`);
    expect(deleted.body).toMatchObject({
      kind: 'Status',
      status: 'Success',
      details: { name: 'settings', kind: 'configmaps' },
    });
    expect((await failure(sbx.core.readNamespacedConfigMap({ name: 'settings', namespace: ns }))).code).toBe(
      404,
    );
  });

  it('answers conflicts, missing objects and namespaces with the real Status bodies', async () => {
    const ns = await namespace(sbx);
    await sbx.core.createNamespacedConfigMap({ namespace: ns, body: { metadata: { name: 'once' } } });
    const twice = await failure(
      sbx.core.createNamespacedConfigMap({ namespace: ns, body: { metadata: { name: 'once' } } }),
    );
    expect(twice).toEqual({
      code: 409,
      status: expect.objectContaining({
        reason: 'AlreadyExists',
        message: 'configmaps "once" already exists',
        details: { name: 'once', kind: 'configmaps' },
      }),
    });
    const missingNs = await failure(
      sbx.core.createNamespacedConfigMap({ namespace: `${ns}-absent`, body: { metadata: { name: 'x' } } }),
    );
    expect(missingNs.code).toBe(404);
    expect(missingNs.status.message).toBe(`namespaces "${ns}-absent" not found`);
    const missing = await failure(sbx.apps.readNamespacedDeployment({ name: 'nope', namespace: ns }));
    expect(missing.status).toMatchObject({
      reason: 'NotFound',
      message: 'deployments.apps "nope" not found',
      details: { name: 'nope', group: 'apps', kind: 'deployments' },
    });
    const mismatch = await request(sbx.cluster, 'POST', `/api/v1/namespaces/${ns}/configmaps`, {
      body: { metadata: { name: 'x', namespace: 'elsewhere' } },
    });
    expect(mismatch.code).toBe(400);
    expect(mismatch.body).toMatchObject({
      reason: 'BadRequest',
      message: 'the namespace of the provided object does not match the namespace sent on the request',
    });
    expect(
      (
        await failure(
          sbx.core.replaceNamespacedConfigMap({
            name: 'ghost',
            namespace: ns,
            body: { metadata: { name: 'ghost' } },
          }),
        )
      ).code,
    ).toBe(404);
  });

  it('validates names, labels and workloads with field causes (422 Invalid)', async () => {
    const ns = await namespace(sbx);
    const badName = await failure(
      sbx.core.createNamespacedConfigMap({ namespace: ns, body: { metadata: { name: 'Not_DNS' } } }),
    );
    expect(badName.code).toBe(422);
    expect(badName.status.details?.causes?.[0]).toMatchObject({
      field: 'metadata.name',
      reason: 'FieldValueInvalid',
    });
    expect(badName.status.message).toMatch(
      /^ConfigMap "Not_DNS" is invalid: metadata.name: Invalid value: "Not_DNS": a lowercase RFC 1123 subdomain/,
    );

    const deployment = await failure(
      sbx.apps.createNamespacedDeployment({
        namespace: ns,
        body: {
          metadata: { name: 'web' },
          spec: {
            replicas: -1,
            selector: { matchLabels: { app: 'x' } },
            template: {
              metadata: { labels: { app: 'y' } },
              spec: { containers: [{ name: 'c', image: '' }] },
            },
          },
        },
      }),
    );
    expect(deployment.status.details?.causes?.map((c) => c.field)).toEqual([
      'spec.replicas',
      'spec.template.metadata.labels',
      'spec.template.spec.containers[0].image',
    ]);
    expect(deployment.status.message).toMatch(
      /^Deployment.apps "web" is invalid: \[spec.replicas: Invalid value: -1: must be greater than or equal to 0, /,
    );

    const pod = await failure(
      sbx.core.createNamespacedPod({
        namespace: ns,
        body: { metadata: { name: 'p' }, spec: { containers: [] } },
      }),
    );
    expect(pod.status.message).toBe('Pod "p" is invalid: spec.containers: Required value');

    const service = await failure(
      sbx.core.createNamespacedService({
        namespace: ns,
        body: { metadata: { name: '1svc' }, spec: { ports: [{ port: 80 }] } },
      }),
    );
    expect(service.status.details?.causes?.[0].message).toMatch(/a DNS-1035 label/);
  });

  it('keeps spec and selector immutability rules', async () => {
    const ns = await namespace(sbx);
    await sbx.apps.createNamespacedDeployment({
      namespace: ns,
      body: {
        metadata: { name: 'web' },
        spec: {
          replicas: 0,
          selector: { matchLabels: { app: 'web' } },
          template: {
            metadata: { labels: { app: 'web', v: '1' } },
            spec: { containers: [{ name: 'c', image: 'nginx:1' }] },
          },
        },
      },
    });
    const immutable = await failure(
      sbx.apps.patchNamespacedDeployment(
        { name: 'web', namespace: ns, body: { spec: { selector: { matchLabels: { app: 'web', v: '1' } } } } },
        setHeaderOptions('Content-Type', PatchStrategy.MergePatch),
      ),
    );
    expect(immutable.code).toBe(422);
    expect(immutable.status.details?.causes?.[0]).toMatchObject({ field: 'spec.selector' });
    expect(immutable.status.message).toContain('field is immutable');

    await sbx.core.createNamespacedPod({
      namespace: ns,
      body: { metadata: { name: 'p' }, spec: { containers: [{ name: 'c', image: 'nginx:1' }] } },
    });
    const image = await sbx.core.patchNamespacedPod(
      { name: 'p', namespace: ns, body: { spec: { containers: [{ name: 'c', image: 'nginx:2' }] } } },
      setHeaderOptions('Content-Type', PatchStrategy.StrategicMergePatch),
    );
    expect(image.spec?.containers[0].image).toBe('nginx:2');
    const other = await failure(
      sbx.core.patchNamespacedPod(
        { name: 'p', namespace: ns, body: { spec: { restartPolicy: 'Never' } } },
        setHeaderOptions('Content-Type', PatchStrategy.StrategicMergePatch),
      ),
    );
    expect(other.status.details?.causes?.[0]).toMatchObject({ field: 'spec', reason: 'FieldValueForbidden' });
  });

  it('defaults like the real server and gives pods the default service account token', async () => {
    const ns = await namespace(sbx);
    const pod = await sbx.core.createNamespacedPod({
      namespace: ns,
      body: { metadata: { generateName: 'worker-' }, spec: { containers: [{ name: 'c', image: 'nginx' }] } },
    });
    expect(pod.metadata?.name).toMatch(/^worker-[bcdfghjklmnpqrstvwxz2456789]{5}$/);
    expect(pod.status).toMatchObject({ phase: 'Pending', qosClass: 'BestEffort' });
    expect(pod.spec).toMatchObject({
      restartPolicy: 'Always',
      dnsPolicy: 'ClusterFirst',
      serviceAccountName: 'default',
    });
    expect(pod.spec?.containers[0]).toMatchObject({
      imagePullPolicy: 'Always',
      terminationMessagePolicy: 'File',
    });
    expect(pod.spec?.containers[0].volumeMounts?.[0].mountPath).toBe(
      '/var/run/secrets/kubernetes.io/serviceaccount',
    );
    expect(pod.metadata?.generation).toBeUndefined();

    const secret = await sbx.core.createNamespacedSecret({
      namespace: ns,
      body: { metadata: { name: 's' }, stringData: { a: 'hello' } },
    });
    expect(secret.data).toEqual({ a: Buffer.from('hello').toString('base64') });
    expect(secret.type).toBe('Opaque');
    const service = await sbx.core.createNamespacedService({
      namespace: ns,
      body: { metadata: { name: 'web' }, spec: { selector: { app: 'web' }, ports: [{ port: 80 }] } },
    });
    expect(service.spec).toMatchObject({ type: 'ClusterIP', clusterIP: expect.stringMatching(/^10\.96\./) });
    expect(service.spec?.ports?.[0]).toMatchObject({ protocol: 'TCP', targetPort: 80 });
  });

  it('pages lists with limit and continue', async () => {
    const ns = await namespace(sbx);
    for (const name of ['a', 'b', 'c'])
      await sbx.core.createNamespacedConfigMap({ namespace: ns, body: { metadata: { name } } });
    const first = await sbx.core.listNamespacedConfigMap({ namespace: ns, limit: 2 });
    expect(first.items.map((i) => i.metadata?.name)).toEqual(['a', 'b']);
    const rest = await sbx.core.listNamespacedConfigMap({
      namespace: ns,
      limit: 2,
      _continue: first.metadata?._continue,
    });
    expect(rest.items.map((i) => i.metadata?.name)).toEqual(['c', 'kube-root-ca.crt']);
  });

  it('does not persist dry runs', async () => {
    const ns = await namespace(sbx);
    const dry = await sbx.core.createNamespacedConfigMap({
      namespace: ns,
      dryRun: 'All',
      body: { metadata: { name: 'dry' } },
    });
    expect(dry.metadata?.uid).toEqual(expect.any(String));
    expect((await failure(sbx.core.readNamespacedConfigMap({ name: 'dry', namespace: ns }))).code).toBe(404);
  });
});
