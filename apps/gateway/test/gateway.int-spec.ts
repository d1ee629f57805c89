/**
 * Issue #6 acceptance on the real bench: real Keystone (Debian's python3-keystone under uWSGI), the
 * gateway as its own process with its own PostgreSQL database, the Kafka mock cluster, and an echo
 * service behind it that verifies the signed identity the way every service does.
 *
 * - every role × every route family × own tenant / other tenant against the permission table;
 * - forged identity headers are dropped; credentials never reach a service; trace context passes;
 * - a revoked token stops working within the cache TTL; an expired token is rejected;
 * - Keystone stopped: cached tokens work until their TTL, others get 503; nothing passes unauthenticated;
 * - exactly one audit event per request, on Kafka;
 * - per-tenant rate limits; logins; members from Keystone and their mirroring events.
 */
import {
  AUTHZ_ACTIONS,
  generateIdentityKeyPair,
  PERMISSIONS,
  PLATFORM_ROLES,
  type PlatformRole,
  signIdentity,
  type VerifiedIdentity,
} from '@stratum/authz';
import { waitFor } from '@stratum/util';
import { ROUTES, type RouteSpec } from '../src/routing/route-table';
import { type EchoUpstream, GatewayBench, type RunningGateway } from './gateway-harness';

const KEYSTONE_ROLE: Record<PlatformRole, string> = {
  'platform-admin': 'admin',
  'tenant-admin': 'stratum-tenant-admin',
  'advanced-member': 'stratum-advanced-member',
  'restricted-member': 'stratum-restricted-member',
  'read-only': 'stratum-read-only',
};
const TENANT_ROLES = PLATFORM_ROLES.filter((r) => r !== 'platform-admin');
const PASSWORD = 'Secret-pass-1';
const suite = `gw${process.pid}`;

interface Actor {
  role: PlatformRole;
  user: string;
  userId: string;
  /** The project the token is scoped to. */
  tenant: 'A' | 'B' | 'admin';
  token: string;
}

/** What the permission table says, written independently of `authorize()`. */
function expectedAllowed(actor: Actor, route: RouteSpec, target: 'own' | 'other'): boolean {
  const grants = PERMISSIONS[route.resource][actor.role].includes(route.action);
  if (actor.role === 'platform-admin') return grants;
  if (route.tenant === 'platform') return false;
  if (route.tenant === 'caller') return grants;
  return grants && target === 'own';
}

