/**
 * R-AU-6 on the real bench: platform roles mirrored into Kubernetes RBAC. The resource-manager runs as
 * its own process with PostgreSQL, the Kafka mock cluster and the real kube-apiserver (bench-a, RBAC
 * authorization mode); the test publishes `tenant.members-changed` as the gateway would, and asks the
 * API server itself what each user may do (SubjectAccessReview, and impersonated requests).
 *
 * The story: members published before the tenant is registered are kept and present in its first
 * environment; a restricted member and a read-only user get exactly their platform rights there (no
 * secrets, no changing the network attachment); an older state replayed after a newer one changes
 * nothing; removing the restricted member takes the rights away at the next reconcile; hand-made drift
 * of the mirrored objects is repaired by the resync; an event breaking the contract is dead-lettered.
 */
import { randomUUID } from 'node:crypto';
import { request } from 'node:https';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createEnvelope, TenantMembersChanged, TOPIC_CATALOG } from '@stratum/contracts';
import { KubeClusters, type KubeObject } from '@stratum/kube';
import { envelopeHeaders, KafkaBus } from '@stratum/messaging';
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
import { waitFor } from '@stratum/util';
import { Client } from 'pg';

const suite = `rb${process.pid}`;
const T = `proj-rbac-${suite}`;
const CLUSTER = 'bench-a';
const DEAD_LETTERS = 'stratum.resource-manager.dead-letter.v1';

/** Users as Keystone names them; the Keystone webhook reports these names to Kubernetes. */
const users = {
  admin: { userId: `u-admin-${suite}`, userName: `ada-${suite}` },
  restricted: { userId: `u-restricted-${suite}`, userName: `rex-${suite}` },
  readOnly: { userId: `u-readonly-${suite}`, userName: `rosa-${suite}` },
};

type Member = TenantMembersChanged.Member;
type Binding = KubeObject & { subjects?: Array<{ kind: string; name: string }> };

async function withLog<T>(wait: Promise<T>, process: RunningProcess | undefined): Promise<T> {
  try {
    return await wait;
  } catch (error) {
    throw new Error(
      `${(error as Error).message}\n--- resource-manager output ---\n${process?.output().slice(-4000) ?? ''}`,
    );
  }
}

jest.setTimeout(240_000);

