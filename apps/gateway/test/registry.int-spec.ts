/**
 * Registry single sign-on (issue #6 §5, R-AU-5) on the real bench: two real Docker Distribution
 * registries (test and production) use the gateway as their token service; Keystone credentials log
 * in; the permission table decides which pull / push / delete scopes a token carries.
 */
import { makeRegistryTokenKeys, RegistryBench, RegistryClient } from '@stratum/testing';
import { waitFor } from '@stratum/util';
import { GatewayBench } from './gateway-harness';

const PASSWORD = 'Registry-pass-1';
const TEST_SERVICE = 'stratum-test-registry';
const PRODUCTION_SERVICE = 'stratum-production-registry';

describe('registry single sign-on through the gateway (R-AU-5)', () => {
  const suite = `reg${process.pid}`;
  let bench: GatewayBench;
  let testRegistry: RegistryBench;
  let productionRegistry: RegistryBench;
  // Namespaces are the tenants' Keystone project names.
  const nsA = `${suite}a`;
  const nsB = `${suite}b`;
  const users: Record<string, string> = {};
  const client = (registry: RegistryBench, user: string, password = PASSWORD) =>
    new RegistryClient(registry.url, { username: user, password });

  beforeAll(async () => {
    bench = await GatewayBench.start('gateway_registry');
    const { keystone } = bench;
    const a = await keystone.createProject(nsA);
    const b = await keystone.createProject(nsB);
    const admin = await keystone.projectId('admin');
    const people: [string, string, string][] = [
      ['restricted', a, 'stratum-restricted-member'],
      ['reader', a, 'stratum-read-only'],
      ['advanced', a, 'stratum-advanced-member'],
      ['tenantadmin', a, 'stratum-tenant-admin'],
      ['restricted-b', b, 'stratum-restricted-member'],
      ['platform', admin, 'admin'],
    ];
    for (const [name, project, role] of people) {
      const user = `${name}-${suite}`;
      const id = await keystone.createUser(user, PASSWORD);
      await keystone.assignRole({ userId: id, projectId: project, roleName: role });
      users[name] = user;
    }
    const keys = makeRegistryTokenKeys(bench.dir);
    const gateway = await bench.startGateway({
      REGISTRY_TOKEN_PRIVATE_KEY: keys.privateKeyPath,
      REGISTRY_TOKEN_CERTIFICATE: keys.certificatePath,
      REGISTRY_TEST_SERVICE: TEST_SERVICE,
      REGISTRY_PRODUCTION_SERVICE: PRODUCTION_SERVICE,
    });
    const auth = (service: string) => ({
      realm: `${gateway.url}/api/v1/auth/registry-token`,
      service,
      issuer: 'stratum-gateway',
      rootCertBundlePath: keys.certificatePath,
    });
    testRegistry = await RegistryBench.start({ name: 'test', auth: auth(TEST_SERVICE) });
    productionRegistry = await RegistryBench.start({ name: 'production', auth: auth(PRODUCTION_SERVICE) });
  }, 180_000);

  afterAll(async () => {
    await testRegistry?.stop();
    await productionRegistry?.stop();
    await bench?.stop();
  });

  it("lets a restricted member push and pull in its tenant's namespace of the test registry", async () => {
    const restricted = client(testRegistry, users.restricted!);
    const pushed = await restricted.pushImage(`${nsA}/teller`, '1.0');
    expect(pushed.status).toBe(201);
    expect(pushed.granted).toEqual([
      { type: 'repository', name: `${nsA}/teller`, actions: ['pull', 'push'] },
    ]);
    const pulled = await restricted.pullManifest(`${nsA}/teller`, '1.0');
    expect(pulled.status).toBe(200);
    expect(pulled.digest).toBe(pushed.digest);
  });

  it('refuses the restricted member a push to production and to another tenant, and a delete', async () => {
    const restricted = client(testRegistry, users.restricted!);
    const otherTenant = await restricted.pushImage(`${nsB}/teller`, '1.0');
    expect(otherTenant.status).toBe(401);
    expect(otherTenant.granted).toEqual([]);
    const production = await client(productionRegistry, users.restricted!).pushImage(`${nsA}/teller`, '1.0');
    expect(production.status).toBe(401);
    // Pull only: promotion to production is image-sync's, never a user's push (R-IM).
    expect(production.granted).toEqual([{ type: 'repository', name: `${nsA}/teller`, actions: ['pull'] }]);
    const digest = (await restricted.pullManifest(`${nsA}/teller`, '1.0')).digest!;
    const deleted = await client(testRegistry, users.restricted!).deleteManifest(`${nsA}/teller`, digest);
    expect(deleted.status).toBe(401);
    // A namespace no tenant owns belongs to the platform admin only.
    const unowned = await restricted.pushImage(`nobody${suite}/teller`, '1.0');
    expect(unowned.status).toBe(401);
  });

  it('lets read-only pull and nothing else; the advanced member deletes; the platform admin pushes to production', async () => {
    const reader = client(testRegistry, users.reader!);
    expect((await reader.pullManifest(`${nsA}/teller`, '1.0')).status).toBe(200);
    const push = await reader.pushImage(`${nsA}/teller`, '2.0');
    expect(push.status).toBe(401);
    expect(push.granted).toEqual([{ type: 'repository', name: `${nsA}/teller`, actions: ['pull'] }]);
    expect(
      (await client(productionRegistry, users.reader!).pullManifest(`${nsA}/teller`, '1.0')).status,
    ).toBe(404);

    const platform = client(productionRegistry, users.platform!);
    expect((await platform.pushImage(`${nsA}/teller`, '1.0')).status).toBe(201);
    expect(
      (await client(productionRegistry, users.reader!).pullManifest(`${nsA}/teller`, '1.0')).status,
    ).toBe(200);

    const advanced = client(testRegistry, users.advanced!);
    const pushed = await advanced.pushImage(`${nsA}/ledger`, '1');
    expect(pushed.status).toBe(201);
    expect((await advanced.deleteManifest(`${nsA}/ledger`, pushed.digest!)).status).toBe(202);
    // The tenant admin deletes in production too ("all registry management"), but cannot push there.
    const tenantAdmin = client(productionRegistry, users.tenantadmin!);
    const manifest = await tenantAdmin.pullManifest(`${nsA}/teller`, '1.0');
    expect((await tenantAdmin.pushImage(`${nsA}/teller`, '9')).status).toBe(401);
    expect(
      (await client(productionRegistry, users.tenantadmin!).deleteManifest(`${nsA}/teller`, manifest.digest!))
        .status,
    ).toBe(202);
  });

  it('needs Keystone credentials: none or wrong ones get 401; a Keystone token works as the password', async () => {
    const realm = `${bench.gateway.url}/api/v1/auth/registry-token?service=${TEST_SERVICE}&scope=repository:${nsA}/teller:pull`;
    const anonymous = await fetch(realm);
    expect(anonymous.status).toBe(401);
    expect(anonymous.headers.get('www-authenticate')).toMatch(/^Basic /);
    const wrong = await client(testRegistry, users.restricted!, 'wrong-password').pullManifest(
      `${nsA}/teller`,
      '1.0',
    );
    expect(wrong.status).toBe(401);
    expect(wrong.granted).toBeUndefined();
    const unknownService = await fetch(realm.replace(TEST_SERVICE, 'elsewhere'), {
      headers: {
        authorization: `Basic ${Buffer.from(`${users.restricted}:${PASSWORD}`).toString('base64')}`,
      },
    });
    expect(unknownService.status).toBe(400);
    const { token } = await bench.keystone.issueToken({ username: users.reader!, password: PASSWORD });
    const withToken = await client(testRegistry, '_token', token).pullManifest(`${nsA}/teller`, '1.0');
    expect(withToken.status).toBe(200);
  });

  it('audits every token request, naming what was refused', async () => {
    const refused = await waitFor(
      () =>
        bench.audit.find(
          (e) =>
            e.data.action === 'registry.token' &&
            e.data.outcome === 'denied' &&
            e.data.resource.kind === 'production-registry' &&
            e.data.actor.userName === users.restricted,
        ),
      { timeoutMs: 20_000, description: 'the refused production push audited' },
    );
    expect(refused.data.reason).toMatch(/push on .*teller/);
    expect(bench.audit.some((e) => e.data.action === 'registry.token' && e.data.outcome === 'allowed')).toBe(
      true,
    );
  });
});
