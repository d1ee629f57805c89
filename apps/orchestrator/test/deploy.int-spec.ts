/**
 * The stack deployment engine (issue #5 §4–6) on the real bench: PostgreSQL, the two kube-apiservers
 * (bench-a, bench-b) with their controllers, and simulated nodes for the pods. The service pieces run
 * in-process (no HTTP): the store accepts plans, a leased worker deploys them.
 *
 * Three units — `db` and `api` in namespace X of bench-a, `web` in namespace Y of bench-b, web → api →
 * db — are (a) deployed in dependency order; (b) updated with an api image the simulator never makes
 * Ready, which fails and rolls back to revision 1 by itself; (c) rolled back on request after a good
 * revision 2; (d) resumed by a new worker after the first one died between two steps; (e) deleted,
 * dependents first.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  StackDeleted,
  StackDeployed,
  StackDeployFailed,
  StackDeployProgress,
  StackRevisionAccepted,
  StackRolledBack,
} from '@stratum/contracts';
import { KubeClusters, type KubeObject, NodeSimulator, SIM_ANNOTATIONS } from '@stratum/kube';
import { CreateMessagingTables1763769600000, Outbox } from '@stratum/messaging';
import { ServiceDatabase } from '@stratum/persistence';
import { DomainException, ErrorCode } from '@stratum/service-kit';
import { createLog } from '@stratum/telemetry';
import { createTestDatabase, sharedKubeBench, type TestDatabase } from '@stratum/testing';
import { waitFor } from '@stratum/util';
import type { Deployment } from '../src/deploy/deploy-model';
import type { DeployUnit, StackRevisionPlan } from '../src/deploy/deploy-plan';
import { Deployer, type DeployerOptions } from '../src/deploy/deployer';
import { DeploymentJournal } from '../src/deploy/deployment-journal';
import { DeploymentWorker } from '../src/deploy/deployment-worker';
import { StackStore } from '../src/deploy/stack-store';
import { orchestratorMigrations } from '../src/persistence/migrations';

jest.setTimeout(180_000);

const suite = `d${process.pid}`;
const tenantId = `proj-${suite}`;
const READY_TIMEOUT_MS = 10_000;

interface Envelope {
  type: string;
  data: Record<string, unknown>;
}

describe('stack deployment engine (issue #5 §4–6, R-OR-4/7)', () => {
  const dir = mkdtempSync(join(tmpdir(), 'stratum-deploy-'));
  const log = createLog({ level: (process.env.DEPLOY_TEST_LOG_LEVEL as 'info' | undefined) ?? 'silent' });
  let testDb: TestDatabase;
  let database: ServiceDatabase;
  let clusters: KubeClusters;
  let store: StackStore;
  let journal: DeploymentJournal;
  let worker: DeploymentWorker;
  const simulators: NodeSimulator[] = [];
  const namespaces: Array<{ cluster: string; name: string }> = [];
  const node = (cluster: string) => `${suite}-${cluster}-node`;

  const newWorker = (owner: string, options: Partial<DeployerOptions> = {}) =>
    new DeploymentWorker(
      database,
      journal,
      new Deployer(clusters, journal, log, {
        unitReadyTimeoutMs: READY_TIMEOUT_MS,
        unitGoneTimeoutMs: 30_000,
        ...options,
      }),
      log,
      { owner, pollMs: 100, leaseMs: 3_000, concurrency: 4 },
    );

  beforeAll(async () => {
    testDb = await createTestDatabase('orch_deploy');
    database = await ServiceDatabase.open({
      target: { kind: 'postgres', url: testDb.url, poolSize: 8 },
      applicationName: 'deploy-test',
      migrations: [CreateMessagingTables1763769600000, ...orchestratorMigrations],
    });
    clusters = KubeClusters.fromFile(sharedKubeBench().kubeconfigPath, {
      fieldManager: 'stratum-orchestrator',
    });
    for (const cluster of ['bench-a', 'bench-b']) {
      simulators.push(
        await NodeSimulator.start({
          client: clusters.withFieldManager('stratum-node-simulator').client(cluster),
          nodes: [{ name: node(cluster), labels: { 'stratum.io/bench-suite': suite } }],
          logRoot: join(dir, cluster),
          readyDelayMs: 50,
        }),
      );
    }
    const outbox = new Outbox('orchestrator');
    store = new StackStore(database, outbox);
    journal = new DeploymentJournal(database, outbox);
    worker = newWorker(`w1-${suite}`);
    worker.start();
  }, 120_000);

  afterAll(async () => {
    await worker?.stop();
    for (const { cluster, name } of namespaces) {
      await clusters
        .client(cluster)
        .delete({ apiVersion: 'v1', kind: 'Namespace', name })
        .catch(() => undefined);
    }
    for (const simulator of simulators) {
      await simulator.unregisterNodes();
      await simulator.stop();
    }
    await clusters?.close();
    await database?.close();
    await testDb?.drop();
    rmSync(dir, { recursive: true, force: true });
  });

  // --- helpers -------------------------------------------------------------------------------------

  /** Namespaces X (bench-a) and Y (bench-b) of one scenario. */
  const environments = async (scenario: string) => {
    const x = { cluster: 'bench-a', name: `${scenario}-x-${suite}` };
    const y = { cluster: 'bench-b', name: `${scenario}-y-${suite}` };
    for (const ns of [x, y]) {
      await clusters
        .client(ns.cluster)
        .apply({ apiVersion: 'v1', kind: 'Namespace', metadata: { name: ns.name } }, { force: true });
      namespaces.push(ns);
    }
    return { x: x.name, y: y.name };
  };

  const workload = (
    name: string,
    namespace: string,
    cluster: string,
    image: string,
    podAnnotations: Record<string, string> = {},
  ): KubeObject => ({
    apiVersion: 'apps/v1',
    kind: 'Deployment',
    metadata: { name, namespace, labels: { app: name } },
    spec: {
      replicas: 1,
      selector: { matchLabels: { app: name } },
      template: {
        metadata: { labels: { app: name }, annotations: podAnnotations },
        spec: {
          nodeName: node(cluster),
          terminationGracePeriodSeconds: 0,
          containers: [{ name, image }],
        },
      },
    },
  });
  const service = (name: string, namespace: string): KubeObject => ({
    apiVersion: 'v1',
    kind: 'Service',
    metadata: { name, namespace },
    // `protocol` spelled out: server-side apply on 1.20 refuses a port without it.
    spec: { selector: { app: name }, ports: [{ port: 80, protocol: 'TCP' }] },
  });

  const plan = (
    stack: string,
    ns: { x: string; y: string },
    options: { apiImage?: string; apiPods?: Record<string, string>; extra?: DeployUnit[] } = {},
  ): StackRevisionPlan => ({
    tenantId,
    stack,
    units: [
      {
        name: 'db',
        clusterId: 'bench-a',
        namespace: ns.x,
        manifests: [workload('db', ns.x, 'bench-a', 'registry.local/db:1'), service('db', ns.x)],
        dependsOn: [],
      },
      {
        name: 'api',
        clusterId: 'bench-a',
        namespace: ns.x,
        manifests: [
          workload('api', ns.x, 'bench-a', options.apiImage ?? 'registry.local/api:1', options.apiPods),
          service('api', ns.x),
        ],
        dependsOn: ['db'],
      },
      {
        name: 'web',
        clusterId: 'bench-b',
        namespace: ns.y,
        manifests: [workload('web', ns.y, 'bench-b', 'registry.local/web:1')],
        dependsOn: ['api'],
      },
      ...(options.extra ?? []),
    ],
  });

  /** Waits until the deployment has finished; returns it. */
  const finished = (id: string): Promise<Deployment> => {
    worker.wake();
    return waitFor(
      async () => {
        const deployment = await store.getDeployment(tenantId, id);
        return ['succeeded', 'failed'].includes(deployment.state) && deployment;
      },
      { timeoutMs: 90_000, intervalMs: 100, description: `deployment ${id} finished` },
    );
  };

  /** The stack's deployments once none is open any more (an automatic rollback included). */
  const settled = (stackId: string): Promise<Deployment[]> => {
    worker.wake();
    return waitFor(
      async () => {
        const all = await store.listDeployments(tenantId, stackId);
        return all.every((d) => d.state === 'succeeded' || d.state === 'failed') && all;
      },
      { timeoutMs: 90_000, intervalMs: 100, description: `stack ${stackId} settled` },
    );
  };

  const events = async (stackId: string, topic?: string): Promise<Envelope[]> => {
    const rows = await database.dataSource.query<Array<{ topic: string; payload: string }>>(
      'SELECT topic, payload FROM outbox WHERE key = $1 ORDER BY seq',
      [stackId],
    );
    return rows
      .filter((row) => !topic || row.topic === topic)
      .map((row) => JSON.parse(row.payload) as Envelope);
  };

  const image = async (cluster: string, namespace: string, name: string) => {
    const object = await clusters
      .client(cluster)
      .get<KubeObject & { spec: { template: { spec: { containers: Array<{ image: string }> } } } }>({
        apiVersion: 'apps/v1',
        kind: 'Deployment',
        namespace,
        name,
      });
    return object.spec.template.spec.containers[0].image;
  };

  const refusal = async (work: Promise<unknown>, code: ErrorCode) => {
    const error = await work.then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(error).toBeInstanceOf(DomainException);
    expect((error as DomainException).code).toBe(code);
    return error as DomainException;
  };

  const at = (iso: string | undefined) => new Date(iso!).getTime();

  // --- scenarios -----------------------------------------------------------------------------------

  const main: { stackId?: string; ns?: { x: string; y: string } } = {};

  it('(a) deploys the units in dependency order: api after db is Ready, web after api', async () => {
    const ns = await environments('a');
    main.ns = ns;
    const accepted = await store.acceptRevision(plan('shop', ns), 'tosca_definitions_version: v1 # shop r1', {
      requestedBy: 'alice',
    });
    main.stackId = accepted.stack.id;
    expect(accepted.revision).toMatchObject({ revision: 1, outcome: 'pending', requestedBy: 'alice' });
    expect(accepted.deployment).toMatchObject({ kind: 'deploy', state: 'accepted', revision: 1 });
    expect(accepted.stack).toMatchObject({ status: 'deploying', currentRevision: null, latestRevision: 1 });

    const done = await finished(accepted.deployment.id);
    expect(done.state).toBe('succeeded');
    const { db, api, web } = done.units;
    expect([db.state, api.state, web.state]).toEqual(['ready', 'ready', 'ready']);
    expect(at(api.appliedAt)).toBeGreaterThanOrEqual(at(db.readyAt));
    expect(at(web.appliedAt)).toBeGreaterThanOrEqual(at(api.readyAt));
    expect(at(db.readyAt)).toBeGreaterThanOrEqual(at(db.appliedAt));

    expect(await store.getStack(tenantId, main.stackId)).toMatchObject({
      status: 'deployed',
      currentRevision: 1,
    });
    expect((await store.listRevisions(tenantId, main.stackId)).map((r) => r.outcome)).toEqual(['deployed']);
    expect(await image('bench-a', ns.x, 'api')).toBe('registry.local/api:1');
    expect(await image('bench-b', ns.y, 'web')).toBe('registry.local/web:1');

    const all = await events(main.stackId);
    expect(all.map((e) => e.type)).toEqual([
      'orchestrator.stack-revision-accepted',
      ...Array<string>(3).fill('orchestrator.stack-deploy-progress'),
      ...Array<string>(9).fill('orchestrator.stack-deploy-progress'),
      'orchestrator.stack-deployed',
      // Once all units are up, the revision's autoscaling policies (none here) replace any earlier set (R-OR-5).
      'orchestrator.autoscaling-policies-published',
    ]);
    expect(all.at(-1)!.data).toEqual({ tenantId, stackId: main.stackId, revision: 1, policies: [] });
    expect(all[0].data).toMatchObject({
      stackName: 'shop',
      revision: 1,
      services: [
        { name: 'db', environmentId: `bench-a/${ns.x}` },
        { name: 'api', environmentId: `bench-a/${ns.x}` },
        { name: 'web', environmentId: `bench-b/${ns.y}` },
      ],
    });
    const progressOf = (unit: string) =>
      all
        .filter((e) => e.type === 'orchestrator.stack-deploy-progress' && e.data.unitId === unit)
        .map((e) => e.data.state);
    expect(progressOf('api')).toEqual(['pending', 'deploying', 'deploying', 'ready']);
    // The order in the outbox is the order things happened: db ready before api is applied.
    const order = all
      .filter((e) => e.type === 'orchestrator.stack-deploy-progress' && e.data.state !== 'pending')
      .map((e) => `${String(e.data.unitId)}:${String(e.data.state)}`);
    expect(order.indexOf('db:ready')).toBeLessThan(order.indexOf('api:deploying'));
    expect(order.indexOf('api:ready')).toBeLessThan(order.indexOf('web:deploying'));
    expect(all.at(-2)!.data).toMatchObject({
      revision: 1,
      units: expect.arrayContaining([{ unitId: 'web', environmentId: `bench-b/${ns.y}` }]),
    });
    expect((await events(main.stackId, StackDeployed.Topic.name)).length).toBe(1);
  });

  it('keeps every stack to its tenant and refuses what cannot be done, changing nothing', async () => {
    const stackId = main.stackId!;
    await refusal(store.getStack('someone-else', stackId), ErrorCode.NotFound);
    await refusal(store.listRevisions('someone-else', stackId), ErrorCode.NotFound);
    const [first] = await store.listDeployments(tenantId, stackId);
    await refusal(store.getDeployment('someone-else', first.id), ErrorCode.NotFound);
    await refusal(store.requestDelete('someone-else', stackId), ErrorCode.NotFound);
    expect(await store.listStacks('someone-else')).toEqual([]);

    const cyclic = plan('shop', main.ns!);
    cyclic.units[0].dependsOn = ['web'];
    const invalid = await refusal(store.acceptRevision(cyclic, null), ErrorCode.ValidationFailed);
    expect(invalid.message).toContain('cycle: db → web → api → db');
    const unknown = plan('shop', main.ns!);
    unknown.units[2].dependsOn = ['cache'];
    expect(
      (await refusal(store.acceptRevision(unknown, null), ErrorCode.ValidationFailed)).message,
    ).toContain('unit web depends on unknown unit cache');
    await refusal(store.requestRollback(tenantId, stackId, 1), ErrorCode.Conflict);
    await refusal(store.requestRollback(tenantId, stackId, 7), ErrorCode.NotFound);
    expect((await store.listRevisions(tenantId, stackId)).length).toBe(1);
  });

  it('(b) an update whose api never becomes Ready fails and rolls back to revision 1 by itself', async () => {
    const stackId = main.stackId!;
    const ns = main.ns!;
    const accepted = await store.acceptRevision(
      plan('shop', ns, {
        apiImage: 'registry.local/api:2-broken',
        apiPods: { [SIM_ANNOTATIONS.failure]: 'never-ready' },
      }),
      'tosca_definitions_version: v1 # shop r2',
    );
    expect(accepted.deployment).toMatchObject({ kind: 'update', revision: 2, fromRevision: 1 });
    // While it runs, nothing else is accepted for the stack.
    await refusal(store.acceptRevision(plan('shop', ns), null), ErrorCode.Conflict);

    const started = Date.now();
    const [, update, rollback] = await settled(stackId);
    expect(update).toMatchObject({ id: accepted.deployment.id, state: 'failed', failedUnit: 'api' });
    expect(update.error).toMatchObject({ code: 'UNIT_NOT_READY' });
    expect(update.error!.message).toMatch(/unit api not ready after 10000 ms/);
    expect(update.units.db).toMatchObject({ action: 'keep', state: 'ready', message: 'unchanged' });
    expect(update.units.api.state).toBe('failed');
    expect(update.units.web).toMatchObject({ action: 'keep' });
    expect(rollback).toMatchObject({
      kind: 'rollback',
      trigger: 'automatic',
      state: 'succeeded',
      revision: 1,
      fromRevision: 2,
      causedBy: update.id,
    });
    expect(Object.values(rollback.units).map((u) => u.state)).toEqual(['ready', 'ready', 'ready']);
    expect(Date.now() - started).toBeGreaterThanOrEqual(READY_TIMEOUT_MS - 1_000);

    expect(await image('bench-a', ns.x, 'api')).toBe('registry.local/api:1');
    expect(await store.getStack(tenantId, stackId)).toMatchObject({ status: 'deployed', currentRevision: 1 });
    expect((await store.listRevisions(tenantId, stackId)).map((r) => r.outcome)).toEqual([
      'deployed',
      'rolled-back',
    ]);
    const [failed] = await events(stackId, StackDeployFailed.Topic.name);
    expect(failed.data).toMatchObject({ revision: 2, failedUnitId: 'api', rolledBackTo: 1 });
    const rolledBack = await events(stackId, StackRolledBack.Topic.name);
    expect(rolledBack.map((e) => e.data)).toEqual([
      { tenantId, stackId, fromRevision: 2, toRevision: 1, reason: 'automatic' },
    ]);
    // Revision 2 never ran: it cannot be restored.
    const refused = await refusal(store.requestRollback(tenantId, stackId, 2), ErrorCode.Conflict);
    expect(refused.message).toContain('never deployed successfully');
  });

  it('(c) rolls back on request to revision 1 after a good revision 2 (recorded as revision 3)', async () => {
    const ns = await environments('c');
    const cache: DeployUnit = {
      name: 'cache',
      clusterId: 'bench-a',
      namespace: ns.x,
      manifests: [workload('cache', ns.x, 'bench-a', 'registry.local/cache:1')],
      dependsOn: ['db'],
    };
    const first = await store.acceptRevision(plan('blog', ns), 'blog r1');
    expect((await finished(first.deployment.id)).state).toBe('succeeded');
    const second = await store.acceptRevision(
      plan('blog', ns, { apiImage: 'registry.local/api:2', extra: [cache] }),
      'blog r2',
    );
    const updated = await finished(second.deployment.id);
    expect(updated.state).toBe('succeeded');
    expect(Object.fromEntries(Object.entries(updated.units).map(([n, u]) => [n, u.action]))).toEqual({
      db: 'keep',
      api: 'apply',
      web: 'keep',
      cache: 'apply',
    });
    expect(await image('bench-a', ns.x, 'api')).toBe('registry.local/api:2');
    const stackId = first.stack.id;

    const restore = await store.requestRollback(tenantId, stackId, 1, { requestedBy: 'bob' });
    expect(restore.revision).toMatchObject({ revision: 3, restoredFrom: 1, requestedBy: 'bob' });
    expect(restore.revision.templateDigest).toBe(first.revision.templateDigest);
    expect(restore.deployment).toMatchObject({
      kind: 'rollback',
      trigger: 'requested',
      revision: 3,
      fromRevision: 2,
    });
    const done = await finished(restore.deployment.id);
    expect(done.state).toBe('succeeded');
    expect(done.units.cache).toMatchObject({ action: 'remove', state: 'removed' });
    expect(await image('bench-a', ns.x, 'api')).toBe('registry.local/api:1');
    expect(
      await clusters
        .client('bench-a')
        .find({ apiVersion: 'apps/v1', kind: 'Deployment', namespace: ns.x, name: 'cache' }),
    ).toBeUndefined();
    expect(await store.getStack(tenantId, stackId)).toMatchObject({ status: 'deployed', currentRevision: 3 });
    expect((await store.listRevisions(tenantId, stackId)).map((r) => r.outcome)).toEqual([
      'superseded',
      'superseded',
      'deployed',
    ]);
    expect((await store.getRevision(tenantId, stackId, 3)).plan).toEqual(
      (await store.getRevision(tenantId, stackId, 1)).plan,
    );
    expect((await events(stackId, StackRolledBack.Topic.name)).map((e) => e.data)).toEqual([
      { tenantId, stackId, fromRevision: 2, toRevision: 1, reason: 'requested' },
    ]);
    expect((await events(stackId, StackDeployed.Topic.name)).map((e) => e.data.revision)).toEqual([1, 2, 3]);
    expect((await events(stackId, StackRevisionAccepted.Topic.name)).map((e) => e.data.revision)).toEqual([
      1, 2, 3,
    ]);
  });

  it('(d) a deployment interrupted after its first wave was applied is resumed by a new worker', async () => {
    const ns = await environments('d');
    await worker.stop();
    let crashed = 0;
    const crashing: DeploymentWorker = newWorker(`w-crash-${suite}`, {
      afterStep: (step) => {
        if (step !== 'wave-0/applied' || crashed++) return;
        void crashing.stop();
        throw new Error('simulated crash after the first wave was applied');
      },
    });
    const accepted = await store.acceptRevision(plan('crm', ns), 'crm r1');
    crashing.start();
    crashing.wake();
    await waitFor(() => crashed > 0, { timeoutMs: 30_000, description: 'the worker crashed' });
    await crashing.stop();

    const halfway = await store.getDeployment(tenantId, accepted.deployment.id);
    expect(halfway.state).toBe('running');
    expect([halfway.units.db.state, halfway.units.api.state, halfway.units.web.state]).toEqual([
      'waiting',
      'pending',
      'pending',
    ]);

    worker = newWorker(`w2-${suite}`);
    worker.start();
    const done = await finished(accepted.deployment.id);
    expect(done.state).toBe('succeeded');
    // db was not applied again: its recorded apply is the first worker's.
    expect(done.units.db.appliedAt).toBe(halfway.units.db.appliedAt);
    expect(at(done.units.api.appliedAt)).toBeGreaterThanOrEqual(at(done.units.db.readyAt));
    expect(crashed).toBe(1);
    // No duplicates: one Deployment, one ReplicaSet and one pod per workload.
    for (const [cluster, namespace, count] of [
      ['bench-a', ns.x, 2],
      ['bench-b', ns.y, 1],
    ] as const) {
      const client = clusters.client(cluster);
      expect((await client.list('apps/v1', 'Deployment', { namespace })).items).toHaveLength(count);
      expect((await client.list('apps/v1', 'ReplicaSet', { namespace })).items).toHaveLength(count);
      await waitFor(async () => (await client.list('v1', 'Pod', { namespace })).items.length === count, {
        timeoutMs: 20_000,
        description: `${count} pods in ${namespace}`,
      });
    }
    expect((await events(accepted.stack.id, StackDeployed.Topic.name)).length).toBe(1);
    expect(
      (await events(accepted.stack.id, StackDeployProgress.Topic.name)).filter(
        (e) => e.data.unitId === 'db' && e.data.state === 'ready',
      ),
    ).toHaveLength(1);
  });

  it('(e) deletes the stack, dependents first, and waits until their pods are gone', async () => {
    const stackId = main.stackId!;
    const ns = main.ns!;
    const { deployment } = await store.requestDelete(tenantId, stackId, { requestedBy: 'alice' });
    expect(deployment).toMatchObject({ kind: 'delete', revision: 2, fromRevision: 1 });
    const done = await finished(deployment.id);
    expect(done.state).toBe('succeeded');
    const { db, api, web } = done.units;
    expect([db.state, api.state, web.state]).toEqual(['removed', 'removed', 'removed']);
    expect(at(web.removedAt)).toBeLessThanOrEqual(at(api.removedAt));
    expect(at(api.removedAt)).toBeLessThanOrEqual(at(db.removedAt));
    expect(db.message).toBe('objects and pods gone');
    for (const [cluster, namespace] of [
      ['bench-a', ns.x],
      ['bench-b', ns.y],
    ] as const) {
      const client = clusters.client(cluster);
      expect((await client.list('apps/v1', 'Deployment', { namespace })).items).toEqual([]);
      expect((await client.list('v1', 'Pod', { namespace })).items).toEqual([]);
      expect((await client.list('v1', 'Service', { namespace })).items).toEqual([]);
    }
    expect(await store.getStack(tenantId, stackId)).toMatchObject({
      status: 'deleted',
      currentRevision: null,
    });
    expect((await events(stackId, StackDeleted.Topic.name)).map((e) => e.data)).toEqual([
      { tenantId, stackId },
    ]);
    await refusal(store.requestRollback(tenantId, stackId, 1), ErrorCode.Conflict);
  });
});
