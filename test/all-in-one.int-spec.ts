/**
 * `npm start` on a clean checkout (issue #2): all seven services report ready on /health within 30 s,
 * Ctrl-C exits 0 within 10 s, and state survives a restart (data directory). With no KUBECONFIG it
 * runs the sandbox cluster with simulated nodes (issue #3), whose objects survive a restart too. The
 * gateway authenticates with the development identity provider and proxies to the real services (#6).
 */
import { SERVICE_NAMES } from '@stratum/contracts';
import { KubeClusters, type KubeObject, waitForReady } from '@stratum/kube';
import { freePortBase, runTs } from '@stratum/testing';
import { waitFor } from '@stratum/util';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const teller: KubeObject = {
  apiVersion: 'apps/v1',
  kind: 'Deployment',
  metadata: { name: 'teller', namespace: 'aio-check' },
  spec: {
    replicas: 2,
    selector: { matchLabels: { app: 'teller' } },
    template: {
      metadata: { labels: { app: 'teller' } },
      spec: { containers: [{ name: 'app', image: 'registry.test/teller:1' }] },
    },
  },
};

describe('all-in-one mode (npm start)', () => {
  const dataDir = mkdtempSync(join(tmpdir(), 'stratum-aio-'));
  afterAll(() => rmSync(dataDir, { recursive: true, force: true }));

  async function startAndCheck(portBase: number) {
    const started = Date.now();
    const run = runTs('apps/all-in-one/src/main.ts', {
      STRATUM_DATA_DIR: dataDir,
      STRATUM_PORT_BASE: String(portBase),
      LOG_LEVEL: 'info',
    });
    const reports = await waitFor(
      async () => {
        const all = await Promise.all(
          SERVICE_NAMES.map(async (_, i) => {
            const response = await fetch(`http://127.0.0.1:${portBase + i}/health`).catch(() => undefined);
            return response?.status === 200
              ? ((await response.json()) as { service: string; status: string })
              : undefined;
          }),
        );
        return all.every(Boolean) && all;
      },
      {
        timeoutMs: 30_000,
        intervalMs: 200,
        description: `all seven services ready (output so far:\n${run.output().slice(-2000)})`,
      },
    );
    return { run, reports, readyMs: Date.now() - started };
  }

  it('starts all seven services ready within 30 s and stops cleanly on Ctrl-C within 10 s', async () => {
    const portBase = await freePortBase(7);
    const { run, reports, readyMs } = await startAndCheck(portBase);
    expect(readyMs).toBeLessThan(30_000);
    expect(reports.map((r) => (r as { service: string }).service)).toEqual([...SERVICE_NAMES]);
    expect(run.output()).toContain(`Gateway: http://127.0.0.1:${portBase}`);
    const metrics = await (await fetch(`http://127.0.0.1:${portBase + 1}/metrics`)).text();
    expect(metrics).toContain('stratum_outbox_pending_events{service="resource-manager"} 0');
    // The services that act on Kubernetes see the sandbox cluster.
    const health = (await (await fetch(`http://127.0.0.1:${portBase + 1}/health`)).json()) as {
      checks: Record<string, { ok: boolean; detail?: string }>;
    };
    expect(health.checks.kubernetes).toEqual({ ok: true, detail: expect.stringMatching(/^sandbox up/) });
    expect(run.output()).toContain('sandbox cluster');
    // A workload on it becomes ready through the simulated nodes.
    const client = KubeClusters.fromFile(join(dataDir, 'kube', 'kubeconfig'), {
      fieldManager: 'test',
    }).client();
    const nodes = await client.list('v1', 'Node');
    expect(nodes.items.map((n) => n.metadata?.name).sort()).toEqual([
      'sandbox-node-1',
      'sandbox-node-2',
      'sandbox-node-3',
    ]);
    await client.apply({ apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'aio-check' } });
    await client.apply(teller);
    await waitForReady(
      client,
      { apiVersion: 'apps/v1', kind: 'Deployment', namespace: 'aio-check', name: 'teller' },
      20_000,
    );
    await client.close();

    // The gateway in front (issue #6): the development identity provider, loudly; real services behind.
    const gateway = `http://127.0.0.1:${portBase}`;
    expect(run.output()).toContain('DEVELOPMENT IDENTITY PROVIDER');
    const login = async (username: string, project: string) => {
      const response = await fetch(`${gateway}/api/v1/auth/tokens`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ username, password: 'stratum-demo', project }),
      });
      expect(response.status).toBe(201);
      return (await response.json()) as { token: string; tenant: { id: string }; roles: string[] };
    };
    const admin = await login('admin', 'admin');
    expect(admin.roles).toContain('platform-admin');
    const networks = await fetch(`${gateway}/api/v1/networks`, { headers: { 'x-auth-token': admin.token } });
    expect(networks.status).toBe(200);
    expect(networks.headers.get('x-stratum-dev-identity')).toMatch(/not for production/);
    expect(await networks.json()).toEqual({ items: expect.any(Array) });
    const reader = await login('retail-reader', 'demo-retail');
    const refused = await fetch(`${gateway}/api/v1/networks`, { headers: { 'x-auth-token': reader.token } });
    expect(refused.status).toBe(403);
    const stacks = await fetch(`${gateway}/api/v1/tenants/${reader.tenant.id}/stacks`, {
      headers: { 'x-auth-token': reader.token },
    });
    expect(stacks.status).toBe(200);
    const openapi = (await (await fetch(`${gateway}/api/v1/openapi.json`)).json()) as {
      paths: Record<string, unknown>;
    };
    expect(Object.keys(openapi.paths)).toEqual(
      expect.arrayContaining([
        '/api/v1/auth/tokens',
        '/api/v1/networks',
        '/api/v1/tenants/{tenantId}/volumes',
        '/api/v1/tenants/{tenantId}/stacks/{name}',
      ]),
    );

    const stop = await run.stop('SIGINT');
    expect(stop.code).toBe(0);
    expect(stop.ms).toBeLessThan(10_000);
    expect(run.output()).toMatch(/migration applied/);
  }, 60_000);

  it('keeps its state in the data directory across a restart (migrations are not applied again)', async () => {
    const portBase = await freePortBase(7);
    const { run } = await startAndCheck(portBase);
    // The sandbox kept its objects; the deployment is still there and ready.
    const client = KubeClusters.fromFile(join(dataDir, 'kube', 'kubeconfig'), {
      fieldManager: 'test',
    }).client();
    const kept = await client.get({
      apiVersion: 'apps/v1',
      kind: 'Deployment',
      namespace: 'aio-check',
      name: 'teller',
    });
    expect((kept.spec as { replicas: number }).replicas).toBe(2);
    await waitForReady(
      client,
      { apiVersion: 'apps/v1', kind: 'Deployment', namespace: 'aio-check', name: 'teller' },
      20_000,
    );
    await client.close();
    const stop = await run.stop('SIGTERM');
    expect(stop.code).toBe(0);
    expect(run.output()).not.toMatch(/migration applied/);
  }, 60_000);
});
