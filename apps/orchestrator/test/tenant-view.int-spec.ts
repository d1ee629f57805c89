/**
 * The orchestrator's view of each tenant's resources (R-OR-3), built from the resource-manager's
 * events on the bus, on real PostgreSQL: complete after the usual sequence, unchanged by duplicates,
 * not resurrected by an older event arriving after a removal, and not stopped by a bad event.
 */
import { randomUUID } from 'node:crypto';
import {
  createEnvelope,
  type EventDefinition,
  EnvironmentReady,
  NetworkAssigned,
  NetworkRecorded,
  NfsServerAssigned,
  type TopicSpec,
  VolumeDeleted,
  VolumeReady,
} from '@stratum/contracts';
import { envelopeHeaders, type InProcessBus } from '@stratum/messaging';
import {
  createInProcessBus,
  loadServiceConfig,
  type RunningService,
  startService,
} from '@stratum/service-kit';
import { createTestDatabase, sharedKubeBench, type TestDatabase, testIdentityKeys } from '@stratum/testing';
import { waitFor } from '@stratum/util';
import type { z } from 'zod';
import { service as orchestrator } from '../src/service';
import { TenantView, type TenantViewSnapshot } from '../src/tenant-view/tenant-view';

describe('orchestrator tenant view (R-OR-3)', () => {
  let database: TestDatabase;
  let bus: InProcessBus;
  let running: RunningService;
  let view: TenantView;
  const tenantId = `tenant-${randomUUID().slice(0, 8)}`;
  const ids = { network: randomUUID(), environment: randomUUID(), nfs: randomUUID(), volume: randomUUID() };

  beforeAll(async () => {
    database = await createTestDatabase('orch_tenant_view');
    bus = createInProcessBus();
    const config = loadServiceConfig({
      service: orchestrator.name,
      defaultPort: 0,
      usesDatabase: true,
      usesKubernetes: true,
      ownSchema: orchestrator.configSchema,
      env: {
        STRATUM_BUS: 'in-process',
        DATABASE_URL: database.url,
        HTTP_PORT: '0',
        HTTP_HOST: '127.0.0.1',
        LOG_LEVEL: 'silent',
        KUBECONFIG: sharedKubeBench().kubeconfigPath,
        CONSUMER_MAX_ATTEMPTS: '2',
      },
    });
    // The public key of the gateway's identity signing, in memory (as all-in-one passes it).
    running = await startService(orchestrator, config, { bus, identityKeys: testIdentityKeys().keys });
    view = new TenantView(running.runtime.database!);
  });

  afterAll(async () => {
    await running?.stop();
    await bus?.close();
    await database?.drop();
  });

  const publish = async <S extends z.ZodType>(
    topic: TopicSpec<EventDefinition<S>>,
    data: z.infer<S>,
    options: { time?: Date; id?: string } = {},
  ) => {
    const envelope = createEnvelope(topic.event, data, {
      source: 'resource-manager',
      trace: null,
      time: options.time,
      id: options.id,
    });
    await bus.producer().send([
      {
        topic: topic.name,
        key: envelope.key,
        value: JSON.stringify(envelope),
        headers: envelopeHeaders(envelope),
      },
    ]);
    return envelope;
  };
  const until = (predicate: (snapshot: TenantViewSnapshot) => boolean, description: string) =>
    waitFor(
      async () => {
        const snapshot = await view.of(tenantId);
        return predicate(snapshot) && snapshot;
      },
      { timeoutMs: 15_000, intervalMs: 50, description },
    );

  it('knows the ready environment by network name, the NFS server and the volume', async () => {
    const operationId = randomUUID();
    await publish(NetworkRecorded.Topic, {
      networkId: ids.network,
      name: 'core',
      cidr: '10.60.0.0/24',
      gateway: '10.60.0.1',
      securityDomain: 'core',
      isolationDomain: 'bank',
      clusterId: 'bench-a',
      change: 'created',
    });
    await publish(NetworkAssigned.Topic, {
      tenantId,
      networkId: ids.network,
      environmentId: ids.environment,
      operationId,
    });
    await publish(EnvironmentReady.Topic, {
      tenantId,
      environmentId: ids.environment,
      networkId: ids.network,
      clusterId: 'bench-a',
      namespace: 'retail-core',
      securityDomain: 'core',
      isolationDomain: 'bank',
      networkAttachment: 'tenant-network',
      dnsSuffix: '--core',
      operationId,
    });
    await publish(NfsServerAssigned.Topic, {
      tenantId,
      nfsServerId: ids.nfs,
      tier: 'gold',
      storageClassName: 'stratum-retail-gold',
      environmentIds: [ids.environment],
      operationId,
    });
    const volumeReady = await publish(VolumeReady.Topic, {
      tenantId,
      volumeId: ids.volume,
      name: 'ledger',
      nfsServerId: ids.nfs,
      sizeBytes: 1024,
      exportSubPath: `${tenantId}/ledger-1`,
      claimName: 'vol-ledger',
      environmentIds: [ids.environment],
      operationId,
    });
    // Each topic is consumed on its own, so the view fills in any order: wait for all three parts.
    const snapshot = await until(
      (s) => s.volumes.length === 1 && s.environments.length === 1 && s.nfsServers.length === 1,
      'the whole view',
    );
    expect(snapshot).toEqual({
      tenantId,
      environments: [
        {
          environmentId: ids.environment,
          networkId: ids.network,
          networkName: 'core',
          clusterId: 'bench-a',
          namespace: 'retail-core',
          securityDomain: 'core',
          isolationDomain: 'bank',
          networkAttachment: 'tenant-network',
          dnsSuffix: '--core',
          cidr: '10.60.0.0/24',
          gateway: '10.60.0.1',
        },
      ],
      nfsServers: [{ nfsServerId: ids.nfs, tier: 'gold', storageClassName: 'stratum-retail-gold' }],
      volumes: [
        {
          volumeId: ids.volume,
          name: 'ledger',
          nfsServerId: ids.nfs,
          sizeBytes: 1024,
          exportSubPath: `${tenantId}/ledger-1`,
          claimName: 'vol-ledger',
        },
      ],
    });

    // The same event id delivered again (here even with other content) is dropped by the inbox; a
    // later event on the same partition shows the duplicate was seen before it.
    await publish(VolumeReady.Topic, { ...volumeReady.data, sizeBytes: 9_999 }, { id: volumeReady.id });
    const marker = randomUUID();
    await publish(VolumeReady.Topic, {
      ...volumeReady.data,
      volumeId: marker,
      name: 'marker',
      claimName: 'vol-marker',
    });
    await until((s) => s.volumes.some((v) => v.volumeId === marker), 'the marker volume');
    expect((await view.of(tenantId)).volumes.find((v) => v.volumeId === ids.volume)?.sizeBytes).toBe(1024);
    await publish(VolumeDeleted.Topic, {
      tenantId,
      volumeId: marker,
      name: 'marker',
      operationId: randomUUID(),
    });
    await until((s) => s.volumes.length === 1, 'the marker removed');
    expect((await view.of('someone-else')).environments).toEqual([]);
  });

  it('keeps a removed volume removed when an older event arrives afterwards, and survives a bad event', async () => {
    const before = new Date(Date.now() - 60_000);
    await publish(VolumeDeleted.Topic, {
      tenantId,
      volumeId: ids.volume,
      name: 'ledger',
      operationId: randomUUID(),
    });
    await until((s) => s.volumes.length === 0, 'the volume removed');
    // An older ready event of the same volume, late from another topic partition.
    await publish(
      VolumeReady.Topic,
      {
        tenantId,
        volumeId: ids.volume,
        name: 'ledger',
        nfsServerId: ids.nfs,
        sizeBytes: 2048,
        exportSubPath: `${tenantId}/ledger-1`,
        claimName: 'vol-ledger',
        environmentIds: [ids.environment],
        operationId: randomUUID(),
      },
      { time: before },
    );
    // A payload breaking the contract goes to the dead-letter topic; the next event is still applied.
    const template = createEnvelope(
      VolumeReady.Topic.event,
      {
        tenantId,
        volumeId: randomUUID(),
        name: 'broken',
        nfsServerId: ids.nfs,
        sizeBytes: 1,
        exportSubPath: 'x/broken',
        claimName: 'vol-broken',
        environmentIds: [],
        operationId: randomUUID(),
      },
      { source: 'resource-manager' },
    );
    const bad = { ...template, data: { ...template.data, sizeBytes: -1 } };
    await bus.producer().send([
      {
        topic: VolumeReady.Topic.name,
        key: bad.key,
        value: JSON.stringify(bad),
        headers: envelopeHeaders(bad),
      },
    ]);
    const other = randomUUID();
    await publish(VolumeReady.Topic, {
      tenantId,
      volumeId: other,
      name: 'archive',
      nfsServerId: ids.nfs,
      sizeBytes: 4096,
      exportSubPath: `${tenantId}/archive-1`,
      claimName: 'vol-archive',
      environmentIds: [ids.environment],
      operationId: randomUUID(),
    });
    const snapshot = await until((s) => s.volumes.length === 1, 'the later volume applied');
    expect(snapshot.volumes.map((v) => v.name)).toEqual(['archive']);
  });
});