describe('resource-manager: platform roles mirrored into Kubernetes RBAC (R-AU-6)', () => {
  const dir = mkdtempSync(join(tmpdir(), 'stratum-rm-rbac-'));
  const identities = testIdentityKeys();
  const admin = (): Record<string, string> =>
    identities.header({ userId: 'admin', roles: ['platform-admin'], tenantId: 'admin-project' });
  let kafka: KafkaMockCluster;
  let database: TestDatabase;
  let clusters: KubeClusters;
  let service: RunningProcess | undefined;
  let port: number;
  let bus: KafkaBus;
  const deadLetters: Array<Record<string, unknown>> = [];
  let namespace: string | undefined;
  let clock = Date.parse('2025-06-01T08:00:00.000Z');

  const bench = () => sharedKubeBench().clusters.find((c) => c.name === CLUSTER)!;
  const client = () => clusters.client(CLUSTER);

  const call = async (method: string, path: string, body?: unknown) => {
    const response = await fetch(`http://127.0.0.1:${port}${path}`, {
      method,
      headers: { ...admin(), ...(body !== undefined ? { 'content-type': 'application/json' } : {}) },
      body: body !== undefined ? JSON.stringify(body) : undefined,
    });
    const text = await response.text();
    if (response.status >= 300) throw new Error(`${method} ${path} → ${response.status} ${text}`);
    // eslint-disable-next-line @typescript-eslint/no-explicit-any -- JSON answers of the API under test
    return (text ? JSON.parse(text) : undefined) as Record<string, any>;
  };
  const settle = (operationId: string) =>
    withLog(
      waitFor(
        async () => {
          const view = await call('GET', `/api/v1/operations/${operationId}`);
          return ['succeeded', 'failed'].includes(view.state) && view;
        },
        { timeoutMs: 120_000, intervalMs: 200, description: `operation ${operationId} finished` },
      ),
      service,
    );

  /** Publishes the tenant's members as the gateway does; each state is observed a minute after the last. */
  const publishMembers = async (members: Member[], observedAt = new Date((clock += 60_000))) => {
    const sorted = [...members].sort((a, b) => (a.userId < b.userId ? -1 : 1));
    const envelope = createEnvelope(
      TenantMembersChanged.Event,
      {
        tenantId: T,
        tenantName: `rbac-${suite}`,
        members: sorted,
        revision: TenantMembersChanged.revisionOf(sorted),
        observedAt: observedAt.toISOString(),
      },
      { source: 'gateway', trace: null },
    );
    await bus.producer().send([
      {
        topic: TenantMembersChanged.Topic.name,
        key: envelope.key,
        value: JSON.stringify(envelope),
        headers: envelopeHeaders(envelope),
      },
    ]);
    return envelope;
  };

  const sql = async <R>(text: string, values: unknown[] = []): Promise<R[]> => {
    const pg = new Client({ connectionString: database.url });
    await pg.connect();
    try {
      return (await pg.query(text, values)).rows as R[];
    } finally {
      await pg.end();
    }
  };
  const handled = (eventId: string) =>
    withLog(
      waitFor(async () => (await sql('SELECT 1 FROM inbox WHERE event_id = $1', [eventId])).length > 0, {
        timeoutMs: 30_000,
        intervalMs: 100,
        description: `event ${eventId} handled`,
      }),
      service,
    );

  const subjectsOf = async (role: string): Promise<string[] | undefined> => {
    const binding = await client().find<Binding>({
      apiVersion: 'rbac.authorization.k8s.io/v1',
      kind: 'RoleBinding',
      namespace: namespace!,
      name: `stratum-${role}`,
    });
    return binding && (binding.subjects ?? []).map((s) => s.name);
  };
  const untilSubjects = (expected: Record<string, string[]>, description: string) =>
    withLog(
      waitFor(
        async () => {
          for (const [role, names] of Object.entries(expected)) {
            if (JSON.stringify(await subjectsOf(role)) !== JSON.stringify(names)) return false;
          }
          return true;
        },
        { timeoutMs: 60_000, intervalMs: 250, description },
      ),
      service,
    );

  /** The API server's own answer: may `user` do `verb` on `resource` in the environment? */
  const may = async (user: string, verb: string, group: string, resource: string, name?: string) => {
    const review = await client().create<KubeObject & { status?: { allowed?: boolean } }>({
      apiVersion: 'authorization.k8s.io/v1',
      kind: 'SubjectAccessReview',
      metadata: {},
      spec: {
        user,
        groups: ['system:authenticated'],
        resourceAttributes: { namespace, verb, group, resource, ...(name ? { name } : {}) },
      },
    } as KubeObject);
    return review.status?.allowed === true;
  };

  /** A request made as `user` (impersonated by the bench's admin), as kubectl would make it. */
  const as = (user: string, method: string, path: string, body?: unknown) =>
    new Promise<{ status: number; body: string }>((resolve, reject) => {
      const cluster = bench();
      const payload = body === undefined ? undefined : JSON.stringify(body);
      const req = request(
        `${cluster.server}${path}`,
        {
          method,
          ca: Buffer.from(cluster.certificateAuthorityData, 'base64').toString(),
          headers: {
            Authorization: `Bearer ${cluster.token}`,
            'Impersonate-User': user,
            'Impersonate-Group': 'system:authenticated',
            Accept: 'application/json',
            ...(payload
              ? { 'Content-Type': 'application/json', 'Content-Length': Buffer.byteLength(payload) }
              : {}),
          },
        },
        (res) => {
          let text = '';
          res.setEncoding('utf8');
          res.on('data', (chunk: string) => (text += chunk));
          res.on('end', () => resolve({ status: res.statusCode ?? 0, body: text }));
        },
      );
      req.on('error', reject);
      req.end(payload);
    });

  const deployment = (name: string) => ({
    apiVersion: 'apps/v1',
    kind: 'Deployment',
    metadata: { name, namespace },
    spec: {
      replicas: 0,
      selector: { matchLabels: { app: name } },
      template: {
        metadata: { labels: { app: name } },
        spec: { containers: [{ name: 'app', image: 'registry.bank.test/retail/teller:1' }] },
      },
    },
  });

  beforeAll(async () => {
    kafka = await KafkaMockCluster.start({
      brokers: 1,
      topics: TOPIC_CATALOG.map((t) => ({ name: t.name, partitions: t.partitions })),
    });
    database = await createTestDatabase('rm_rbac');
    clusters = KubeClusters.fromFile(sharedKubeBench().kubeconfigPath, { fieldManager: 'r-au-6-test' });
    bus = new KafkaBus({ brokers: kafka.bootstrapServers.split(','), clientId: 'r-au-6-gateway' });
    const consumer = bus.consumer({ groupId: `observer-${suite}`, topics: [DEAD_LETTERS] });
    await consumer.start(async (batch) => {
      for (const message of batch.messages)
        deadLetters.push(JSON.parse(message.value!) as Record<string, unknown>);
    });
    port = await freePortBase(1);
    service = runTs('apps/resource-manager/src/main.ts', {
      HTTP_PORT: String(port),
      HTTP_HOST: '127.0.0.1',
      KAFKA_BROKERS: kafka.bootstrapServers,
      DATABASE_URL: database.url,
      KAFKA_SESSION_TIMEOUT_MS: '6000',
      KUBECONFIG: sharedKubeBench().kubeconfigPath,
      STRATUM_IDENTITY_PUBLIC_KEYS: identities.pemFile(dir),
      RECONCILE_POLL_MS: '200',
      RECONCILE_RESYNC_SECONDS: '5',
      READY_TIMEOUT_SECONDS: '90',
      LOG_LEVEL: process.env.RM_TEST_LOG_LEVEL ?? 'warn',
    });
    const running = service;
    await withLog(
      waitFor(
        async () =>
          (await fetch(`http://127.0.0.1:${port}/health/live`).catch(() => undefined))?.status === 200,
        { timeoutMs: 60_000, intervalMs: 200, description: 'resource-manager up' },
      ),
      running,
    );
  }, 180_000);

  afterAll(async () => {
    await service?.stop('SIGTERM');
    if (process.env.RM_TEST_OUTPUT) writeFileSync(process.env.RM_TEST_OUTPUT, service?.output() ?? '');
    if (namespace) {
      await client()
        .delete({ apiVersion: 'v1', kind: 'Namespace', name: namespace })
        .catch(() => undefined);
    }
    await bus?.close();
    await kafka?.stop();
    await database?.drop();
    await clusters?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('keeps members published before the tenant is registered, and mirrors them into its first environment', async () => {
    const early = await publishMembers([{ ...users.readOnly, roles: ['read-only'] }]);
    await handled(early.id);
    // The project is not registered yet: its members wait in tenant_members, no tenant row changes.
    expect(await sql('SELECT revision FROM tenant_members WHERE tenant_id = $1', [T])).toEqual([
      { revision: early.data.revision },
    ]);

    const net = await call('POST', '/api/v1/networks', {
      name: `rbac-${suite}`,
      cidr: `10.41.${process.pid % 200}.0/24`,
      gateway: `10.41.${process.pid % 200}.1`,
      vlan: 141,
      parentInterface: 'eth1',
      securityDomain: 'core',
      isolationDomain: `bank-${suite}`,
      clusterId: CLUSTER,
    });
    const registered = await call('PUT', `/api/v1/tenants/${T}`, {
      name: `rbac-${suite}`,
      quota: { cpu: '4', memory: '8Gi', pods: 20 },
      developerGroups: [`rbac-${suite}-developers`],
    });
    expect((await settle(registered.operation.id)).state).toBe('succeeded');
    const assigned = await call('PUT', `/api/v1/tenants/${T}/networks/${net.id}`);
    namespace = assigned.environment.namespace as string;
    expect((await settle(assigned.operation.id)).state).toBe('succeeded');

    // Every tenant role is there, bound to whoever holds it — nobody but the read-only user yet.
    expect(await subjectsOf('read-only')).toEqual([users.readOnly.userName]);
    for (const role of ['tenant-admin', 'advanced-member', 'restricted-member']) {
      expect(await subjectsOf(role)).toEqual([]);
    }
    const roles = await client().list('rbac.authorization.k8s.io/v1', 'Role', { namespace });
    expect(roles.items.map((r) => r.metadata?.name).sort()).toEqual([
      'stratum-advanced-member',
      'stratum-read-only',
      'stratum-restricted-member',
      'stratum-tenant-admin',
    ]);
    // The Keystone groups' binding is still there beside them.
    expect(
      await client().find({
        apiVersion: 'rbac.authorization.k8s.io/v1',
        kind: 'RoleBinding',
        namespace,
        name: 'tenant-developers',
      }),
    ).toBeDefined();
  });

  it('gives a restricted member and a read-only user their platform rights in the environment, and no more', async () => {
    await publishMembers([
      { ...users.admin, roles: ['tenant-admin'] },
      { ...users.restricted, roles: ['restricted-member'] },
      { ...users.readOnly, roles: ['read-only'] },
    ]);
    await untilSubjects(
      {
        'tenant-admin': [users.admin.userName],
        'restricted-member': [users.restricted.userName],
        'read-only': [users.readOnly.userName],
        'advanced-member': [],
      },
      'the members bound in the environment',
    );
    const rex = users.restricted.userName;
    const rosa = users.readOnly.userName;
    const decisions = {
      'read-only lists deployments': await may(rosa, 'list', 'apps', 'deployments'),
      'read-only reads pod logs': await may(rosa, 'get', '', 'pods/log'),
      'read-only creates a deployment': await may(rosa, 'create', 'apps', 'deployments'),
      'read-only reads secrets': await may(rosa, 'get', '', 'secrets', 'registry-pull'),
      'restricted creates a deployment': await may(rex, 'create', 'apps', 'deployments'),
      'restricted deletes a claim': await may(rex, 'delete', '', 'persistentvolumeclaims'),
      'restricted reads the network attachment': await may(
        rex,
        'get',
        'k8s.cni.cncf.io',
        'network-attachment-definitions',
        'tenant-network',
      ),
      'restricted deletes the network attachment': await may(
        rex,
        'delete',
        'k8s.cni.cncf.io',
        'network-attachment-definitions',
        'tenant-network',
      ),
      'restricted reads secrets': await may(rex, 'get', '', 'secrets', 'registry-pull'),
      'restricted lists secrets': await may(rex, 'list', '', 'secrets'),
      'restricted changes a network policy': await may(rex, 'patch', 'networking.k8s.io', 'networkpolicies'),
      'tenant admin binds roles': await may(
        users.admin.userName,
        'create',
        'rbac.authorization.k8s.io',
        'rolebindings',
      ),
      'tenant admin reads secrets': await may(users.admin.userName, 'get', '', 'secrets', 'registry-pull'),
      'an unknown user lists deployments': await may(`nobody-${suite}`, 'list', 'apps', 'deployments'),
    };
    expect(decisions).toEqual({
      'read-only lists deployments': true,
      'read-only reads pod logs': true,
      'read-only creates a deployment': false,
      'read-only reads secrets': false,
      'restricted creates a deployment': true,
      'restricted deletes a claim': true,
      'restricted reads the network attachment': true,
      'restricted deletes the network attachment': false,
      'restricted reads secrets': false,
      'restricted lists secrets': false,
      'restricted changes a network policy': false,
      'tenant admin binds roles': false,
      'tenant admin reads secrets': false,
      'an unknown user lists deployments': false,
    });

    // The same, through real requests as kubectl would make them.
    const apps = `/apis/apps/v1/namespaces/${namespace}/deployments`;
    expect((await as(rosa, 'GET', apps)).status).toBe(200);
    expect((await as(rosa, 'POST', apps, deployment('by-rosa'))).status).toBe(403);
    expect((await as(rex, 'POST', apps, deployment('by-rex'))).status).toBe(201);
    const nad = `/apis/k8s.cni.cncf.io/v1/namespaces/${namespace}/network-attachment-definitions/tenant-network`;
    expect((await as(rex, 'GET', nad)).status).toBe(200);
    expect((await as(rex, 'DELETE', nad)).status).toBe(403);
    expect((await as(rex, 'GET', `/api/v1/namespaces/${namespace}/secrets/registry-pull`)).status).toBe(403);
  });

  it('ignores an older state replayed after a newer one', async () => {
    const [current] = await sql<{ revision: string }>(
      'SELECT revision FROM tenant_members WHERE tenant_id = $1',
      [T],
    );
    // Observed before everything published so far: the restricted member as tenant admin.
    const stale = await publishMembers(
      [{ ...users.restricted, roles: ['tenant-admin'] }],
      new Date(Date.parse('2025-06-01T07:00:00.000Z')),
    );
    await handled(stale.id);
    expect(await sql('SELECT revision FROM tenant_members WHERE tenant_id = $1', [T])).toEqual([current]);
    expect(await subjectsOf('tenant-admin')).toEqual([users.admin.userName]);
  });

  it('takes the rights of a removed member away at the next reconcile', async () => {
    await publishMembers([
      { ...users.admin, roles: ['tenant-admin'] },
      { ...users.readOnly, roles: ['read-only'] },
    ]);
    await untilSubjects(
      {
        'restricted-member': [],
        'tenant-admin': [users.admin.userName],
        'read-only': [users.readOnly.userName],
      },
      'the restricted member unbound',
    );
    expect(await may(users.restricted.userName, 'create', 'apps', 'deployments')).toBe(false);
    const apps = `/apis/apps/v1/namespaces/${namespace}/deployments`;
    expect((await as(users.restricted.userName, 'POST', apps, deployment('by-rex-again'))).status).toBe(403);
    expect((await as(users.restricted.userName, 'GET', apps)).status).toBe(403);
  });

  it('repairs hand-made changes to the mirrored objects at the next resync', async () => {
    const rbac = 'rbac.authorization.k8s.io/v1';
    // Someone with cluster rights binds an extra user and deletes a Role by hand.
    await client().mergePatch(
      { apiVersion: rbac, kind: 'RoleBinding', namespace: namespace!, name: 'stratum-read-only' },
      {
        subjects: [
          { kind: 'User', apiGroup: 'rbac.authorization.k8s.io', name: users.readOnly.userName },
          { kind: 'User', apiGroup: 'rbac.authorization.k8s.io', name: `mallory-${suite}` },
        ],
      },
    );
    await client().delete({
      apiVersion: rbac,
      kind: 'Role',
      namespace: namespace!,
      name: 'stratum-restricted-member',
    });
    expect(await may(`mallory-${suite}`, 'list', 'apps', 'deployments')).toBe(true);
    await withLog(
      waitFor(
        async () =>
          JSON.stringify(await subjectsOf('read-only')) === JSON.stringify([users.readOnly.userName]) &&
          (await client().find({
            apiVersion: rbac,
            kind: 'Role',
            namespace: namespace!,
            name: 'stratum-restricted-member',
          })) !== undefined,
        { timeoutMs: 60_000, intervalMs: 250, description: 'the mirrored RBAC restored by the resync' },
      ),
      service,
    );
    expect(await may(`mallory-${suite}`, 'list', 'apps', 'deployments')).toBe(false);
  });

  it('dead-letters an event that breaks the contract, and still applies the next one', async () => {
    const good = createEnvelope(
      TenantMembersChanged.Event,
      {
        tenantId: T,
        tenantName: `rbac-${suite}`,
        members: [],
        revision: TenantMembersChanged.revisionOf([]),
        observedAt: new Date((clock += 60_000)).toISOString(),
      },
      { source: 'gateway', trace: null },
    );
    // platform-admin is never a tenant member role.
    const bad = {
      ...good,
      id: randomUUID(),
      data: { ...good.data, members: [{ ...users.restricted, roles: ['platform-admin'] }] },
    };
    await bus.producer().send([
      {
        topic: TenantMembersChanged.Topic.name,
        key: bad.key,
        value: JSON.stringify(bad),
        headers: envelopeHeaders(bad),
      },
    ]);
    const letter = await withLog(
      waitFor(() => deadLetters.find((letter) => letter.eventId === bad.id), {
        timeoutMs: 30_000,
        intervalMs: 100,
        description: 'the invalid event on the dead-letter topic',
      }),
      service,
    );
    // The record the kit writes (DeadLetterSchema): the raw message, why, and for which group.
    expect(letter).toMatchObject({
      originalTopic: TenantMembersChanged.Topic.name,
      reason: 'schema-invalid',
      groupId: 'resource-manager',
    });
    await untilSubjects(
      { 'tenant-admin': [users.admin.userName], 'read-only': [users.readOnly.userName] },
      'still the previous members',
    );
    const next = await publishMembers([{ ...users.admin, roles: ['tenant-admin'] }]);
    await handled(next.id);
    await untilSubjects(
      { 'tenant-admin': [users.admin.userName], 'read-only': [] },
      'the next event applied',
    );
  });
});
