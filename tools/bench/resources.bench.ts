/**
 * npm run bench:resources — the resource-manager against the real kube-apiserver 1.20 bench (issue #4):
 *
 *  1. assign → ready: BENCH_ASSIGNMENTS (50) network assignments, one at a time, spread over tenants
 *     of BENCH_NETWORKS_PER_TENANT (5) networks; for each, the time from the request to the environment
 *     ready (namespace and system objects applied, links updated, announced) — measured by the client
 *     (request sent → operation seen succeeded, polled every 5 ms) and by the server (environment row
 *     created → marked ready). p50/p99.
 *  2. restart: BENCH_ENVIRONMENTS (200) environments exist; the service is stopped and started again;
 *     the time until every tenant has been reconciled again (everything re-applied) after the start.
 *
 * The service runs in this process with PostgreSQL (local server) and the in-process bus; the real
 * bench (etcd, kube-apiserver, controller-manager, scheduler) is built on first use and started here.
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  createInProcessBus,
  loadServiceConfig,
  type RunningService,
  startService,
} from '@stratum/service-kit';
import { createTestDatabase, KubeBench, testIdentityKeys } from '@stratum/testing';
import { percentile } from '@stratum/util';
import { Client } from 'pg';
import { service as resourceManager } from '../../apps/resource-manager/src/service';

const assignments = Number(process.env.BENCH_ASSIGNMENTS ?? 50);
const perTenant = Number(process.env.BENCH_NETWORKS_PER_TENANT ?? 5);
const environments = Number(process.env.BENCH_ENVIRONMENTS ?? 200);
const concurrency = process.env.RECONCILE_CONCURRENCY ?? '4';

async function main(): Promise<void> {
  execFileSync('bash', [join(__dirname, '../kube-bench/build.sh')], {
    stdio: ['ignore', 'ignore', 'inherit'],
  });
  const dir = mkdtempSync(join(tmpdir(), 'stratum-bench-rm-'));
  const bench = await KubeBench.start({ clusters: ['bench'] });
  const database = await createTestDatabase('bench_resources');
  const identities = testIdentityKeys();
  const admin = identities.header({ userId: 'bench', roles: ['platform-admin'], tenantId: 'admin' });
  const config = loadServiceConfig({
    service: resourceManager.name,
    defaultPort: 0,
    usesDatabase: true,
    usesKubernetes: true,
    usesIdentity: true,
    ownSchema: resourceManager.configSchema,
    env: {
      HTTP_PORT: '0',
      HTTP_HOST: '127.0.0.1',
      STRATUM_BUS: 'in-process',
      DATABASE_URL: database.url,
      KUBECONFIG: bench.kubeconfigPath,
      STRATUM_IDENTITY_PUBLIC_KEYS: identities.pemFile(dir),
      LOG_LEVEL: 'warn',
      RECONCILE_POLL_MS: '1000',
      RECONCILE_CONCURRENCY: concurrency,
    },
  });
  const bus = createInProcessBus();
  let running: RunningService = await startService(resourceManager, config, { bus });
  const call = async (method: string, path: string, body?: unknown) => {
    const response = await fetch(`${running.url}${path}`, {
      method,
      headers: { ...admin, ...(body ? { 'content-type': 'application/json' } : {}) },
      body: body ? JSON.stringify(body) : undefined,
    });
    // eslint-disable-next-line @typescript-eslint/no-explicit-any -- JSON answers of the API under test
    const json = (await response.json()) as Record<string, any>;
    if (response.status >= 300)
      throw new Error(`${method} ${path}: ${response.status} ${JSON.stringify(json)}`);
    return json;
  };
  const settle = async (operationId: string) => {
    for (;;) {
      const op = await call('GET', `/api/v1/operations/${operationId}`);
      if (op.state === 'succeeded') return;
      if (op.state === 'failed') throw new Error(`operation failed: ${JSON.stringify(op.error)}`);
      await new Promise((r) => setTimeout(r, 5));
    }
  };
  let networkCount = 0;
  const newNetwork = async () => {
    const i = networkCount++;
    return (
      await call('POST', '/api/v1/networks', {
        name: `net-${i}`,
        cidr: `10.${Math.floor(i / 250)}.${i % 250}.0/24`,
        gateway: `10.${Math.floor(i / 250)}.${i % 250}.1`,
        vlan: 100 + (i % 3000),
        parentInterface: 'eth1',
        securityDomain: i % 2 ? 'core' : 'dmz',
        isolationDomain: 'bench',
        clusterId: 'bench',
      })
    ).id as string;
  };
  let tenantCount = 0;
  const newTenant = async () => {
    const id = `bench-tenant-${tenantCount++}`;
    const accepted = await call('PUT', `/api/v1/tenants/${id}`, {
      name: id,
      quota: { cpu: '16', memory: '32Gi', pods: 100 },
      developerGroups: [`${id}-dev`],
      viewerGroups: [`${id}-view`],
    });
    await settle(accepted.operation.id);
    return id;
  };

  try {
    // 1. assign → ready, one at a time.
    const client: number[] = [];
    let tenant = '';
    for (let i = 0; i < assignments; i++) {
      if (i % perTenant === 0) tenant = await newTenant();
      const networkId = await newNetwork();
      const t0 = performance.now();
      const accepted = await call('PUT', `/api/v1/tenants/${tenant}/networks/${networkId}`);
      await settle(accepted.operation.id);
      client.push(performance.now() - t0);
    }
    const pg = new Client({ connectionString: database.url });
    await pg.connect();
    const server = (
      await pg.query<{ ms: number }>(
        'SELECT extract(epoch FROM ready_at - created_at) * 1000 AS ms FROM environment WHERE ready_at IS NOT NULL',
      )
    ).rows.map((r) => Number(r.ms));

    // 2. restart with BENCH_ENVIRONMENTS environments.
    for (let made = assignments; made < environments;) {
      const id = await newTenant();
      const operations: string[] = [];
      for (let k = 0; k < perTenant && made < environments; k++, made++) {
        const accepted = await call('PUT', `/api/v1/tenants/${id}/networks/${await newNetwork()}`);
        operations.push(accepted.operation.id);
      }
      for (const op of operations) await settle(op);
    }
    const total = Number((await pg.query('SELECT count(*) FROM environment')).rows[0].count);
    await running.stop();
    const restarted = Date.now();
    running = await startService(resourceManager, config, { bus });
    const startedAfter = Date.now() - restarted;
    for (;;) {
      const left = Number(
        (
          await pg.query(
            'SELECT count(*) FROM tenant WHERE last_reconciled_at IS NULL OR last_reconciled_at < $1',
            [new Date(restarted)],
          )
        ).rows[0].count,
      );
      if (left === 0) break;
      await new Promise((r) => setTimeout(r, 20));
    }
    const restartMs = Date.now() - restarted;
    await pg.end();

    const ms = (v: number) => `${v.toFixed(0)} ms`;
    console.log(
      `\nbench:resources — real kube-apiserver 1.20.2 (one cluster), PostgreSQL, reconcile concurrency ${concurrency}\n`,
    );
    console.log(
      `assign network → environment ready, ${assignments} assignments (tenants of ${perTenant} networks), one at a time`,
    );
    console.log(
      `  client (request → operation succeeded)   p50 ${ms(percentile(client, 50))}   p99 ${ms(percentile(client, 99))}   max ${ms(Math.max(...client))}`,
    );
    console.log(
      `  server (recorded → ready)                p50 ${ms(percentile(server, 50))}   p99 ${ms(percentile(server, 99))}`,
    );
    console.log(
      `restart: ${total} environments in ${tenantCount} tenants re-applied in ${ms(restartMs)} after the start (service up in ${ms(startedAfter)})`,
    );
  } finally {
    await running.stop();
    await database.drop();
    await bench.stop();
    rmSync(dir, { recursive: true, force: true });
  }
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
