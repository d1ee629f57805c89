/**
 * Issue #4 acceptance on the real bench: the resource-manager as its own process with PostgreSQL,
 * the Kafka mock cluster and two real kube-apiservers (bench-a, bench-b), simulated nodes for pods.
 *
 * The source document's story: an admin records N1 (DMZ) and N2 (core), assigns N1 then N2 to tenant
 * T; both environments appear with their network attachment, policies and quota; a service of N2 is
 * resolvable from N1 by its linked name and the policies let that traffic in while another tenant's
 * environment is denied (R-NW-1..4). Gold and bronze NFS servers; a volume on gold is a bound claim
 * in every environment with the same export path, including a third network assigned later
 * (R-ST-1..4). The process killed between two reconcile steps completes after a restart with no
 * duplicate objects. Bad inputs get a 4xx naming the field and change nothing (issue #4 §8).
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { TOPIC_CATALOG } from '@stratum/contracts';
import { KubeClusters, type KubeObject, MULTUS_NETWORKS, NodeSimulator } from '@stratum/kube';
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
import { waitFor } from '@stratum/util';
import { Client } from 'pg';
import { ingressAllowed } from '../src/environments/network-policy-eval';

const suite = `r${process.pid}`;
const T = `proj-t-${suite}`;
const U = `proj-u-${suite}`;
const GiB = 1024 ** 3;

interface Envelope {
  id: string;
  type: string;
  data: Record<string, unknown>;
}

interface OperationView {
  id: string;
  state: string;
  stepsDone: number;
  stepsTotal: number;
  step?: string;
  error?: { message: string };
}

/** A failed wait says what the service logged. */
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

