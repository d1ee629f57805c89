/**
 * Issue #5 acceptance through the API, on the real bench: the resource-manager and the orchestrator
 * as their own processes with their own PostgreSQL databases, the Kafka mock cluster between them,
 * two real kube-apiservers (bench-a, bench-b) and simulated nodes.
 *
 * An admin records networks N1 (dmz, bench-a) and N2 (core, bench-b) and assigns both to tenant T; the
 * orchestrator learns T's environments from the resource-manager's events (R-OR-3). A TOSCA template
 * of three microservices — web in N1 ConnectsTo api in N2, api DependsOn ledger in N2 — is submitted:
 * it deploys in dependency order (asserted from the Ready times) into the two environments, and its
 * autoscaling policy is published once all are up (R-OR-5). A bad update (an api image the simulator
 * never makes Ready) rolls back by itself; an explicit rollback restores revision 1 (R-OR-6/7); the
 * process killed in the middle of a deployment completes it after a restart; deletion withdraws the
 * policies. Bad templates, other tenants and read-only members change nothing.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { TOPIC_CATALOG } from '@stratum/contracts';
import { KubeClusters, type KubeObject, NodeSimulator } from '@stratum/kube';
import { KafkaBus } from '@stratum/messaging';
import {
  createTestDatabase,
  freePortBase,
  KafkaMockCluster,
  runTs,
  type RunningProcess,
  sharedKubeBench,
  type TestDatabase,
  testIdentityKeys,
} from '@stratum/testing';
import { writeZip } from '@stratum/tosca';
import { waitFor } from '@stratum/util';

const suite = `s${process.pid}`;
const T = `proj-t-${suite}`;
const U = `proj-u-${suite}`;
const BROKEN_IMAGE = 'registry.bank.test/shop/api:2.0.0-broken';
const READY_TIMEOUT_SECONDS = 12;

interface Envelope {
  id: string;
  type: string;
  time: string;
  data: Record<string, unknown>;
}

interface UnitView {
  state: string;
  action: string;
  appliedAt?: string;
  readyAt?: string;
  removedAt?: string;
}

interface DeploymentView {
  id: string;
  kind: string;
  trigger: string;
  state: string;
  revision: number;
  fromRevision: number | null;
  failedUnit: string | null;
  units: Record<string, UnitView>;
}

jest.setTimeout(300_000);

describe('orchestrator: TOSCA stacks deployed across networks, with revisions and rollback (issue #5)', () => {
  const dir = mkdtempSync(join(tmpdir(), 'stratum-stacks-'));
  const identities = testIdentityKeys();
  // Identity tokens are short-lived (as the gateway signs them): a fresh one for every request.
  const as = (identity: Parameters<typeof identities.header>[0]): Record<string, string> =>
    Object.defineProperty({}, 'x-stratum-identity', {
      enumerable: true,
      get: () => identities.header(identity)['x-stratum-identity'],
    });
  const admin = as({ userId: 'admin', roles: ['platform-admin'], tenantId: 'admin-project' });
  const alice = as({ userId: 'u-alice', userName: 'alice', roles: ['advanced-member'], tenantId: T });
  const reader = as({ userId: 'rita', roles: ['read-only'], tenantId: T });
  const mallory = as({ userId: 'mallory', roles: ['tenant-admin'], tenantId: U });
  let kafka: KafkaMockCluster;
  let rmDatabase: TestDatabase;
  let orchDatabase: TestDatabase;
  let clusters: KubeClusters;
  const simulators: NodeSimulator[] = [];
  let rm: RunningProcess | undefined;
  let orchestrator: RunningProcess | undefined;
  let rmPort: number;
  let port: number;
  let observer: KafkaBus;
  const events: Envelope[] = [];
  const namespaces: Array<{ cluster: string; name: string }> = [];
  const names = { n1: `n1-${suite}`, n2: `n2-${suite}`, u1: `u1-${suite}` };
  const env: Record<string, { namespace: string; cluster: string; id: string }> = {};

  const common = () => ({
    HTTP_HOST: '127.0.0.1',
    KAFKA_BROKERS: kafka.bootstrapServers,
    KAFKA_SESSION_TIMEOUT_MS: '6000',
    KUBECONFIG: sharedKubeBench().kubeconfigPath,
    STRATUM_IDENTITY_PUBLIC_KEYS: identities.pemFile(dir),
  });

  const up = async (process: RunningProcess, at: number, what: string) => {
    await waitFor(
      async () => (await fetch(`http://127.0.0.1:${at}/health/ready`).catch(() => undefined))?.status === 200,
      { timeoutMs: 60_000, intervalMs: 200, description: `${what} ready` },
    ).catch((error: Error) => {
      throw new Error(`${error.message}\n--- ${what} output ---\n${process.output().slice(-4000)}`);
    });
  };

  const startOrchestrator = async (extra: Record<string, string> = {}) => {
    orchestrator = runTs('apps/orchestrator/src/main.ts', {
      ...common(),
      HTTP_PORT: String(port),
      DATABASE_URL: orchDatabase.url,
      DEPLOY_UNIT_READY_TIMEOUT_SECONDS: String(READY_TIMEOUT_SECONDS),
      DEPLOY_UNIT_GONE_TIMEOUT_SECONDS: '30',
      DEPLOY_POLL_MS: '200',
      DEPLOY_LEASE_SECONDS: '5',
      DEPLOY_WORKER_ID: `orchestrator-${suite}`,
      LOG_LEVEL: process.env.STACKS_TEST_LOG_LEVEL ?? 'warn',
      ...extra,
    });
    // The fault hook kills the process before it could ever be ready: wait for liveness only then.
    if (extra.STRATUM_FAULT_KILL_AFTER_STEP) {
      await waitFor(
        async () =>
          (await fetch(`http://127.0.0.1:${port}/health/live`).catch(() => undefined))?.status === 200,
        { timeoutMs: 60_000, intervalMs: 200, description: 'orchestrator up' },
      );
    } else await up(orchestrator, port, 'orchestrator');
  };

  const request = async (
    at: number,
    method: string,
    path: string,
    headers: Record<string, string>,
    body?: unknown,
  ) => {
    const response = await fetch(`http://127.0.0.1:${at}${path}`, {
      method,
      headers: { ...headers, ...(body !== undefined ? { 'content-type': 'application/json' } : {}) },
      body: body !== undefined ? JSON.stringify(body) : undefined,
    });
    const text = await response.text();
    return {
      status: response.status,
      location: response.headers.get('location'),
      // eslint-disable-next-line @typescript-eslint/no-explicit-any -- JSON answers of the API under test, read field by field
      body: (text ? JSON.parse(text) : undefined) as Record<string, any>,
    };
  };
  const call = (method: string, path: string, headers: Record<string, string>, body?: unknown) =>
    request(port, method, path, headers, body);
  const ok = async (method: string, path: string, headers: Record<string, string>, body?: unknown) => {
    const result = await call(method, path, headers, body);
    if (result.status >= 300) {
      throw new Error(
        `${method} ${path} → ${result.status} ${JSON.stringify(result.body)}\n--- orchestrator output ---\n${orchestrator?.output().slice(-3000)}`,
      );
    }
    return result;
  };
  const rmOk = async (method: string, path: string, body?: unknown) => {
    const result = await request(rmPort, method, path, admin, body);
    if (result.status >= 300)
      throw new Error(`${method} ${path} → ${result.status} ${JSON.stringify(result.body)}`);
    return result.body;
  };
  const rmSettle = (operation: { id: string }) =>
    waitFor(
      async () => {
        const view = (await request(rmPort, 'GET', `/api/v1/operations/${operation.id}`, admin)).body;
        if (view.state === 'failed') throw new Error(`operation failed: ${JSON.stringify(view.error)}`);
        return view.state === 'succeeded';
      },
      { timeoutMs: 120_000, intervalMs: 200, description: `operation ${operation.id}` },
    );

  /** The deployment once it has finished, and none of the stack's is open any more. */
  const finished = async (stack: string, deploymentId: string): Promise<DeploymentView> => {
    await waitFor(
      async () => {
        const all = (await call('GET', `/api/v1/tenants/${T}/stacks/${stack}/deployments`, alice)).body
          .items as DeploymentView[];
        return all.length > 0 && all.every((d) => d.state === 'succeeded' || d.state === 'failed');
      },
      { timeoutMs: 120_000, intervalMs: 250, description: `stack ${stack} settled` },
    ).catch((error: Error) => {
      throw new Error(
        `${error.message}\n--- orchestrator output ---\n${orchestrator?.output().slice(-3000)}`,
      );
    });
    return (await ok('GET', `/api/v1/tenants/${T}/deployments/${deploymentId}`, alice))
      .body as DeploymentView;
  };

  const template = (options: { stack?: string; prefix?: string; apiImage?: string } = {}) => {
    const p = options.prefix ?? '';
    return `tosca_definitions_version: tosca_simple_yaml_1_3
metadata:
  template_name: ${options.stack ?? 'shop'}
topology_template:
  node_templates:
    ${p}web:
      type: stratum.nodes.Microservice
      properties:
        image: registry.bank.test/shop/web:1.0.0
        replicas: 1
        env:
          - name: API_URL
            value: http://${p}api--${names.n2}:8080
        ports:
          - name: http
            port: 8080
        readiness_probe:
          type: http
          path: /ready
          port: 8080
        network: ${names.n1}
        security_level: dmz
      requirements:
        - connection:
            node: ${p}api
            relationship:
              type: stratum.relationships.ConnectsTo
              properties:
                port: 8080
    ${p}api:
      type: stratum.nodes.Microservice
      properties:
        image: ${options.apiImage ?? 'registry.bank.test/shop/api:1.0.0'}
        replicas: 1
        ports:
          - name: http
            port: 8080
        resources:
          cpu_request: 100m
          cpu_limit: 500m
          memory_request: 64Mi
          memory_limit: 256Mi
        readiness_probe:
          type: http
          path: /ready
          port: 8080
        network: ${names.n2}
        security_level: core
      requirements:
        - dependency: ${p}ledger
    ${p}ledger:
      type: stratum.nodes.Microservice
      properties:
        image: registry.bank.test/shop/ledger:1.0.0
        replicas: 1
        ports:
          - name: pg
            port: 5432
        readiness_probe:
          type: tcp
          port: 5432
        network: ${names.n2}
        security_level: core
  policies:
    - ${p}api-daytime:
        type: stratum.policies.scaling.Autoscaling
        targets: [${p}api]
        properties:
          windows:
            - start: '08:00'
              end: '20:00'
          strategy: cpu
          upper_threshold: 75
          lower_threshold: 30
          duration: 2 m
          step: 1
          min_replicas: 1
          max_replicas: 4
          retrigger_time: 5 m
`;
  };

  const image = async (key: 'n1' | 'n2', name: string) => {
    const { cluster, namespace } = env[key];
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
  const eventsOf = (type: string, stackId: string) =>
    events.filter((e) => e.type === type && e.data.stackId === stackId);
  const at = (iso: string | undefined) => new Date(iso!).getTime();

  beforeAll(async () => {
    kafka = await KafkaMockCluster.start({
      brokers: 1,
      topics: TOPIC_CATALOG.map((t) => ({ name: t.name, partitions: t.partitions })),
    });
    rmDatabase = await createTestDatabase('stacks_rm');
    orchDatabase = await createTestDatabase('stacks_orch');
    clusters = KubeClusters.fromFile(sharedKubeBench().kubeconfigPath, { fieldManager: 'issue-5-test' });
    for (const cluster of ['bench-a', 'bench-b']) {
      const simulator = await NodeSimulator.start({
        client: clusters.withFieldManager('stratum-node-simulator').client(cluster),
        nodes: [{ name: `${suite}-${cluster}-node`, labels: { 'stratum.io/bench-suite': suite } }],
        logRoot: join(dir, cluster),
        readyDelayMs: 300,
      });
      // The bad update of scenario (b): an image that runs but never passes its readiness check.
      simulator.setBehaviour({ image: BROKEN_IMAGE }, { failure: 'never-ready' });
      simulators.push(simulator);
    }
    observer = new KafkaBus({ brokers: kafka.bootstrapServers.split(','), clientId: 'issue-5-observer' });
    const consumer = observer.consumer({
      groupId: `observer-${suite}`,
      topics: TOPIC_CATALOG.filter((t) => t.name.startsWith('stratum.orchestrator.')).map((t) => t.name),
    });
    await consumer.start(async (batch) => {
      for (const message of batch.messages) events.push(JSON.parse(message.value!) as Envelope);
    });
    [rmPort, port] = [await freePortBase(1), await freePortBase(1)];
    rm = runTs('apps/resource-manager/src/main.ts', {
      ...common(),
      HTTP_PORT: String(rmPort),
      DATABASE_URL: rmDatabase.url,
      RECONCILE_POLL_MS: '200',
      LOG_LEVEL: 'warn',
    });
    await up(rm, rmPort, 'resource-manager');
    await startOrchestrator();
  }, 180_000);

  afterAll(async () => {
    await orchestrator?.stop('SIGTERM');
    await rm?.stop('SIGTERM');
    // Debugging aid: STACKS_TEST_OUTPUT=<file> keeps the orchestrator's whole log.
    if (process.env.STACKS_TEST_OUTPUT)
      writeFileSync(process.env.STACKS_TEST_OUTPUT, orchestrator?.output() ?? '');
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
    await observer?.close();
    await kafka?.stop();
    await rmDatabase?.drop();
    await orchDatabase?.drop();
    await clusters?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it("learns tenant T's two environments from the resource-manager's events (R-OR-3)", async () => {
    const network = (name: string, octet: number, securityDomain: string, clusterId: string) => ({
      name,
      cidr: `10.${octet}.${process.pid % 200}.0/24`,
      gateway: `10.${octet}.${process.pid % 200}.1`,
      vlan: 100 + octet,
      parentInterface: 'eth1',
      securityDomain,
      isolationDomain: `bank-${suite}`,
      clusterId,
    });
    const ids = {
      n1: (await rmOk('POST', '/api/v1/networks', network(names.n1, 41, 'dmz', 'bench-a'))).id as string,
      n2: (await rmOk('POST', '/api/v1/networks', network(names.n2, 42, 'core', 'bench-b'))).id as string,
      u1: (await rmOk('POST', '/api/v1/networks', network(names.u1, 43, 'core', 'bench-b'))).id as string,
    };
    for (const [tenant, name] of [
      [T, `t-${suite}`],
      [U, `u-${suite}`],
    ]) {
      const settings = { name, quota: { cpu: '8', memory: '16Gi', pods: 40 } };
      await rmSettle((await rmOk('PUT', `/api/v1/tenants/${tenant}`, settings)).operation);
    }
    for (const [tenant, key] of [
      [T, 'n1'],
      [T, 'n2'],
      [U, 'u1'],
    ] as const) {
      const accepted = await rmOk('PUT', `/api/v1/tenants/${tenant}/networks/${ids[key]}`);
      await rmSettle(accepted.operation);
      const environment = accepted.environment as { id: string; namespace: string; clusterId: string };
      env[key] = { namespace: environment.namespace, cluster: environment.clusterId, id: environment.id };
      namespaces.push({ cluster: environment.clusterId, name: environment.namespace });
      // This suite's pods go to its own simulated nodes (the bench is shared by concurrent suites).
      await clusters.client(environment.clusterId).mergePatch(
        { apiVersion: 'v1', kind: 'Namespace', name: environment.namespace },
        {
          metadata: {
            annotations: { 'scheduler.alpha.kubernetes.io/node-selector': `stratum.io/bench-suite=${suite}` },
          },
        },
      );
    }
    // The dry run answers valid once the orchestrator knows both networks of T.
    const dryRun = await waitFor(
      async () => {
        const result = await ok('POST', `/api/v1/tenants/${T}/stacks/shop/validate`, alice, {
          template: template(),
        });
        return result.body.valid === true && result.body;
      },
      { timeoutMs: 60_000, intervalMs: 500, description: "the orchestrator's view of T's environments" },
    );
    expect(
      dryRun.plan.units.map((u: { name: string; environmentId: string }) => [u.name, u.environmentId]),
    ).toEqual([
      ['ledger', env.n2.id],
      ['api', env.n2.id],
      ['web', env.n1.id],
    ]);
    // A dry run records nothing.
    expect((await ok('GET', `/api/v1/tenants/${T}/stacks`, alice)).body.items).toEqual([]);
  });

  const shop: { stackId?: string } = {};

  it('(a) deploys ledger, then api once ledger is Ready, then web in the other network once api is Ready', async () => {
    const accepted = await call('PUT', `/api/v1/tenants/${T}/stacks/shop`, alice, { template: template() });
    expect(accepted.status).toBe(202);
    expect(accepted.body.revision).toMatchObject({ revision: 1, outcome: 'pending', requestedBy: 'alice' });
    expect(accepted.location).toBe(`/api/v1/tenants/${T}/deployments/${accepted.body.deployment.id}`);
    shop.stackId = accepted.body.stack.id;

    const done = await finished('shop', accepted.body.deployment.id);
    expect(done.state).toBe('succeeded');
    const { ledger, api, web } = done.units;
    expect([ledger.state, api.state, web.state]).toEqual(['ready', 'ready', 'ready']);
    expect(at(api.appliedAt)).toBeGreaterThanOrEqual(at(ledger.readyAt));
    expect(at(web.appliedAt)).toBeGreaterThanOrEqual(at(api.readyAt));

    // Each unit in the environment of its network, on the tenant network (Multus), labelled with the stack.
    const web1 = await clusters.client(env.n1.cluster).get<KubeObject & { spec: { template: KubeObject } }>({
      apiVersion: 'apps/v1',
      kind: 'Deployment',
      namespace: env.n1.namespace,
      name: 'web',
    });
    expect(web1.metadata?.labels).toMatchObject({ 'stratum.io/stack': 'shop', 'stratum.io/service': 'web' });
    expect(web1.spec.template.metadata?.annotations?.['k8s.v1.cni.cncf.io/networks']).toContain(
      'tenant-network',
    );
    expect(await image('n2', 'api')).toBe('registry.bank.test/shop/api:1.0.0');
    expect(
      await clusters
        .client(env.n1.cluster)
        .find({ apiVersion: 'apps/v1', kind: 'Deployment', namespace: env.n1.namespace, name: 'api' }),
    ).toBeUndefined();

    const stack = (await ok('GET', `/api/v1/tenants/${T}/stacks/shop`, reader)).body;
    expect(stack).toMatchObject({ status: 'deployed', currentRevision: 1, latestRevision: 1 });

    // Once all are deployed, the stack's autoscaling policy is published for the autoscaler (R-OR-5).
    const published = await waitFor(
      () => eventsOf('orchestrator.autoscaling-policies-published', shop.stackId!)[0],
      { timeoutMs: 30_000, description: 'autoscaling policies published on Kafka' },
    );
    expect(published.data).toMatchObject({
      tenantId: T,
      revision: 1,
      policies: [
        {
          service: 'api',
          environmentId: env.n2.id,
          namespace: env.n2.namespace,
          deployment: 'api',
          enabled: true,
          cycle: 'daily',
          windows: [
            {
              start: '08:00',
              end: '20:00',
              strategy: expect.objectContaining({
                kind: 'cpu',
                upperThreshold: 75,
                minReplicas: 1,
                maxReplicas: 4,
              }),
            },
          ],
        },
      ],
    });
    // Both leave in one transaction but on two topics, so the test's consumer may see them in either
    // order: wait for stack-deployed too, then order them by envelope time, as a consumer must.
    const deployed = await waitFor(
      () => {
        const found = eventsOf('orchestrator.stack-deployed', shop.stackId!);
        return found.length > 0 && found;
      },
      { timeoutMs: 30_000, description: 'stack-deployed on Kafka' },
    );
    expect(deployed).toHaveLength(1);
    expect(at(published.time)).toBeGreaterThanOrEqual(at(deployed[0].time));
  });

  it('refuses bad templates with every diagnostic at its line, and other tenants and read-only members, changing nothing', async () => {
    const broken = template()
      .replace('replicas: 1\n        env:', 'replicas: many\n        env:')
      .replace(`network: ${names.n1}`, `network: ${names.u1}`);
    const refused = await call('PUT', `/api/v1/tenants/${T}/stacks/shop`, alice, { template: broken });
    expect(refused.status).toBe(400);
    const diagnostics = refused.body.error.details.diagnostics as Array<{
      code: string;
      line: number;
      file: string;
    }>;
    const lineOf = (text: string) => broken.split('\n').findIndex((l) => l.includes(text)) + 1;
    expect(diagnostics).toEqual(
      expect.arrayContaining([
        expect.objectContaining({
          code: 'TOSCA_TYPE_MISMATCH',
          file: 'template.yaml',
          line: lineOf('replicas: many'),
        }),
        // U's network is not T's (rule 10, R-OR-3).
        expect.objectContaining({ code: 'STRATUM_UNKNOWN_NETWORK', line: lineOf(`network: ${names.u1}`) }),
      ]),
    );
    expect(refused.body.error.message).toMatch(/^template: 2 errors: template\.yaml:\d+:\d+ /);

    // A fixed IP on N1's gateway, and one outside N1's subnet (rule 10 against the view's network).
    const subnet = `10.41.${process.pid % 200}`;
    const fixed = template().replace(
      `        network: ${names.n1}\n`,
      `        network: ${names.n1}\n        fixed_ips:\n          - network: ${names.n1}\n            address: ${subnet}.1\n`,
    );
    const fixedRefused = await call('PUT', `/api/v1/tenants/${T}/stacks/shop`, alice, { template: fixed });
    expect(fixedRefused.status).toBe(400);
    expect(fixedRefused.body.error.details.diagnostics.map((d: { code: string }) => d.code)).toContain(
      'STRATUM_FIXED_IP_GATEWAY',
    );
    const outside = fixed.replace(`address: ${subnet}.1`, 'address: 192.0.2.7');
    const outsideRefused = await call('PUT', `/api/v1/tenants/${T}/stacks/shop`, alice, {
      template: outside,
    });
    expect(outsideRefused.body.error.details.diagnostics.map((d: { code: string }) => d.code)).toContain(
      'STRATUM_FIXED_IP_OUTSIDE_SUBNET',
    );

    const cyclic = template().replace(
      `        security_level: core\n  policies:`,
      `        security_level: core\n      requirements:\n        - dependency: web\n  policies:`,
    );
    const cycle = await call('PUT', `/api/v1/tenants/${T}/stacks/shop`, alice, { template: cyclic });
    expect(cycle.status).toBe(400);
    expect(cycle.body.error.details.diagnostics.map((d: { code: string }) => d.code)).toContain(
      'TOSCA_REQUIREMENT_CYCLE',
    );
    const badBody = await call('PUT', `/api/v1/tenants/${T}/stacks/Shop_1`, alice, { yaml: 'x' });
    expect(badBody.status).toBe(400);
    expect(badBody.body.error.message).toContain('name:');
    expect(badBody.body.error.message).toContain('template:');

    // Another tenant's admin, and a read-only member of T, may not change T's stack; no identity, nothing.
    expect(
      (await call('PUT', `/api/v1/tenants/${T}/stacks/shop`, mallory, { template: template() })).status,
    ).toBe(403);
    expect((await call('GET', `/api/v1/tenants/${T}/stacks/shop`, mallory)).status).toBe(403);
    expect(
      (await call('PUT', `/api/v1/tenants/${T}/stacks/shop`, reader, { template: template() })).status,
    ).toBe(403);
    expect((await call('DELETE', `/api/v1/tenants/${T}/stacks/shop`, reader)).status).toBe(403);
    expect((await call('GET', `/api/v1/tenants/${T}/stacks`, {})).status).toBe(401);
    // Another stack of T may not take over shop's objects (same microservice names, same environments).
    const takeover = await call('PUT', `/api/v1/tenants/${T}/stacks/dup`, alice, {
      template: template({ stack: 'dup' }),
    });
    expect(takeover.status).toBe(409);
    expect(takeover.body.error.message).toContain('belongs to stack shop');
    expect((await call('GET', `/api/v1/tenants/${T}/stacks/dup`, alice)).status).toBe(404);
    // U's own listing does not show T's stack.
    expect((await ok('GET', `/api/v1/tenants/${U}/stacks`, mallory)).body.items).toEqual([]);

    const revisions = (await ok('GET', `/api/v1/tenants/${T}/stacks/shop/revisions`, reader)).body.items;
    expect(revisions.map((r: { revision: number }) => r.revision)).toEqual([1]);
  });

  it('(b) an update whose api image never becomes Ready rolls the stack back to revision 1 by itself', async () => {
    const accepted = await ok('PUT', `/api/v1/tenants/${T}/stacks/shop`, alice, {
      template: template({ apiImage: BROKEN_IMAGE }),
    });
    expect(accepted.body.deployment).toMatchObject({ kind: 'update', revision: 2, fromRevision: 1 });
    // While it runs, another change of the stack is refused, not queued.
    expect(
      (await call('PUT', `/api/v1/tenants/${T}/stacks/shop`, alice, { template: template() })).status,
    ).toBe(409);

    const update = await finished('shop', accepted.body.deployment.id);
    expect(update).toMatchObject({ state: 'failed', failedUnit: 'api' });
    expect(update.units.ledger).toMatchObject({ action: 'keep' });
    const all = (await ok('GET', `/api/v1/tenants/${T}/stacks/shop/deployments`, alice)).body
      .items as DeploymentView[];
    expect(all.at(-1)).toMatchObject({
      kind: 'rollback',
      trigger: 'automatic',
      state: 'succeeded',
      revision: 1,
    });
    expect(await image('n2', 'api')).toBe('registry.bank.test/shop/api:1.0.0');
    expect((await ok('GET', `/api/v1/tenants/${T}/stacks/shop`, alice)).body).toMatchObject({
      status: 'deployed',
      currentRevision: 1,
    });
    const outcomes = (await ok('GET', `/api/v1/tenants/${T}/stacks/shop/revisions`, alice)).body.items.map(
      (r: { outcome: string }) => r.outcome,
    );
    expect(outcomes).toEqual(['deployed', 'rolled-back']);
  });

  it('(c) an explicit rollback restores revision 1 after a good revision 2, as revision 3 (R-OR-7)', async () => {
    const good = await ok('PUT', `/api/v1/tenants/${T}/stacks/shop`, alice, {
      template: template({ apiImage: 'registry.bank.test/shop/api:2.0.0' }),
    });
    expect((await finished('shop', good.body.deployment.id)).state).toBe('succeeded');
    expect(await image('n2', 'api')).toBe('registry.bank.test/shop/api:2.0.0');
    expect((await ok('GET', `/api/v1/tenants/${T}/stacks/shop`, alice)).body.currentRevision).toBe(3);

    const refused = await call('POST', `/api/v1/tenants/${T}/stacks/shop/rollback`, alice, { revision: 2 });
    expect(refused.status).toBe(409);
    expect(refused.body.error.message).toContain('never deployed successfully');
    const restore = await call('POST', `/api/v1/tenants/${T}/stacks/shop/rollback`, alice, { revision: 1 });
    expect(restore.status).toBe(202);
    expect(restore.body.revision).toMatchObject({ revision: 4, restoredFrom: 1 });
    const done = await finished('shop', restore.body.deployment.id);
    expect(done).toMatchObject({ kind: 'rollback', trigger: 'requested', state: 'succeeded' });
    expect(await image('n2', 'api')).toBe('registry.bank.test/shop/api:1.0.0');
    const revision4 = (await ok('GET', `/api/v1/tenants/${T}/stacks/shop/revisions/4`, reader)).body;
    const revision1 = (await ok('GET', `/api/v1/tenants/${T}/stacks/shop/revisions/1`, reader)).body;
    expect(revision4.plan).toEqual(revision1.plan);
    expect(revision4.templateDigest).toBe(revision1.templateDigest);
  });

  it('(d) a deployment interrupted by a crash after its first wave resumes after a restart', async () => {
    await orchestrator!.stop('SIGTERM');
    await startOrchestrator({ STRATUM_FAULT_KILL_AFTER_STEP: 'wave-0/applied' });
    const crashing = orchestrator!;
    // A second stack, submitted as a CSAR archive this time.
    const csar = writeZip({
      'TOSCA-Metadata/TOSCA.meta':
        'TOSCA-Meta-File-Version: 1.1\nCSAR-Version: 1.1\nCreated-By: test\nEntry-Definitions: crm.yaml\n',
      'crm.yaml': template({ stack: 'crm', prefix: 'crm-' }),
    });
    const accepted = await ok('PUT', `/api/v1/tenants/${T}/stacks/crm`, alice, {
      csar: csar.toString('base64'),
    });
    expect(await crashing.exited).toBe('SIGKILL');
    await startOrchestrator();
    const done = await finished('crm', accepted.body.deployment.id);
    expect(done.state).toBe('succeeded');
    expect(Object.values(done.units).map((u) => u.state)).toEqual(['ready', 'ready', 'ready']);
    // Applied once: one Deployment and one ReplicaSet per microservice.
    const client = clusters.client(env.n2.cluster);
    const deployments = await client.list('apps/v1', 'Deployment', {
      namespace: env.n2.namespace,
      labelSelector: 'stratum.io/stack=crm',
    });
    expect(deployments.items.map((d) => d.metadata?.name).sort()).toEqual(['crm-api', 'crm-ledger']);
    const replicaSets = await client.list('apps/v1', 'ReplicaSet', {
      namespace: env.n2.namespace,
      labelSelector: 'stratum.io/stack=crm',
    });
    expect(replicaSets.items).toHaveLength(2);
  });

  it('(e) deleting a stack removes its units, dependents first, and withdraws its autoscaling policies', async () => {
    const accepted = await call('DELETE', `/api/v1/tenants/${T}/stacks/shop`, alice);
    expect(accepted.status).toBe(202);
    const done = await finished('shop', accepted.body.deployment.id);
    expect(done).toMatchObject({ kind: 'delete', state: 'succeeded' });
    const { web, api, ledger } = done.units;
    expect([web.state, api.state, ledger.state]).toEqual(['removed', 'removed', 'removed']);
    expect(at(api.removedAt)).toBeGreaterThanOrEqual(at(web.removedAt));
    expect(at(ledger.removedAt)).toBeGreaterThanOrEqual(at(api.removedAt));
    for (const [key, name] of [
      ['n1', 'web'],
      ['n2', 'api'],
      ['n2', 'ledger'],
    ] as const) {
      expect(
        await clusters
          .client(env[key].cluster)
          .find({ apiVersion: 'apps/v1', kind: 'Deployment', namespace: env[key].namespace, name }),
      ).toBeUndefined();
    }
    expect((await ok('GET', `/api/v1/tenants/${T}/stacks/shop`, alice)).body.status).toBe('deleted');
    await waitFor(() => eventsOf('orchestrator.autoscaling-policies-withdrawn', shop.stackId!).length === 1, {
      timeoutMs: 30_000,
      description: 'autoscaling policies withdrawn on Kafka',
    });
    // The other stack is untouched.
    expect((await ok('GET', `/api/v1/tenants/${T}/stacks/crm`, alice)).body.status).toBe('deployed');
  });
});
