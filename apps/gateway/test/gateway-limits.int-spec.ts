/**
 * Issue #6 on the real bench, the time-bound parts: Keystone tokens that expire (a Keystone whose
 * tokens live 20 s) are refused at their expiry even when cached for longer; per-tenant rate limits
 * refuse one tenant's excess with 429 and Retry-After without touching another tenant.
 */
import { waitFor } from '@stratum/util';
import { GatewayBench } from './gateway-harness';

const PASSWORD = 'Limits-pass-1';
const TOKEN_LIFETIME_SECONDS = 20;

describe('gateway (issue #6): token expiry and per-tenant rate limits', () => {
  const suite = `lim${process.pid}`;
  let bench: GatewayBench;
  const projects: Record<'A' | 'B', string> = { A: '', B: '' };

  const get = (path: string, token: string) =>
    fetch(`${bench.gateway.url}${path}`, { headers: { 'x-auth-token': token } }).then(async (r) => ({
      status: r.status,
      retryAfter: r.headers.get('retry-after'),
      body: (await r.json()) as { error?: { code: string; message: string; hint?: string } },
    }));
  const login = async (tenant: 'A' | 'B') =>
    bench.keystone.issueToken({
      username: `user-${tenant}-${suite}`,
      password: PASSWORD,
      projectName: `${suite}${tenant}`,
    });

  beforeAll(async () => {
    bench = await GatewayBench.start('gateway_limits', { tokenExpirationSeconds: TOKEN_LIFETIME_SECONDS });
    for (const tenant of ['A', 'B'] as const) {
      projects[tenant] = await bench.keystone.createProject(`${suite}${tenant}`);
      const user = await bench.keystone.createUser(`user-${tenant}-${suite}`, PASSWORD);
      await bench.keystone.assignRole({
        userId: user,
        projectId: projects[tenant],
        roleName: 'stratum-restricted-member',
      });
    }
    await bench.startGateway({
      // Longer than the tokens live: the cache must still stop at each token's own expiry.
      TOKEN_CACHE_TTL_SECONDS: '120',
      RATE_LIMIT_PER_TENANT: '2',
      RATE_LIMIT_BURST: '5',
    });
  }, 180_000);

  afterAll(() => bench?.stop());

  it("refuses one tenant's requests beyond its burst with 429 and Retry-After, and not another tenant's", async () => {
    const a = await login('A');
    const b = await login('B');
    const pathA = `/api/v1/tenants/${projects.A}/volumes`;
    // Requests as fast as they go until the limiter refuses one: the burst of 5 passes, plus what the
    // 2/s refill added meanwhile, then 429.
    const started = Date.now();
    let served = 0;
    let limited: Awaited<ReturnType<typeof get>> | undefined;
    for (let i = 0; i < 60 && !limited; i++) {
      const result = await get(pathA, a.token);
      if (result.status === 200) served++;
      else limited = result;
    }
    const elapsedSeconds = (Date.now() - started) / 1000;
    expect(limited?.status).toBe(429);
    expect(served).toBeGreaterThanOrEqual(5);
    expect(served).toBeLessThanOrEqual(5 + Math.ceil(2 * elapsedSeconds) + 1);
    if (!limited) return;
    expect(limited.body.error).toMatchObject({
      code: 'RATE_LIMITED',
      hint: expect.stringContaining('Retry after'),
    });
    expect(Number(limited.retryAfter)).toBeGreaterThanOrEqual(1);
    expect((await get(`/api/v1/tenants/${projects.B}/volumes`, b.token)).status).toBe(200);
    // Tokens come back at 2/s.
    await waitFor(async () => (await get(pathA, a.token)).status === 200, {
      timeoutMs: 5_000,
      intervalMs: 300,
      description: 'tenant A served again after refill',
    });
  });

  it('refuses a cached token once it has expired', async () => {
    const token = await login('B');
    const path = `/api/v1/tenants/${projects.B}/volumes`;
    expect((await get(path, token.token)).status).toBe(200);
    const expiresAt = Date.parse(token.expiresAt);
    const refused = await waitFor(
      async () => {
        const result = await get(path, token.token);
        return result.status === 401 && result;
      },
      {
        timeoutMs: (TOKEN_LIFETIME_SECONDS + 10) * 1000,
        intervalMs: 500,
        description: 'expired token refused',
      },
    );
    expect(Date.now()).toBeGreaterThanOrEqual(expiresAt);
    // Refused at expiry, not at the end of the 120 s cache TTL.
    expect(Date.now() - expiresAt).toBeLessThan(3_000);
    expect(refused.body.error).toMatchObject({
      code: 'UNAUTHENTICATED',
      message: expect.stringContaining('expired'),
    });
  }, 60_000);
});
