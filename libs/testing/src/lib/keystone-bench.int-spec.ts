/**
 * KeystoneBench on the real Keystone (Debian's python3-keystone under uWSGI): tokens issued,
 * validated by a service user and revoked; Keystone's default policy on who may validate; an outage
 * (stopped: refused; paused: no answer) and the restart with the same data; a cold start without the
 * cache, with short-lived tokens, that shares nothing with the first bench.
 */
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { waitFor } from '@stratum/util';
import { cleanupLeftoverKeystoneBenches, KeystoneBench, KeystoneBenchError } from './keystone-bench';
import { repoRoot } from './process';

jest.setTimeout(120_000);

const PASSWORD = 'Bench-pass-1';
const MiB = 1024 * 1024;

describe('KeystoneBench (from the per-machine cache)', () => {
  const suffix = String(process.pid);
  let keystone: KeystoneBench;
  let projectId: string;
  let aliceId: string;
  let service: Awaited<ReturnType<KeystoneBench['createServiceUser']>>;
  let serviceToken: string;

  beforeAll(async () => {
    keystone = await KeystoneBench.start();
    projectId = await keystone.createProject(`tenant-${suffix}`);
    aliceId = await keystone.createUser(`alice-${suffix}`, PASSWORD);
    await keystone.assignRole({ userId: aliceId, projectId, roleName: 'stratum-restricted-member' });
    service = await keystone.createServiceUser();
    serviceToken = (
      await keystone.issueToken({
        username: service.username,
        password: service.password,
        projectName: 'service',
      })
    ).token;
  });

  afterAll(async () => {
    await keystone?.stop();
  });

  it('starts from the cache in seconds, with one small uWSGI process and its own admin password', () => {
    expect(keystone.url).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/v3$/);
    expect(keystone.timings.cached).toBe(true);
    // ≈2–3 s measured; the bound leaves room for a loaded CI machine.
    expect(keystone.timings.totalMs - keystone.timings.cacheBuildMs).toBeLessThan(30_000);
    const [server] = keystone.processes();
    expect(keystone.processes()).toHaveLength(1);
    expect(server!.rssBytes).toBeGreaterThan(20 * MiB);
    expect(server!.rssBytes).toBeLessThan(400 * MiB);
    expect(keystone.adminPassword).toMatch(/^[0-9a-f]{32}$/);
    process.stdout.write(
      `keystone bench: ${JSON.stringify(keystone.timings)}, rss ${(server!.rssBytes / MiB).toFixed(0)} MiB\n`,
    );
  });

  it('issues a project-scoped token that the service user validates, until it is revoked (404)', async () => {
    const issued = await keystone.issueToken({ username: `alice-${suffix}`, password: PASSWORD, projectId });
    expect(issued.userId).toBe(aliceId);
    expect(issued.projectId).toBe(projectId);
    expect(Date.parse(issued.expiresAt) - Date.now()).toBeGreaterThan(3500_000);
    const valid = await keystone.validate(issued.token, { authToken: serviceToken });
    expect(valid.status).toBe(200);
    expect(valid.body!.token.user).toMatchObject({
      id: aliceId,
      name: `alice-${suffix}`,
      domain: { id: 'default' },
    });
    expect(valid.body!.token.project!.id).toBe(projectId);
    expect(valid.body!.token.roles!.map((r) => r.name)).toEqual(['stratum-restricted-member']);
    expect(valid.body!.token.catalog).toBeUndefined(); // ?nocatalog

    await keystone.revokeToken(issued.token);
    expect((await keystone.validate(issued.token, { authToken: serviceToken })).status).toBe(404);
    // A wrong password is refused with 401.
    await expect(
      keystone.issueToken({ username: `alice-${suffix}`, password: 'wrong' }),
    ).rejects.toMatchObject({
      status: 401,
    });
  });

  it('revokes the tokens of a project when the role is unassigned, seen at once by every request', async () => {
    const bobId = await keystone.createUser(`bob-${suffix}`, PASSWORD);
    await keystone.assignRole({ userId: bobId, projectId, roleName: 'stratum-read-only' });
    const { token } = await keystone.issueToken({ username: `bob-${suffix}`, password: PASSWORD, projectId });
    // Concurrent validations fill the cache of every thread first.
    const statuses = () =>
      Promise.all(
        Array.from(
          { length: 6 },
          async () => (await keystone.validate(token, { authToken: serviceToken })).status,
        ),
      );
    expect(await statuses()).toEqual([200, 200, 200, 200, 200, 200]);
    await keystone.unassignRole({ userId: bobId, projectId, roleName: 'stratum-read-only' });
    expect(await statuses()).toEqual([404, 404, 404, 404, 404, 404]);
  });

  it("lets `admin` or `service` validate others' tokens, not `member` or `reader`; `service` cannot list assignments", async () => {
    const { token } = await keystone.issueToken({
      username: `alice-${suffix}`,
      password: PASSWORD,
      projectId,
    });
    const seen: Record<string, { validate: number; own: number; assignments: number }> = {};
    for (const role of ['admin', 'service', 'member', 'reader']) {
      const user = await keystone.createServiceUser({
        username: `svc-${role}-${suffix}`,
        projectName: `svc-${suffix}`,
        roleName: role,
      });
      const own = (
        await keystone.issueToken({
          username: user.username,
          password: user.password,
          projectId: user.projectId,
        })
      ).token;
      const assignments = await fetch(`${keystone.url}/role_assignments`, {
        headers: { 'X-Auth-Token': own },
      });
      await assignments.arrayBuffer();
      seen[role] = {
        validate: (await keystone.validate(token, { authToken: own })).status,
        own: (await keystone.validate(own, { authToken: own })).status,
        assignments: assignments.status,
      };
    }
    expect(seen).toEqual({
      admin: { validate: 200, own: 200, assignments: 200 },
      service: { validate: 200, own: 200, assignments: 403 },
      member: { validate: 403, own: 200, assignments: 403 },
      reader: { validate: 403, own: 200, assignments: 403 },
    });
  });

  it('is unavailable while stopped (connection refused) or paused (no answer), and comes back with the same data', async () => {
    const before = await keystone.issueToken({ username: `alice-${suffix}`, password: PASSWORD, projectId });
    const port = keystone.port;
    await keystone.stopServer();
    await expect(fetch(keystone.url)).rejects.toMatchObject({ cause: { code: 'ECONNREFUSED' } });

    await keystone.startServer();
    expect(keystone.port).toBe(port);
    // The user, the project and the keys survived: a login works and the earlier token is still valid.
    const after = await keystone.issueToken({ username: `alice-${suffix}`, password: PASSWORD, projectId });
    expect(after.userId).toBe(aliceId);
    expect((await keystone.validate(before.token, { authToken: serviceToken })).status).toBe(200);

    keystone.pause();
    try {
      await expect(fetch(keystone.url, { signal: AbortSignal.timeout(300) })).rejects.toMatchObject({
        name: 'TimeoutError',
      });
    } finally {
      keystone.resume();
    }
    const back = await waitFor(async () => (await fetch(keystone.url)).status === 200, {
      timeoutMs: 10_000,
      description: 'Keystone answering after resume()',
    });
    expect(back).toBe(true);
  });

  it('reports Keystone errors with their status', async () => {
    await expect(keystone.createProject(`tenant-${suffix}`)).rejects.toBeInstanceOf(KeystoneBenchError);
    await expect(keystone.createProject(`tenant-${suffix}`)).rejects.toMatchObject({ status: 409 });
    await expect(keystone.projectId(`missing-${suffix}`)).rejects.toMatchObject({ status: 404 });
    expect(await keystone.projectId(`tenant-${suffix}`)).toBe(projectId);
    expect(await keystone.ensureRole('stratum-restricted-member')).toBe(
      await keystone.ensureRole('stratum-restricted-member'),
    );
  });

  describe('a second bench, started cold (no cache) with 3-second tokens', () => {
    let cold: KeystoneBench;

    beforeAll(async () => {
      cold = await KeystoneBench.start({ cache: false, tokenExpirationSeconds: 3 });
    }, 180_000);

    afterAll(async () => {
      await cold?.stop();
    });

    it('runs the whole keystone-manage sequence and serves the same API', async () => {
      expect(cold.timings.cached).toBe(false);
      process.stdout.write(`keystone bench (cold): ${JSON.stringify(cold.timings)}\n`);
      const userId = await cold.createUser(`carol-${suffix}`, PASSWORD);
      const project = await cold.createProject(`cold-${suffix}`);
      await cold.assignRole({ userId, projectId: project, roleName: 'member' });
      const endpoints = await cold.adminCall<{ endpoints: Array<{ url: string }> }>('GET', '/endpoints');
      expect(new Set(endpoints.endpoints.map((e) => e.url))).toEqual(new Set([`${cold.url}/`]));
    });

    it('shares no keys or passwords with the first bench: its tokens mean nothing there', async () => {
      expect(cold.adminPassword).not.toBe(keystone.adminPassword);
      const admin = await cold.issueToken({
        username: 'admin',
        password: cold.adminPassword,
        projectName: 'admin',
      });
      expect((await keystone.validate(admin.token)).status).toBe(404);
      await expect(
        keystone.issueToken({ username: 'admin', password: cold.adminPassword, projectName: 'admin' }),
      ).rejects.toMatchObject({ status: 401 });
    });

    it('expires tokens after tokenExpirationSeconds', async () => {
      const issued = await cold.issueToken({
        username: 'admin',
        password: cold.adminPassword,
        projectName: 'admin',
      });
      const lifetime = Date.parse(issued.expiresAt) - Date.parse(issued.body.token.issued_at);
      // Fernet keeps whole seconds; issued_at may carry a fraction.
      expect(lifetime).toBeGreaterThan(2_000);
      expect(lifetime).toBeLessThanOrEqual(3_000);
      expect((await cold.validate(issued.token)).status).toBe(200);
      const expiredAt = await waitFor(
        async () => (await cold.validate(issued.token)).status === 404 && Date.now(),
        { timeoutMs: 15_000, intervalMs: 100, description: 'the token expired' },
      );
      expect(expiredAt).toBeGreaterThanOrEqual(Date.parse(issued.expiresAt) - 1_000);
    });
  });
});

describe('cleanupLeftoverKeystoneBenches', () => {
  it('removes the directory of a bench whose process is gone, and keeps live ones', () => {
    const root = join(repoRoot, 'tmp', `keystone-cleanup-${process.pid}`);
    // 4194304 is above Linux's largest pid: that owner cannot be alive.
    const dead = join(root, 'keystone-bench-4194305-abc');
    const live = join(root, `keystone-bench-${process.pid}-abc`);
    mkdirSync(dead, { recursive: true });
    mkdirSync(live, { recursive: true });
    writeFileSync(
      join(dead, 'bench.json'),
      JSON.stringify({ ownerPid: 4194305, children: [{ name: 'uwsgi', pid: 4194306 }] }),
    );
    try {
      expect(cleanupLeftoverKeystoneBenches(root)).toEqual([dead]);
      expect(cleanupLeftoverKeystoneBenches(root)).toEqual([]);
    } finally {
      rmSync(root, { recursive: true, force: true });
    }
  });
});
