/**
 * The gateway's audit process (R-AU-6, R-MO-4), on the real bench: the gateway's own PostgreSQL
 * database (outbox) and the Kafka mock cluster. Entries recorded in the gateway reach Kafka through the
 * child process; none is lost when that process is killed (it is restarted and gets everything not yet
 * acknowledged again), and closing commits and publishes what is left.
 */
import { EventRecorded, type EventEnvelope, TOPIC_CATALOG } from '@stratum/contracts';
import { CreateMessagingTables1763769600000, KafkaBus } from '@stratum/messaging';
import { ServiceDatabase } from '@stratum/persistence';
import { createTestDatabase, KafkaMockCluster, type TestDatabase } from '@stratum/testing';
import { createLog } from '@stratum/telemetry';
import { waitFor } from '@stratum/util';
import { AuditProcess } from '../src/audit/audit-process';
import type { AuditEntry } from '../src/audit/audit-writer';
import { gatewayMigrations } from '../src/persistence/migrations';

const log = createLog({ level: 'warn' });

function entry(requestId: string): AuditEntry {
  return {
    actor: { userId: 'u-1', userName: 'alice', roles: ['tenant-admin'] },
    tenantId: 'tenant-a',
    action: 'volume.list',
    resource: { kind: 'volume', id: null },
    outcome: 'allowed',
    latencyMs: 1.5,
    sourceService: 'gateway',
    occurredAt: new Date().toISOString(),
    requestId,
    http: { method: 'GET', path: '/api/v1/tenants/tenant-a/volumes', status: 200 },
  };
}

describe('gateway audit process (distributed mode)', () => {
  let kafka: KafkaMockCluster;
  let database: TestDatabase;
  let observer: KafkaBus;
  const seen = new Map<string, number>();
  let audit: AuditProcess | undefined;

  const start = () =>
    AuditProcess.start({
      settings: {
        database: { url: database.url, poolSize: 2 },
        kafka: { brokers: kafka.bootstrapServers.split(','), clientId: 'audit-process-test' },
        logLevel: 'warn',
      },
      flushMs: 20,
      log,
    });

  beforeAll(async () => {
    kafka = await KafkaMockCluster.start({
      brokers: 1,
      topics: TOPIC_CATALOG.map((t) => ({ name: t.name, partitions: t.partitions })),
    });
    database = await createTestDatabase('audit_process');
    // The gateway applies its migrations before it starts the audit process.
    const migrated = await ServiceDatabase.open({
      target: { kind: 'postgres', url: database.url },
      applicationName: 'audit-process-test',
      migrations: [CreateMessagingTables1763769600000, ...gatewayMigrations],
    });
    await migrated.close();
    observer = new KafkaBus({ brokers: kafka.bootstrapServers.split(','), clientId: 'audit-observer' });
    await observer
      .consumer({ groupId: `audit-observer-${process.pid}`, topics: [EventRecorded.Topic.name] })
      .start(async (batch) => {
        for (const message of batch.messages) {
          const envelope = JSON.parse(message.value!) as EventEnvelope<EventRecorded.Value>;
          seen.set(envelope.data.requestId!, (seen.get(envelope.data.requestId!) ?? 0) + 1);
        }
      });
  }, 120_000);

  afterAll(async () => {
    await audit?.close();
    await observer?.close();
    await kafka?.stop();
    await database?.drop();
  });

  it('commits what the gateway records and its relay publishes it to Kafka, one event per entry', async () => {
    audit = await start();
    expect(audit.pid).toEqual(expect.any(Number));
    expect(audit.pid).not.toBe(process.pid);
    for (let i = 0; i < 1_000; i++) audit.record(entry(`first-${i}`));
    await waitFor(() => audit!.written === 1_000, { timeoutMs: 30_000, description: 'entries committed' });
    expect(audit.pending).toBe(0);
    await waitFor(() => [...seen.keys()].filter((k) => k.startsWith('first-')).length === 1_000, {
      timeoutMs: 30_000,
      description: 'events on Kafka',
    });
    expect([...seen].filter(([k, n]) => k.startsWith('first-') && n !== 1)).toEqual([]);
    expect(audit.health()).toMatchObject({ ok: true });
    await waitFor(() => audit!.relayHealth().ok, { timeoutMs: 5_000, description: 'relay healthy' });
  }, 90_000);

  it('loses nothing when the audit process is killed: restarted, sent everything unacknowledged again', async () => {
    audit ??= await start();
    const killed = audit.pid!;
    for (let i = 0; i < 500; i++) audit.record(entry(`kill-${i}`));
    process.kill(killed, 'SIGKILL');
    // Recorded while it is down: held in the gateway.
    for (let i = 500; i < 1_000; i++) audit.record(entry(`kill-${i}`));
    expect(audit.pending).toBeGreaterThan(0);
    await waitFor(() => !audit!.relayHealth().ok, { timeoutMs: 5_000, description: 'the death noticed' });
    expect(audit.health().detail).toContain('down');
    await waitFor(() => audit!.restarts === 1 && audit!.pid !== undefined, {
      timeoutMs: 30_000,
      description: 'audit process restarted',
    });
    expect(audit.pid).not.toBe(killed);
    await waitFor(() => audit!.pending === 0, { timeoutMs: 30_000, description: 'entries committed' });
    await waitFor(() => [...seen.keys()].filter((k) => k.startsWith('kill-')).length === 1_000, {
      timeoutMs: 30_000,
      description: 'every entry on Kafka',
    });
    // At-least-once: a batch committed but not acknowledged before the kill may come twice, never more.
    expect(
      Math.max(...[...seen].filter(([k]) => k.startsWith('kill-')).map(([, n]) => n)),
    ).toBeLessThanOrEqual(2);
  }, 90_000);

  it('commits and publishes what is left when the gateway closes it', async () => {
    audit ??= await start();
    const child = audit.pid!;
    for (let i = 0; i < 300; i++) audit.record(entry(`close-${i}`));
    await audit.close();
    expect(audit.pending).toBe(0);
    expect(audit.accepting).toBe(false);
    // The process is gone, and every entry was published before it went (the relay drained the outbox).
    expect(() => process.kill(child, 0)).toThrow();
    await waitFor(() => [...seen.keys()].filter((k) => k.startsWith('close-')).length === 300, {
      timeoutMs: 15_000,
      description: 'entries recorded before close on Kafka',
    });
    audit = undefined;
  }, 60_000);
});