describe('gateway (issue #6): Keystone, the permission table, proxy and audit', () => {
  let bench: GatewayBench;
  let keystone: GatewayBench['keystone'];
  let echo: EchoUpstream;
  let gateway: RunningGateway;
  let signing: GatewayBench['signing'];
  const audit = () => bench.audit;
  const members = () => bench.members;
  const projects: Record<'A' | 'B' | 'admin', string> = { A: '', B: '', admin: '' };
  const projectNames = { A: `ta-${suite}`, B: `tb-${suite}`, admin: 'admin' };
  const actors: Actor[] = [];
  const requestIds: string[] = [];
  let counter = 0;
  const TTL_SECONDS = 6;

  const call = async (
    method: string,
    path: string,
    token: string | undefined,
    extra: Record<string, string> = {},
    body?: unknown,
  ) => {
    const requestId = `${suite}-${counter++}`;
    // The gateway's own login route audits `auth.login` itself; every other request is one decision.
    if (!path.startsWith('/api/v1/auth/')) requestIds.push(requestId);
    const response = await fetch(`${gateway.url}${path}`, {
      method,
      headers: {
        'x-request-id': requestId,
        ...(token ? { 'x-auth-token': token } : {}),
        ...(body !== undefined ? { 'content-type': 'application/json' } : {}),
        ...extra,
      },
      body: body !== undefined ? JSON.stringify(body) : undefined,
    });
    const text = await response.text();
    return {
      status: response.status,
      headers: response.headers,
      body: text ? JSON.parse(text) : undefined,
      requestId,
    };
  };

  beforeAll(async () => {
    bench = await GatewayBench.start('gateway');
    ({ keystone, echo, signing } = bench);
    for (const role of Object.values(KEYSTONE_ROLE)) await keystone.ensureRole(role);
    projects.A = await keystone.createProject(projectNames.A);
    projects.B = await keystone.createProject(projectNames.B);
    projects.admin = await keystone.projectId('admin');
    const padmin = await keystone.createUser(`padmin-${suite}`, PASSWORD);
    await keystone.assignRole({ userId: padmin, projectId: projects.admin, roleName: 'admin' });
    actors.push({
      role: 'platform-admin',
      user: `padmin-${suite}`,
      userId: padmin,
      tenant: 'admin',
      token: '',
    });
    for (const tenant of ['A', 'B'] as const) {
      for (const role of TENANT_ROLES) {
        const user = `${role}-${tenant}-${suite}`;
        const userId = await keystone.createUser(user, PASSWORD);
        await keystone.assignRole({ userId, projectId: projects[tenant], roleName: KEYSTONE_ROLE[role] });
        actors.push({ role, user, userId, tenant, token: '' });
      }
    }
    for (const actor of actors) {
      actor.token = (
        await keystone.issueToken({
          username: actor.user,
          password: PASSWORD,
          projectName: projectNames[actor.tenant],
        })
      ).token;
    }

    gateway = await bench.startGateway({
      TOKEN_CACHE_TTL_SECONDS: String(TTL_SECONDS),
      RATE_LIMIT_PER_TENANT: '0',
      MEMBER_SYNC_INTERVAL_SECONDS: '2',
    });
  }, 180_000);

  afterAll(() => bench?.stop());

  it('decides every role × route × own/other tenant as the permission table says; cross-tenant is always denied', async () => {
    let allowedCount = 0;
    let deniedCount = 0;
    let crossTenant = 0;
    for (const actor of actors) {
      for (const route of ROUTES) {
        const targets: ('own' | 'other')[] = route.tenant === 'path' ? ['own', 'other'] : ['own'];
        for (const target of targets) {
          const ownTenant = actor.tenant === 'admin' ? 'A' : actor.tenant;
          const tenantKey = target === 'own' ? ownTenant : ownTenant === 'A' ? 'B' : 'A';
          const path = route.path.replace(/[:*](\w+)/g, (_, name: string) =>
            name === 'tenantId' ? projects[tenantKey] : `x-${name}`,
          );
          const before = echo.received.length;
          const result = await call(
            route.method,
            path,
            actor.token,
            {},
            route.method === 'GET' || route.method === 'DELETE' ? undefined : { probe: true },
          );
          const expected = expectedAllowed(actor, route, target);
          const where = `${actor.role}@${actor.tenant} ${route.method} ${route.path} (${target})`;
          if (expected) {
            allowedCount++;
            expect({ where, status: result.status }).toEqual({ where, status: 200 });
            if (route.service !== 'gateway') {
              expect(echo.received.length).toBe(before + 1);
              const received = echo.received.at(-1)!;
              const identity = received.identity as VerifiedIdentity;
              expect({ where, identity }).toMatchObject({
                where,
                identity: {
                  userId: actor.userId,
                  userName: actor.user,
                  tenantId: projects[actor.tenant],
                  roles: expect.arrayContaining([actor.role]),
                },
              });
              expect(received.headers['x-auth-token']).toBeUndefined();
              expect(received.headers['x-request-id']).toBe(result.requestId);
            }
          } else {
            deniedCount++;
            if (actor.role !== 'platform-admin' && target === 'other') crossTenant++;
            expect({ where, status: result.status, code: result.body?.error?.code }).toEqual({
              where,
              status: 403,
              code: 'FORBIDDEN',
            });
            expect(typeof result.body.error.message).toBe('string');
            expect(echo.received.length).toBe(before);
          }
        }
      }
    }
    // Every tenant role tried every tenant route on the other tenant, and all of those were denied.
    const tenantRoutes = ROUTES.filter((r) => r.tenant === 'path').length;
    expect(crossTenant).toBe(TENANT_ROLES.length * 2 * tenantRoutes);
    expect(allowedCount).toBeGreaterThan(100);
    expect(deniedCount).toBeGreaterThan(100);
    // The table has every action for some resource, so both outcomes were exercised for each action.
    expect(AUTHZ_ACTIONS.length).toBe(4);
  }, 120_000);

  it('drops identity headers forged by a client and passes the trace context', async () => {
    const reader = actors.find((a) => a.role === 'read-only' && a.tenant === 'A')!;
    const forged = signIdentity(
      { userId: 'mallory', userName: 'mallory', tenantId: projects.A, roles: ['platform-admin'] },
      generateIdentityKeyPair().privateKey,
    );
    const genuineKeyForgery = signIdentity(
      { userId: 'mallory', userName: 'mallory', tenantId: projects.A, roles: ['platform-admin'] },
      signing.privateKey,
    );
    // Without a token, a forged header (even one signed with the real key) gets nowhere.
    for (const header of [forged, genuineKeyForgery]) {
      const before = echo.received.length;
      const anonymous = await call('GET', `/api/v1/tenants/${projects.A}/volumes`, undefined, {
        'x-stratum-identity': header,
      });
      expect(anonymous.status).toBe(401);
      expect(anonymous.body.error.code).toBe('UNAUTHENTICATED');
      expect(echo.received.length).toBe(before);
    }
    // With a read-only token: the write is refused, the read reaches the service as the reader.
    const write = await call(
      'POST',
      `/api/v1/tenants/${projects.A}/volumes`,
      reader.token,
      { 'x-stratum-identity': genuineKeyForgery },
      { name: 'v' },
    );
    expect(write.status).toBe(403);
    const traceId = 'af7651916cd43dd8448eb211c80319c1';
    const read = await call('GET', `/api/v1/tenants/${projects.A}/volumes`, reader.token, {
      'x-stratum-identity': genuineKeyForgery,
      'X-Stratum-Other': 'x',
      traceparent: `00-${traceId}-b7ad6b7169203331-01`,
      'x-forwarded-for': '10.6.6.6',
    });
    expect(read.status).toBe(200);
    const received = echo.received.at(-1)!;
    expect(received.identity).toMatchObject({ userId: reader.userId, roles: ['read-only'] });
    expect(received.headers['x-stratum-other']).toBeUndefined();
    expect(received.headers['x-forwarded-for']).toBe('127.0.0.1');
    expect(received.headers.traceparent).toMatch(new RegExp(`^00-${traceId}-[0-9a-f]{16}-0[01]$`));
  });

  it('answers unknown routes, missing tokens and bad tokens in the one error shape', async () => {
    const admin = actors.find((a) => a.role === 'platform-admin')!;
    const unknown = await call('GET', '/api/v1/nothing', admin.token);
    expect(unknown).toMatchObject({ status: 404, body: { error: { code: 'NOT_FOUND' } } });
    const method = await call('POST', `/api/v1/tenants/${projects.A}/environments`, admin.token, {}, {});
    expect(method).toMatchObject({ status: 405, body: { error: { code: 'METHOD_NOT_ALLOWED' } } });
    const none = await call('GET', '/api/v1/networks', undefined);
    expect(none).toMatchObject({
      status: 401,
      body: { error: { code: 'UNAUTHENTICATED', hint: expect.stringContaining('auth/tokens') } },
    });
    const bad = await call('GET', '/api/v1/networks', 'gAAAAABnot-a-real-token');
    expect(bad).toMatchObject({ status: 401, body: { error: { code: 'UNAUTHENTICATED' } } });
  });

  it('logs in with a password through Keystone; a wrong password is refused', async () => {
    const actor = actors.find((a) => a.role === 'tenant-admin' && a.tenant === 'B')!;
    const login = await call(
      'POST',
      '/api/v1/auth/tokens',
      undefined,
      {},
      { username: actor.user, password: PASSWORD, project: projectNames.B },
    );
    expect(login.status).toBe(201);
    expect(login.body).toMatchObject({
      user: { id: actor.userId },
      tenant: { id: projects.B },
      roles: ['tenant-admin'],
    });
    expect(login.headers.get('x-subject-token')).toBe(login.body.token);
    const use = await call('GET', `/api/v1/tenants/${projects.B}/stacks`, login.body.token);
    expect(use.status).toBe(200);
    const wrong = await call(
      'POST',
      '/api/v1/auth/tokens',
      undefined,
      {},
      { username: actor.user, password: 'nope' },
    );
    expect(wrong).toMatchObject({ status: 401, body: { error: { code: 'UNAUTHENTICATED' } } });
    const invalid = await call('POST', '/api/v1/auth/tokens', undefined, {}, { username: actor.user });
    expect(invalid).toMatchObject({
      status: 400,
      body: { error: { code: 'VALIDATION_FAILED', message: expect.stringContaining('password') } },
    });
  });

  it("serves a tenant's members from Keystone to its tenant admin and publishes them for RBAC mirroring", async () => {
    const tenantAdmin = actors.find((a) => a.role === 'tenant-admin' && a.tenant === 'A')!;
    const listed = await call('GET', `/api/v1/tenants/${projects.A}/members`, tenantAdmin.token);
    expect(listed.status).toBe(200);
    const expected = actors
      .filter((a) => a.tenant === 'A')
      .map((a) => ({ userId: a.userId, userName: a.user, roles: [a.role] }))
      .sort((x, y) => (x.userId < y.userId ? -1 : 1));
    expect(listed.body.items).toEqual(expected);
    const published = await waitFor(() => members().find((e) => e.data.tenantId === projects.A), {
      timeoutMs: 20_000,
      description: 'tenant A members published',
    });
    expect(published.data.members).toEqual(expected);
    // A change in Keystone is published again; the unchanged tenant B is not.
    const restricted = actors.find((a) => a.role === 'restricted-member' && a.tenant === 'A')!;
    const countB = members().filter((e) => e.data.tenantId === projects.B).length;
    await keystone.unassignRole({
      userId: restricted.userId,
      projectId: projects.A,
      roleName: KEYSTONE_ROLE['restricted-member'],
    });
    const changed = await waitFor(
      () =>
        members().find((e) => e.data.tenantId === projects.A && e.data.revision !== published.data.revision),
      { timeoutMs: 20_000, description: 'tenant A members published again' },
    );
    expect(changed.data.members.map((m) => m.userId)).not.toContain(restricted.userId);
    expect(members().filter((e) => e.data.tenantId === projects.B).length).toBe(countB);
    // Put it back for the tests that follow.
    await keystone.assignRole({
      userId: restricted.userId,
      projectId: projects.A,
      roleName: KEYSTONE_ROLE['restricted-member'],
    });
  }, 60_000);

  it('stops honouring a revoked token within the cache TTL', async () => {
    const actor = actors.find((a) => a.role === 'advanced-member' && a.tenant === 'B')!;
    const { token } = await keystone.issueToken({
      username: actor.user,
      password: PASSWORD,
      projectName: projectNames.B,
    });
    expect((await call('GET', `/api/v1/tenants/${projects.B}/volumes`, token)).status).toBe(200);
    const revokedAt = Date.now();
    await keystone.revokeToken(token);
    const refused = await waitFor(
      async () => {
        const result = await call('GET', `/api/v1/tenants/${projects.B}/volumes`, token);
        return result.status === 401 && result;
      },
      { timeoutMs: (TTL_SECONDS + 5) * 1000, intervalMs: 250, description: 'revoked token refused' },
    );
    expect(refused.body.error.code).toBe('UNAUTHENTICATED');
    // Documented bound: TOKEN_CACHE_TTL_SECONDS after the last validation (plus one polling step).
    expect(Date.now() - revokedAt).toBeLessThanOrEqual(TTL_SECONDS * 1000 + 1_500);
  }, 30_000);

  it('fails closed while Keystone is down: cached tokens until their TTL, others 503, nothing unauthenticated', async () => {
    const cachedActor = actors.find((a) => a.role === 'restricted-member' && a.tenant === 'B')!;
    const fresh = await keystone.issueToken({
      username: cachedActor.user,
      password: PASSWORD,
      projectName: projectNames.B,
    });
    const path = `/api/v1/tenants/${projects.B}/volumes`;
    expect((await call('GET', path, cachedActor.token)).status).toBe(200);
    const validatedAt = Date.now();
    await keystone.stopServer();
    try {
      const cached = await call('GET', path, cachedActor.token);
      // Only meaningful if Keystone stopped within the TTL; it stops in well under a second.
      expect(Date.now() - validatedAt).toBeLessThan(TTL_SECONDS * 1000);
      expect(cached.status).toBe(200);
      const uncached = await call('GET', path, fresh.token);
      expect(uncached.status).toBe(503);
      expect(uncached.body.error).toMatchObject({
        code: 'DEPENDENCY_UNAVAILABLE',
        message: expect.stringContaining('Keystone is not answering'),
      });
      expect((await call('GET', path, undefined)).status).toBe(401);
      // Once the cached entry's TTL is over, that token is refused too (503, never allowed).
      const expired = await waitFor(
        async () => {
          const result = await call('GET', path, cachedActor.token);
          return result.status !== 200 && result;
        },
        { timeoutMs: (TTL_SECONDS + 5) * 1000, intervalMs: 250, description: 'cached token past its TTL' },
      );
      expect(expired.status).toBe(503);
      const health = await fetch(`${gateway.url}/health/ready`);
      expect(health.status).toBe(200);
      // The request process opens no Kafka client: the audit process relays, and reports on Kafka.
      const { checks } = (await health.json()) as {
        checks: Record<string, { ok: boolean; detail?: string }>;
      };
      expect(checks.bus).toEqual({ ok: true, detail: expect.stringMatching(/^not used by this process/) });
      expect(checks['outbox-relay'].ok).toBe(true);
    } finally {
      await keystone.startServer();
    }
    const back = await waitFor(async () => (await call('GET', path, fresh.token)).status === 200, {
      timeoutMs: 20_000,
      intervalMs: 250,
      description: 'Keystone back',
    });
    expect(back).toBe(true);
  }, 60_000);

  it('writes exactly one audit event per request, on Kafka', async () => {
    // Logins are audited too (auth.login); every API request is one entry with its request id.
    const withIds = () => audit().filter((e) => e.data.requestId?.startsWith(`${suite}-`));
    await waitFor(
      () => {
        const seen = new Set(withIds().map((e) => e.data.requestId));
        return requestIds.every((id) => seen.has(id));
      },
      { timeoutMs: 30_000, description: `audit events for ${requestIds.length} requests` },
    );
    const byRequest = new Map<string, Set<string>>();
    for (const envelope of withIds()) {
      const ids = byRequest.get(envelope.data.requestId!) ?? new Set<string>();
      ids.add(envelope.id);
      byRequest.set(envelope.data.requestId!, ids);
    }
    for (const [requestId, ids] of byRequest)
      expect({ requestId, events: ids.size }).toEqual({ requestId, events: 1 });
    expect(byRequest.size).toBe(requestIds.length);
    const denied = withIds().filter((e) => e.data.outcome === 'denied');
    expect(denied.length).toBeGreaterThan(100);
    const sample = withIds().find((e) => e.data.outcome === 'allowed' && e.data.action === 'volume.create');
    expect(sample?.data).toMatchObject({
      actor: { userId: expect.any(String), roles: expect.any(Array) },
      resource: { kind: 'volume' },
      http: { method: 'POST', status: 200 },
      sourceService: 'gateway',
      latencyMs: expect.any(Number),
    });
    const logins = audit().filter((e) => e.data.action === 'auth.login');
    expect(logins.map((e) => e.data.outcome).sort()).toEqual(['failed', 'succeeded']);
  }, 60_000);
});
