/**
 * Distributed mode, one service as its own process against the real bench: Kafka (mock cluster) and
 * its own PostgreSQL database. Readiness reflects the database; bad configuration is refused by name.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { TOPIC_CATALOG } from '@stratum/contracts';
import {
  createTestDatabase,
  freePortBase,
  KafkaMockCluster,
  runTs,
  sharedKubeBench,
  type TestDatabase,
  testIdentityKeys,
} from '@stratum/testing';
import { waitFor, type WaitForOptions } from '@stratum/util';

/** Polls readiness until it answers 503, and returns that report. */
function notReadyReport(port: number, options: WaitForOptions) {
  return waitFor(async () => {
    const response = await fetch(`http://127.0.0.1:${port}/health/ready`);
    return (
      response.status === 503 && ((await response.json()) as { checks: Record<string, { ok: boolean }> })
    );
  }, options);
}

describe('resource-manager as its own process (distributed mode)', () => {
  let cluster: KafkaMockCluster;
  let database: TestDatabase;
  const identityDir = mkdtempSync(join(tmpdir(), 'stratum-rm-identity-'));
  const identityPem = testIdentityKeys().pemFile(identityDir);

  beforeAll(async () => {
    cluster = await KafkaMockCluster.start({
      brokers: 3,
      topics: TOPIC_CATALOG.map((t) => ({ name: t.name, partitions: t.partitions })),
    });
    database = await createTestDatabase('rm_distributed');
  });

  afterAll(async () => {
    await cluster.stop();
    await database.drop();
    rmSync(identityDir, { recursive: true, force: true });
  });

  it('runs its migrations, reports ready with database and Kafka, exposes metrics, and stops with exit 0', async () => {
    const port = await freePortBase(1);
    const run = runTs('apps/resource-manager/src/main.ts', {
      HTTP_PORT: String(port),
      HTTP_HOST: '127.0.0.1',
      KAFKA_BROKERS: cluster.bootstrapServers,
      DATABASE_URL: database.url,
      KAFKA_SESSION_TIMEOUT_MS: '6000',
      KUBECONFIG: sharedKubeBench().kubeconfigPath,
      STRATUM_IDENTITY_PUBLIC_KEYS: identityPem,
    });
    const report = await waitFor(
      async () => {
        const response = await fetch(`http://127.0.0.1:${port}/health/ready`).catch(() => undefined);
        return (
          response?.status === 200 && ((await response.json()) as { checks: Record<string, { ok: boolean }> })
        );
      },
      {
        timeoutMs: 30_000,
        intervalMs: 200,
        description: `resource-manager ready (output:\n${run.output().slice(-2000)})`,
      },
    );
    expect(Object.keys(report.checks).sort()).toEqual([
      'bus',
      'consumer',
      'database',
      'kubernetes',
      'outbox-relay',
    ]);
    // Both clusters of the kubeconfig answer (the real kube-apiserver bench). One probe may time out
    // on a loaded machine (one cluster down does not make the service unready): poll for both up.
    await waitFor(
      async () => {
        const health = (await (await fetch(`http://127.0.0.1:${port}/health/ready`)).json()) as {
          checks: Record<string, { detail?: string }>;
        };
        return /^bench-a up \(v1\.20\.2[^)]*\); bench-b up \(v1\.20\.2/.test(
          health.checks.kubernetes?.detail ?? '',
        );
      },
      { timeoutMs: 15_000, intervalMs: 200, description: 'both Kubernetes clusters reported up' },
    );
    const metrics = await (await fetch(`http://127.0.0.1:${port}/metrics`)).text();
    for (const name of [
      'process_cpu_seconds_total',
      'stratum_http_requests_total',
      'stratum_outbox_pending_events',
      'stratum_bus_messages_consumed_total',
    ]) {
      expect(metrics).toContain(name);
    }
    const lines = run
      .output()
      .trim()
      .split('\n')
      .filter((l) => l.startsWith('{'));
    expect(lines.length).toBeGreaterThan(0);
    for (const line of lines)
      expect(JSON.parse(line)).toMatchObject({ level: expect.any(String), msg: expect.any(String) });
    expect(run.output()).toContain('CreateMessagingTables');

    // Every broker goes down: readiness says the bus is unreachable; it recovers when they come back.
    for (const id of cluster.brokerIds) await cluster.brokerDown(id);
    const busDown = await notReadyReport(port, {
      timeoutMs: 20_000,
      description: 'readiness reporting the unreachable brokers',
    });
    expect(busDown.checks.bus.ok).toBe(false);
    for (const id of cluster.brokerIds) await cluster.brokerUp(id);
    let lastReport = '';
    await waitFor(
      async () => {
        const response = await fetch(`http://127.0.0.1:${port}/health/ready`);
        lastReport = await response.text();
        return response.status === 200;
      },
      { timeoutMs: 30_000, description: 'ready again after the brokers came back' },
    ).catch((error: Error) => {
      throw new Error(`${error.message}; last report: ${lastReport}`);
    });

    // The database goes away: readiness says so (liveness does not).
    await database.drop();
    const notReady = await notReadyReport(port, {
      timeoutMs: 15_000,
      description: 'readiness reporting the lost database',
    });
    expect(notReady.checks.database.ok).toBe(false);
    expect((await fetch(`http://127.0.0.1:${port}/health/live`)).status).toBe(200);
    database = await createTestDatabase('rm_distributed_after');

    const stop = await run.stop('SIGTERM');
    expect(stop.code).toBe(0);
  }, 60_000);

  it.each([
    [{ KAFKA_BROKERS: 'not a broker list' }, 'KAFKA_BROKERS'],
    [{ KAFKA_BROKERS: undefined }, 'KAFKA_BROKERS'],
    [{ DATABASE_URL: 'mysql://x' }, 'DATABASE_URL'],
    [{ HTTP_PORT: '99999' }, 'HTTP_PORT'],
    [{ LOG_LEVEL: 'loud' }, 'LOG_LEVEL'],
    [{ KUBECONFIG: undefined }, 'KUBECONFIG'],
    [{ KUBECONFIG: '/nonexistent/kubeconfig' }, 'KUBECONFIG'],
    [{ STRATUM_IDENTITY_PUBLIC_KEYS: undefined }, 'STRATUM_IDENTITY_PUBLIC_KEYS'],
    [{ STRATUM_IDENTITY_PUBLIC_KEYS: '/nonexistent/identity.pem' }, 'STRATUM_IDENTITY_PUBLIC_KEYS'],
    [{ REGISTRY_PULL_SERVER: '' }, 'REGISTRY_PULL_SERVER'],
  ])('refuses to start on %p and names %s (exit 78)', async (override, variable) => {
    const run = runTs('apps/resource-manager/src/main.ts', {
      KAFKA_BROKERS: cluster.bootstrapServers,
      DATABASE_URL: database.url,
      HTTP_PORT: '0',
      KUBECONFIG: sharedKubeBench().kubeconfigPath,
      STRATUM_IDENTITY_PUBLIC_KEYS: identityPem,
      ...override,
    });
    const code = await run.exited;
    expect(code).toBe(78);
    expect(run.output()).toContain(variable);
    expect(run.output()).toContain('Invalid configuration for resource-manager');
  });
});
