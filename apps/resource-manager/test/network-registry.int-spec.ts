/**
 * Network records on real PostgreSQL (R-NW-2, issue #4): validated against the other networks of
 * the isolation domain, stored and announced in one transaction; a refused change changes nothing.
 */
import { NetworkDeleted, NetworkRecorded } from '@stratum/contracts';
import { CreateMessagingTables1763769600000, Outbox } from '@stratum/messaging';
import { ServiceDatabase } from '@stratum/persistence';
import { DomainException, ErrorCode } from '@stratum/service-kit';
import { createTestDatabase, type TestDatabase } from '@stratum/testing';
import { NetworkRegistry, type NetworkInput } from '../src/networks/network-registry';
import { resourceManagerMigrations } from '../src/persistence/migrations';

const dmz = (
  name: string,
  cidr: string,
  gateway: string,
  extra: Partial<NetworkInput> = {},
): NetworkInput => ({
  name,
  cidr,
  gateway,
  vlan: 120,
  parentInterface: 'eth1',
  securityDomain: 'DMZ',
  isolationDomain: 'internet-facing',
  clusterId: 'bench-a',
  ...extra,
});

describe('network registry (R-NW-2)', () => {
  let testDb: TestDatabase;
  let database: ServiceDatabase;
  let registry: NetworkRegistry;

  beforeAll(async () => {
    testDb = await createTestDatabase('rm_networks');
    database = await ServiceDatabase.open({
      target: { kind: 'postgres', url: testDb.url, poolSize: 4 },
      applicationName: 'network-registry-test',
      migrations: [CreateMessagingTables1763769600000, ...resourceManagerMigrations],
    });
    registry = new NetworkRegistry(database, new Outbox('resource-manager'));
  });
  afterAll(async () => {
    await database?.close();
    await testDb?.drop();
  });
  beforeEach(async () => {
    await database.dataSource.query(
      'DELETE FROM environment; DELETE FROM tenant; DELETE FROM network; DELETE FROM outbox',
    );
  });

  const outboxTopics = async () =>
    (await database.dataSource.query<Array<{ topic: string }>>('SELECT topic FROM outbox ORDER BY seq')).map(
      (r) => r.topic,
    );
  const refusal = async (work: Promise<unknown>) => {
    const error = await work.then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(error).toBeInstanceOf(DomainException);
    return error as DomainException;
  };

  it('records a network and announces it in the same transaction', async () => {
    const network = await registry.create(
      dmz('dmz-1', '10.20.0.0/24', '10.20.0.1', { description: 'web tier' }),
    );
    expect(network).toMatchObject({
      name: 'dmz-1',
      version: 1,
      assignedTo: [],
      vlan: 120,
      description: 'web tier',
    });
    expect(await registry.list()).toEqual([network]);
    expect(await outboxTopics()).toEqual([NetworkRecorded.Topic.name]);
    const updated = await registry.update(network.id, dmz('dmz-1', '10.20.0.0/23', '10.20.0.1'), 1);
    expect(updated).toMatchObject({ cidr: '10.20.0.0/23', version: 2 });
    expect(updated.description).toBeUndefined();
    await registry.delete(network.id);
    expect(await registry.list()).toEqual([]);
    expect(await outboxTopics()).toEqual([
      NetworkRecorded.Topic.name,
      NetworkRecorded.Topic.name,
      NetworkDeleted.Topic.name,
    ]);
  });

  it.each([
    [
      'an overlapping subnet in the same isolation domain',
      dmz('dmz-2', '10.20.0.128/25', '10.20.0.129'),
      'cidr',
    ],
    ['a gateway outside the subnet', dmz('dmz-2', '10.30.0.0/24', '10.31.0.1'), 'gateway'],
    ['a malformed subnet', dmz('dmz-2', '10.30.0.0/33', '10.30.0.1'), 'cidr'],
  ])('refuses %s, naming the field, and changes nothing', async (_what, input, field) => {
    await registry.create(dmz('dmz-1', '10.20.0.0/24', '10.20.0.1'));
    const error = await refusal(registry.create(input));
    expect(error.code).toBe(ErrorCode.ValidationFailed);
    expect(error.message.startsWith(`${field}: `)).toBe(true);
    expect((await registry.list()).map((n) => n.name)).toEqual(['dmz-1']);
    expect(await outboxTopics()).toHaveLength(1);
  });

  it('allows the same subnet in another isolation domain, refuses a duplicate name', async () => {
    await registry.create(dmz('dmz-1', '10.20.0.0/24', '10.20.0.1'));
    await registry.create(
      dmz('core-1', '10.20.0.0/24', '10.20.0.1', { isolationDomain: 'core', securityDomain: 'core' }),
    );
    const error = await refusal(registry.create(dmz('dmz-1', '10.40.0.0/24', '10.40.0.1')));
    expect(error.code).toBe(ErrorCode.Conflict);
    expect(error.message).toBe('name: a network named "dmz-1" already exists');
  });

  it('keeps an assigned network: no subnet change, no deletion', async () => {
    const network = await registry.create(dmz('dmz-1', '10.20.0.0/24', '10.20.0.1'));
    await database.dataSource.query(
      `INSERT INTO tenant (id, name, quota, container_defaults) VALUES ('retail', 'retail', '{}', '{}');
       INSERT INTO environment (id, tenant_id, network_id, cluster_id, namespace, state)
       VALUES ('env-1', 'retail', '${network.id}', 'bench-a', 'retail-dmz-1', 'ready')`,
    );
    const change = await refusal(registry.update(network.id, dmz('dmz-1', '10.20.0.0/23', '10.20.0.1')));
    expect(change.message).toBe(
      'cidr: the subnet of network "dmz-1" cannot change while it is assigned to retail',
    );
    const removal = await refusal(registry.delete(network.id));
    expect(removal.code).toBe(ErrorCode.Conflict);
    expect(removal.message).toBe('network "dmz-1" is assigned to retail; unassign it before deleting it');
    expect(await registry.get(network.id)).toMatchObject({ cidr: '10.20.0.0/24', assignedTo: ['retail'] });
    // A description change is fine while assigned.
    await registry.update(
      network.id,
      dmz('dmz-1', '10.20.0.0/24', '10.20.0.1', { description: 'moved rack' }),
    );
  });

  it('refuses a stale update and an unknown network', async () => {
    const network = await registry.create(dmz('dmz-1', '10.20.0.0/24', '10.20.0.1'));
    await registry.update(network.id, dmz('dmz-1', '10.20.0.0/24', '10.20.0.1', { description: 'a' }), 1);
    expect(
      (await refusal(registry.update(network.id, dmz('dmz-1', '10.20.0.0/24', '10.20.0.1'), 1))).code,
    ).toBe(ErrorCode.Conflict);
    expect((await refusal(registry.get('nope'))).code).toBe(ErrorCode.NotFound);
    expect((await refusal(registry.delete('nope'))).code).toBe(ErrorCode.NotFound);
  });

  it('lets only one of two concurrent overlapping creates through', async () => {
    const results = await Promise.allSettled([
      registry.create(dmz('race-a', '10.50.0.0/24', '10.50.0.1')),
      registry.create(dmz('race-b', '10.50.0.0/25', '10.50.0.1')),
    ]);
    expect(results.filter((r) => r.status === 'fulfilled')).toHaveLength(1);
    const rejected = results.find((r) => r.status === 'rejected') as PromiseRejectedResult;
    expect((rejected.reason as DomainException).code).toBe(ErrorCode.ValidationFailed);
    expect(await registry.list()).toHaveLength(1);
  });
});