describe('resource-manager: networks become linked environments, NFS tiers, tenant-wide volumes (issue #4)', () => {
  const dir = mkdtempSync(join(tmpdir(), 'stratum-rm-'));
  const identities = testIdentityKeys();
  // Identity tokens live 30 s (as the gateway signs them): a fresh one is signed for every request.
  const as = (identity: Parameters<typeof identities.header>[0]): Record<string, string> =>
    Object.defineProperty({}, 'x-stratum-identity', {
      enumerable: true,
      get: () => identities.header(identity)['x-stratum-identity'],
    });
  const admin = as({ userId: 'admin', roles: ['platform-admin'], tenantId: 'admin-project' });
  const tenantAdmin = as({ userId: 'alice', roles: ['tenant-admin'], tenantId: T });
  const otherMember = as({ userId: 'mallory', roles: ['restricted-member'], tenantId: U });
  let kafka: KafkaMockCluster;
  let database: TestDatabase;
  let clusters: KubeClusters;
  const simulators: NodeSimulator[] = [];
  let service: RunningProcess | undefined;
  let port: number;
  let observer: KafkaBus;
  const events: Envelope[] = [];
  const namespaces: Array<{ cluster: string; name: string }> = [];

  const start = async (extra: Record<string, string> = {}) => {
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
      ...extra,
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
  };

  const call = async (method: string, path: string, headers: Record<string, string>, body?: unknown) => {
    const response = await fetch(`http://127.0.0.1:${port}${path}`, {
      method,
      headers: { ...headers, ...(body !== undefined ? { 'content-type': 'application/json' } : {}) },
      body: body !== undefined ? JSON.stringify(body) : undefined,
    });
    const text = await response.text();
    // eslint-disable-next-line @typescript-eslint/no-explicit-any -- JSON answers of the API under test, read field by field
    return { status: response.status, body: (text ? JSON.parse(text) : undefined) as Record<string, any> };
  };
  const ok = async (method: string, path: string, body?: unknown, headers = admin) => {
    const result = await call(method, path, headers, body);
    if (result.status >= 300) {
      const log = result.status >= 500 ? `\n--- service output ---\n${service?.output().slice(-4000)}` : '';
      throw new Error(`${method} ${path} → ${result.status} ${JSON.stringify(result.body)}${log}`);
    }
    return result.body;
  };
  const settle = async (operation: { id: string }, state = 'succeeded') => {
    const final = await withLog(
      waitFor(
        async () => {
          const view = (await call('GET', `/api/v1/operations/${operation.id}`, admin)).body as OperationView;
          return ['succeeded', 'failed'].includes(view.state) && view;
        },
        { timeoutMs: 120_000, intervalMs: 200, description: `operation ${operation.id} finished` },
      ),
      service,
    );
    expect({ state: final.state, error: final.error }).toEqual({
      state,
      error: state === 'failed' ? expect.anything() : undefined,
    });
    return final;
  };
  const network = (name: string, octet: number, securityDomain: string, clusterId: string) => ({
    name: `${name}-${suite}`,
    cidr: `10.${octet}.${process.pid % 200}.0/24`,
    gateway: `10.${octet}.${process.pid % 200}.1`,
    vlan: 100 + octet,
    parentInterface: 'eth1',
    securityDomain,
    isolationDomain: `bank-${suite}`,
    clusterId,
  });
  const tenantSettings = (name: string) => ({
    name,
    quota: { cpu: '8', memory: '16Gi', pods: 40 },
    developerGroups: [`${name}-developers`],
    viewerGroups: [`${name}-viewers`],
  });
  const kubeList = async (cluster: string, apiVersion: string, kind: string, namespace?: string) =>
    (await clusters.client(cluster).list(apiVersion, kind, { namespace })).items;
  const eventsOf = (type: string, match: (data: Record<string, unknown>) => boolean = () => true) =>
    events.filter((e) => e.type === type && match(e.data));

  beforeAll(async () => {
    kafka = await KafkaMockCluster.start({
      brokers: 1,
      topics: TOPIC_CATALOG.map((t) => ({ name: t.name, partitions: t.partitions })),
    });
    database = await createTestDatabase('rm_resources');
    clusters = KubeClusters.fromFile(sharedKubeBench().kubeconfigPath, { fieldManager: 'issue-4-test' });
    for (const cluster of ['bench-a', 'bench-b']) {
      simulators.push(
        await NodeSimulator.start({
          client: clusters.withFieldManager('stratum-node-simulator').client(cluster),
          nodes: [{ name: `${suite}-${cluster}-node`, labels: { 'stratum.io/bench-suite': suite } }],
          logRoot: join(dir, cluster),
          readyDelayMs: 50,
        }),
      );
    }
    observer = new KafkaBus({ brokers: kafka.bootstrapServers.split(','), clientId: 'issue-4-observer' });
    const consumer = observer.consumer({
      groupId: `observer-${suite}`,
      topics: TOPIC_CATALOG.filter((t) => t.name.startsWith('stratum.resource.')).map((t) => t.name),
    });
    await consumer.start(async (batch) => {
      for (const message of batch.messages) events.push(JSON.parse(message.value!) as Envelope);
    });
    port = await freePortBase(1);
    await start();
  }, 180_000);

  afterAll(async () => {
    await service?.stop('SIGTERM');
    // Debugging aid: RM_TEST_OUTPUT=<file> keeps the service's whole log.
    if (process.env.RM_TEST_OUTPUT) writeFileSync(process.env.RM_TEST_OUTPUT, service?.output() ?? '');
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
    await database?.drop();
    await clusters?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  const ids: Record<string, string> = {};
  const env: Record<string, { namespace: string; cluster: string; id: string }> = {};

  it('records networks, registers tenants, and assigns N1 then N2: two linked environments', async () => {
    ids.n1 = (await ok('POST', '/api/v1/networks', network('n1', 31, 'dmz', 'bench-a'))).id;
    ids.n2 = (await ok('POST', '/api/v1/networks', network('n2', 32, 'core', 'bench-b'))).id;
    ids.n3 = (await ok('POST', '/api/v1/networks', network('n3', 33, 'core', 'bench-b'))).id;
    ids.u1 = (await ok('POST', '/api/v1/networks', network('u1', 34, 'dmz', 'bench-a'))).id;
    await settle((await ok('PUT', `/api/v1/tenants/${T}`, tenantSettings(`t-${suite}`))).operation);
    await settle((await ok('PUT', `/api/v1/tenants/${U}`, tenantSettings(`u-${suite}`))).operation);

    for (const [key, networkId] of [
      ['n1', ids.n1],
      ['n2', ids.n2],
    ] as const) {
      const accepted = await call('PUT', `/api/v1/tenants/${T}/networks/${networkId}`, admin);
      expect(accepted.status).toBe(202);
      const final = await settle(accepted.body.operation);
      expect(final.stepsDone).toBe(final.stepsTotal);
      const environment = accepted.body.environment as { id: string; namespace: string; clusterId: string };
      env[key] = { namespace: environment.namespace, cluster: environment.clusterId, id: environment.id };
      namespaces.push({ cluster: environment.clusterId, name: environment.namespace });
    }
    await settle((await ok('PUT', `/api/v1/tenants/${U}/networks/${ids.u1}`)).operation);
    const uEnv = (await ok('GET', `/api/v1/tenants/${U}/environments`)).items[0];
    env.u1 = { namespace: uEnv.namespace, cluster: uEnv.clusterId, id: uEnv.id };
    namespaces.push({ cluster: uEnv.clusterId, name: uEnv.namespace });

    const listed = (await ok('GET', `/api/v1/tenants/${T}/environments`, undefined, tenantAdmin)).items;
    const metrics = await (await fetch(`http://127.0.0.1:${port}/metrics`)).text();
    expect(metrics).toMatch(/stratum_reconcile_total\{result="converged"[^}]*\} [1-9]/);
    expect(metrics).toContain('stratum_reconcile_pending_tenants');
    // The API describes itself for the gateway's aggregated document, without an identity.
    const openapi = await call('GET', '/api/v1/openapi.json', {});
    expect(openapi.status).toBe(200);
    expect(Object.keys(openapi.body.paths)).toContain('/api/v1/tenants/{tenantId}/networks/{networkId}');
    expect(listed.map((e: { state: string }) => e.state)).toEqual(['ready', 'ready']);
    for (const key of ['n1', 'n2']) {
      const { cluster, namespace } = env[key];
      const ns = await clusters.client(cluster).get({ apiVersion: 'v1', kind: 'Namespace', name: namespace });
      expect(ns.metadata?.labels).toMatchObject({
        'stratum.io/tenant': T,
        'stratum.io/security-domain': key === 'n1' ? 'dmz' : 'core',
      });
      const attachments = await kubeList(
        cluster,
        'k8s.cni.cncf.io/v1',
        'NetworkAttachmentDefinition',
        namespace,
      );
      expect(attachments.map((a) => a.metadata?.name)).toEqual(['tenant-network']);
      expect(JSON.parse((attachments[0] as { spec: { config: string } }).spec.config)).toMatchObject({
        type: 'macvlan',
        ipam: { type: 'whereabouts', range: network(key, key === 'n1' ? 31 : 32, '', '').cidr },
      });
      const policies = (await kubeList(cluster, 'networking.k8s.io/v1', 'NetworkPolicy', namespace)).map(
        (p) => p.metadata?.name,
      );
      expect(policies.sort()).toEqual([
        'allow-linked-networks',
        'allow-tenant-environments',
        'default-deny-ingress',
      ]);
      const quotas = await kubeList(cluster, 'v1', 'ResourceQuota', namespace);
      expect(quotas.map((q) => (q as { spec: { hard: Record<string, string> } }).spec.hard.pods)).toEqual([
        '40',
      ]);
    }
    // Announced on the bus: assigned, ready (twice), linked once both are. The three are on three
    // topics, which a consumer may read in any order: wait for all of them, then count.
    await waitFor(
      () =>
        eventsOf('resource.environments-linked', (d) => d.tenantId === T).length >= 1 &&
        eventsOf('resource.environment-ready', (d) => d.tenantId === T).length >= 2 &&
        eventsOf('resource.network-assigned', (d) => d.tenantId === T).length >= 2,
      {
        timeoutMs: 30_000,
        description: 'network-assigned, environment-ready and environments-linked on Kafka',
      },
    );
    expect(eventsOf('resource.environments-linked', (d) => d.tenantId === T)).toHaveLength(1);
    expect(eventsOf('resource.environment-ready', (d) => d.tenantId === T)).toHaveLength(2);
    expect(eventsOf('resource.network-assigned', (d) => d.tenantId === T)).toHaveLength(2);
  });

  it('makes a service of N2 resolvable from N1 by its linked name; policies admit N1 and deny another tenant', async () => {
    const b = env.n2;
    const b2 = clusters.client(b.cluster);
    await b2.apply({
      apiVersion: 'v1',
      kind: 'Pod',
      metadata: {
        name: 'ledger-0',
        namespace: b.namespace,
        labels: { app: 'ledger' },
        annotations: { [MULTUS_NETWORKS]: 'tenant-network' },
      },
      spec: {
        nodeName: `${suite}-${b.cluster}-node`,
        containers: [
          { name: 'ledger', image: 'registry.bank.test/ledger:1', ports: [{ containerPort: 8080 }] },
        ],
      },
    });
    await b2.apply({
      apiVersion: 'v1',
      kind: 'Service',
      metadata: { name: 'ledger', namespace: b.namespace },
      // protocol stated: kube-apiserver 1.20 answers 500 to an apply of a port without it.
      spec: {
        selector: { app: 'ledger' },
        ports: [{ name: 'http', port: 80, targetPort: 8080, protocol: 'TCP' }],
      },
    });
    const flatIp = await waitFor(
      async () => {
        const pod = await b2.get({ apiVersion: 'v1', kind: 'Pod', namespace: b.namespace, name: 'ledger-0' });
        const status = JSON.parse(
          pod.metadata?.annotations?.['k8s.v1.cni.cncf.io/network-status'] ?? '[]',
        ) as Array<{
          name: string;
          ips: string[];
        }>;
        return status.find((s) => s.name === `${b.namespace}/tenant-network`)?.ips[0];
      },
      { timeoutMs: 30_000, description: 'ledger-0 has a flat-network address' },
    );
    expect(flatIp.startsWith('10.32.')).toBe(true);
    const a = env.n1;
    const linkedName = `ledger--n2-${suite}`;
    const endpoints = await waitFor(
      async () => {
        const found = await clusters.client(a.cluster).find<
          KubeObject & {
            subsets?: Array<{ addresses?: Array<{ ip: string }>; ports?: Array<{ port: number }> }>;
          }
        >({
          apiVersion: 'v1',
          kind: 'Endpoints',
          namespace: a.namespace,
          name: linkedName,
        });
        return found?.subsets?.[0]?.addresses?.length ? found : undefined;
      },
      { timeoutMs: 30_000, description: `Endpoints ${linkedName} in ${a.namespace}` },
    );
    expect(endpoints.subsets).toEqual([
      expect.objectContaining({
        addresses: [expect.objectContaining({ ip: flatIp })],
        ports: [expect.objectContaining({ port: 8080 })],
      }),
    ]);
    const linked = await clusters
      .client(a.cluster)
      .get<KubeObject & { spec: { clusterIP: string; selector?: unknown } }>({
        apiVersion: 'v1',
        kind: 'Service',
        namespace: a.namespace,
        name: linkedName,
      });
    expect(linked.spec.clusterIP).toBe('None');
    expect(linked.spec.selector).toBeUndefined();

    // Policies of N2's environment as the API server holds them, evaluated for three sources.
    const policies = await kubeList(b.cluster, 'networking.k8s.io/v1', 'NetworkPolicy', b.namespace);
    const nsLabels = async (e: { cluster: string; namespace: string }) =>
      (await clusters.client(e.cluster).get({ apiVersion: 'v1', kind: 'Namespace', name: e.namespace }))
        .metadata!.labels!;
    const target = { namespace: b.namespace, podLabels: { app: 'ledger' } };
    expect(
      ingressAllowed(policies, target, {
        namespace: a.namespace,
        namespaceLabels: await nsLabels(a),
        podLabels: {},
        ip: '10.31.' + (process.pid % 200) + '.7',
      }).allowed,
    ).toBe(true);
    expect(
      ingressAllowed(policies, target, {
        namespace: 'elsewhere',
        namespaceLabels: {},
        podLabels: {},
        ip: '10.31.' + (process.pid % 200) + '.7',
      }).allowed,
    ).toBe(true); // over the flat network from N1's subnet (R-NW-1)
    const u = env.u1;
    expect(
      ingressAllowed(policies, target, {
        namespace: u.namespace,
        namespaceLabels: await nsLabels(u),
        podLabels: {},
        ip: '10.34.' + (process.pid % 200) + '.7',
      }).allowed,
    ).toBe(false);
    // Another tenant's member cannot even read T's environments.
    expect((await call('GET', `/api/v1/tenants/${T}/environments`, otherMember)).status).toBe(403);
  });

  it('installs gold and bronze NFS servers; a gold volume is bound in every environment with one export path, and a later network gets it', async () => {
    const server = (name: string, tier: string, address: string) => ({
      name: `${name}-${suite}`,
      address,
      exportPath: '/exports/stratum',
      tier,
      capacityBytes: 100 * GiB,
    });
    ids.gold = (await ok('POST', '/api/v1/nfs-servers', server('gold', 'gold', '192.0.2.10'))).id;
    ids.bronze = (await ok('POST', '/api/v1/nfs-servers', server('bronze', 'bronze', '192.0.2.11'))).id;
    ids.silver = (await ok('POST', '/api/v1/nfs-servers', server('silver', 'silver', '192.0.2.12'))).id;
    for (const id of [ids.gold, ids.bronze]) {
      await settle((await ok('PUT', `/api/v1/tenants/${T}/nfs-servers/${id}`)).operation);
    }
    const classes = (await kubeList('bench-a', 'storage.k8s.io/v1', 'StorageClass')).filter(
      (c) => c.metadata?.labels?.['stratum.io/tenant'] === T,
    );
    expect(classes.map((c) => c.metadata?.labels?.['stratum.io/nfs-tier']).sort()).toEqual([
      'bronze',
      'gold',
    ]);

    const created = await call('POST', `/api/v1/tenants/${T}/volumes`, tenantAdmin, {
      name: 'ledger-data',
      nfsServerId: ids.gold,
      sizeBytes: 5 * GiB,
    });
    expect(created.status).toBe(202);
    await settle(created.body.operation);
    ids.volume = created.body.volume.id;

    const claimIn = async (e: { cluster: string; namespace: string }) =>
      clusters
        .client(e.cluster)
        .get<KubeObject & { status: { phase: string }; spec: { accessModes: string[] } }>({
          apiVersion: 'v1',
          kind: 'PersistentVolumeClaim',
          namespace: e.namespace,
          name: 'vol-ledger-data',
        });
    const paths = new Set<string>();
    for (const e of [env.n1, env.n2]) {
      const claim = await claimIn(e);
      expect(claim.status.phase).toBe('Bound');
      expect(claim.spec.accessModes).toEqual(['ReadWriteMany']);
      paths.add(claim.metadata!.annotations!['stratum.io/export-path']);
    }
    expect(paths.size).toBe(1);
    expect([...paths][0]).toMatch(/^192\.0\.2\.10:\/exports\/stratum\//);

    // Grown: the claims ask for the new size in every environment (volumes only grow).
    await settle(
      (await ok('PATCH', `/api/v1/tenants/${T}/volumes/${ids.volume}`, { sizeBytes: 6 * GiB }, tenantAdmin))
        .operation,
    );
    for (const e of [env.n1, env.n2]) {
      const claim = (await claimIn(e)) as unknown as KubeObject & {
        spec: { resources: { requests: { storage: string } } };
      };
      expect(claim.spec.resources.requests.storage).toBe(String(6 * GiB));
    }
    const shrink = await call('PATCH', `/api/v1/tenants/${T}/volumes/${ids.volume}`, tenantAdmin, {
      sizeBytes: GiB,
    });
    expect(shrink.status).toBe(400);
    expect(shrink.body.error.message).toMatch(/^sizeBytes: volumes only grow/);

    // A third network assigned later brings the NFS servers and the volume with it.
    const third = await ok('PUT', `/api/v1/tenants/${T}/networks/${ids.n3}`);
    await settle(third.operation);
    env.n3 = {
      namespace: third.environment.namespace,
      cluster: third.environment.clusterId,
      id: third.environment.id,
    };
    namespaces.push({ cluster: env.n3.cluster, name: env.n3.namespace });
    const claim = await claimIn(env.n3);
    expect(claim.status.phase).toBe('Bound');
    expect(claim.metadata!.annotations!['stratum.io/export-path']).toBe([...paths][0]);
    await waitFor(
      () =>
        eventsOf('resource.volume-ready', (d) => d.volumeId === ids.volume).some(
          (e) => (e.data.environmentIds as string[]).length === 3,
        ),
      { timeoutMs: 30_000, description: 'volume-ready naming three environments' },
    );
  });

  it('refuses bad inputs with a 4xx naming the field, and changes nothing', async () => {
    const before = {
      networks: await ok('GET', '/api/v1/networks'),
      volumes: await ok('GET', `/api/v1/tenants/${T}/volumes`),
      environments: await ok('GET', `/api/v1/tenants/${T}/environments`),
    };
    const overlap = await call('POST', '/api/v1/networks', admin, {
      ...network('overlap', 31, 'dmz', 'bench-a'),
      name: `ov-${suite}`,
    });
    expect(overlap.status).toBe(400);
    expect(overlap.body.error.message).toMatch(/^cidr: /);
    const outside = await call('POST', '/api/v1/networks', admin, {
      ...network('gw', 41, 'dmz', 'bench-a'),
      gateway: '10.99.0.1',
    });
    expect(outside.status).toBe(400);
    expect(outside.body.error.message).toMatch(/^gateway: /);
    const assigned = await call('DELETE', `/api/v1/networks/${ids.n1}`, admin);
    expect(assigned.status).toBe(409);
    expect(assigned.body.error.message).toContain('assigned');
    const notOwned = await call('POST', `/api/v1/tenants/${T}/volumes`, tenantAdmin, {
      name: 'x',
      nfsServerId: ids.silver,
      sizeBytes: GiB,
    });
    expect(notOwned.status).toBe(400);
    expect(notOwned.body.error.message).toMatch(/^nfsServerId: /);
    const unknown = await call('PUT', `/api/v1/tenants/no-such-project/networks/${ids.n1}`, admin);
    expect(unknown.status).toBe(404);
    expect(unknown.body.error.message).toMatch(/^tenantId: /);
    const badBody = await call('POST', `/api/v1/tenants/${T}/volumes`, tenantAdmin, {
      name: 'Bad Name',
      nfsServerId: ids.gold,
      sizeBytes: -1,
    });
    expect(badBody.status).toBe(400);
    expect(badBody.body.error.details.problems.map((p: { field: string }) => p.field).sort()).toEqual([
      'name',
      'sizeBytes',
    ]);
    // No identity, or one for another tenant: refused before anything is read.
    expect((await call('GET', `/api/v1/tenants/${T}/volumes`, {})).status).toBe(401);
    expect(
      (
        await call('POST', `/api/v1/tenants/${T}/volumes`, otherMember, {
          name: 'y',
          nfsServerId: ids.gold,
          sizeBytes: GiB,
        })
      ).status,
    ).toBe(403);
    expect({
      networks: await ok('GET', '/api/v1/networks'),
      volumes: await ok('GET', `/api/v1/tenants/${T}/volumes`),
      environments: await ok('GET', `/api/v1/tenants/${T}/environments`),
    }).toEqual(before);
  });

  it('repairs drift made by hand at the next resync', async () => {
    const a = env.n1;
    const client = clusters.client(a.cluster);
    await client.delete({
      apiVersion: 'networking.k8s.io/v1',
      kind: 'NetworkPolicy',
      namespace: a.namespace,
      name: 'default-deny-ingress',
    });
    await client.apply(
      {
        apiVersion: 'v1',
        kind: 'ResourceQuota',
        metadata: { name: 'tenant-quota', namespace: a.namespace },
        spec: { hard: { pods: '999' } },
      },
      { force: true },
    );
    await client.delete({
      apiVersion: 'v1',
      kind: 'Endpoints',
      namespace: a.namespace,
      name: `ledger--n2-${suite}`,
    });
    await waitFor(
      async () => {
        const policy = await client.find({
          apiVersion: 'networking.k8s.io/v1',
          kind: 'NetworkPolicy',
          namespace: a.namespace,
          name: 'default-deny-ingress',
        });
        const quota = await client.get<KubeObject & { spec: { hard: Record<string, string> } }>({
          apiVersion: 'v1',
          kind: 'ResourceQuota',
          namespace: a.namespace,
          name: 'tenant-quota',
        });
        const endpoints = await client.find({
          apiVersion: 'v1',
          kind: 'Endpoints',
          namespace: a.namespace,
          name: `ledger--n2-${suite}`,
        });
        return policy !== undefined && quota.spec.hard.pods === '40' && endpoints !== undefined;
      },
      {
        timeoutMs: 60_000,
        intervalMs: 250,
        description: 'policy, quota and linked endpoints restored by the resync',
      },
    );
  });

  it('resumes an assignment after the process is killed between two steps, with no duplicate objects', async () => {
    ids.n4 = (await ok('POST', '/api/v1/networks', network('n4', 35, 'core', 'bench-a'))).id;
    await service!.stop('SIGTERM');
    const namespace = `t-${suite}-n4-${suite}`;
    await start({ STRATUM_FAULT_KILL_AFTER_STEP: `${namespace}/nfs-provisioning` });
    const accepted = await ok('PUT', `/api/v1/tenants/${T}/networks/${ids.n4}`);
    namespaces.push({ cluster: 'bench-a', name: namespace });
    env.n4 = { namespace, cluster: 'bench-a', id: accepted.environment.id };
    expect(await service!.exited).toBe('SIGKILL');
    // Killed midway: the operation had started and was not finished.
    const db = new Client({ connectionString: database.url });
    await db.connect();
    const midway = (
      await db.query('SELECT state, step FROM operation WHERE id = $1', [accepted.operation.id])
    ).rows[0];
    await db.end();
    expect(midway).toEqual({ state: 'running', step: `${namespace}/nfs-provisioning` });
    await start();
    await settle(accepted.operation);
    const policies = await kubeList('bench-a', 'networking.k8s.io/v1', 'NetworkPolicy', namespace);
    expect(policies.map((p) => p.metadata?.name).sort()).toEqual([
      'allow-linked-networks',
      'allow-tenant-environments',
      'default-deny-ingress',
    ]);
    const claims = await kubeList('bench-a', 'v1', 'PersistentVolumeClaim', namespace);
    expect(claims.map((c) => c.metadata?.name)).toEqual(['vol-ledger-data']);
    const pvs = (await kubeList('bench-a', 'v1', 'PersistentVolume')).filter(
      (pv) =>
        (pv as { spec?: { claimRef?: { namespace?: string } } }).spec?.claimRef?.namespace === namespace,
    );
    expect(pvs).toHaveLength(1);
    await waitFor(
      () => eventsOf('resource.environment-ready', (d) => d.namespace === namespace).length >= 1,
      {
        timeoutMs: 30_000,
        description: 'environment-ready for the resumed environment',
      },
    );
    expect(eventsOf('resource.environment-ready', (d) => d.namespace === namespace)).toHaveLength(1);
  });
  it('refuses to remove an environment or a volume while something runs there, then removes them', async () => {
    const e = env.n2;
    const busy = await call('DELETE', `/api/v1/tenants/${T}/networks/${ids.n2}`, admin);
    expect(busy.status).toBe(409);
    expect(busy.body.error.message).toContain('Pod/ledger-0');
    await clusters.client(e.cluster).apply({
      apiVersion: 'v1',
      kind: 'Pod',
      metadata: { name: 'reader', namespace: env.n3.namespace },
      spec: {
        nodeName: `${suite}-${env.n3.cluster}-node`,
        containers: [{ name: 'r', image: 'registry.bank.test/reader:1' }],
        volumes: [{ name: 'data', persistentVolumeClaim: { claimName: 'vol-ledger-data' } }],
      },
    });
    const mounted = await call('DELETE', `/api/v1/tenants/${T}/volumes/${ids.volume}`, tenantAdmin);
    expect(mounted.status).toBe(409);
    expect(mounted.body.error.message).toContain('Pod/reader');

    // Once nothing runs there: the volume goes from every environment, then N2's environment goes.
    for (const [e, pod] of [
      [env.n2, 'ledger-0'],
      [env.n3, 'reader'],
    ] as const) {
      await clusters
        .client(e.cluster)
        .delete(
          { apiVersion: 'v1', kind: 'Pod', namespace: e.namespace, name: pod },
          { gracePeriodSeconds: 0 },
        );
    }
    await settle(
      (await ok('DELETE', `/api/v1/tenants/${T}/volumes/${ids.volume}`, undefined, tenantAdmin)).operation,
    );
    for (const key of ['n1', 'n2', 'n3', 'n4']) {
      const claims = await kubeList(env[key].cluster, 'v1', 'PersistentVolumeClaim', env[key].namespace);
      expect(claims.filter((c) => !c.metadata?.deletionTimestamp).map((c) => c.metadata?.name)).toEqual([]);
    }
    expect((await ok('GET', `/api/v1/tenants/${T}/volumes`)).items).toEqual([]);
    await waitFor(() => eventsOf('resource.volume-deleted', (d) => d.volumeId === ids.volume).length === 1, {
      timeoutMs: 30_000,
      description: 'volume-deleted on Kafka',
    });

    await settle((await ok('DELETE', `/api/v1/tenants/${T}/networks/${ids.n2}`)).operation);
    expect(
      await clusters.client(e.cluster).find({ apiVersion: 'v1', kind: 'Namespace', name: e.namespace }),
    ).toBeUndefined();
    const remaining = (await ok('GET', `/api/v1/tenants/${T}/environments`)).items.map(
      (x: { namespace: string }) => x.namespace,
    );
    expect(remaining).not.toContain(e.namespace);
    // Unlinked: N1 no longer mirrors N2's service nor admits N2's subnet.
    const a = env.n1;
    await waitFor(
      async () =>
        !(await clusters
          .client(a.cluster)
          .find({ apiVersion: 'v1', kind: 'Service', namespace: a.namespace, name: `ledger--n2-${suite}` })),
      { timeoutMs: 30_000, description: 'the mirror of N2 gone from N1' },
    );
    const linkPolicy = await clusters.client(a.cluster).get<KubeObject & { spec: unknown }>({
      apiVersion: 'networking.k8s.io/v1',
      kind: 'NetworkPolicy',
      namespace: a.namespace,
      name: 'allow-linked-networks',
    });
    expect(JSON.stringify(linkPolicy.spec)).not.toContain(network('n2', 32, '', '').cidr);
    // Two topics, read in any order: wait for both, then count.
    await waitFor(
      () =>
        eventsOf('resource.environment-removed', (d) => d.namespace === e.namespace).length >= 1 &&
        eventsOf('resource.network-unassigned', (d) => d.networkId === ids.n2).length >= 1,
      { timeoutMs: 30_000, description: 'environment-removed and network-unassigned on Kafka' },
    );
    expect(eventsOf('resource.environment-removed', (d) => d.namespace === e.namespace)).toHaveLength(1);
    expect(eventsOf('resource.network-unassigned', (d) => d.networkId === ids.n2)).toHaveLength(1);
    // The network is free again and can be deleted.
    expect((await call('DELETE', `/api/v1/networks/${ids.n2}`, admin)).status).toBe(204);
  });
});
