import { PLATFORM_ROLES, type PlatformRole, type VerifiedIdentity } from './identity';
import { grantRegistryActions, parseRegistryScope } from './registry-scopes';

const T = 'p-retail';
const OTHER = 'p-payments';
const who = (roles: PlatformRole[], tenantId: string | null = T): VerifiedIdentity => ({
  userId: 'u',
  userName: 'u',
  tenantId,
  roles,
  issuedAt: 0,
  expiresAt: 30,
});

// Written out from R-AU-3 / R-AU-5: what each role gets on its own tenant's repositories.
const EXPECTED: Record<PlatformRole, { test: string[]; production: string[] }> = {
  'platform-admin': { test: ['pull', 'push', 'delete'], production: ['pull', 'push', 'delete'] },
  'tenant-admin': { test: ['pull', 'push', 'delete'], production: ['pull', 'delete'] },
  'advanced-member': { test: ['pull', 'push', 'delete'], production: ['pull'] },
  'restricted-member': { test: ['pull', 'push'], production: ['pull'] },
  'read-only': { test: ['pull'], production: ['pull'] },
};

describe('registry scopes (R-AU-5)', () => {
  it('parses repository and catalog scopes, and refuses malformed ones with a reason', () => {
    expect(parseRegistryScope('repository:retail/web/api:pull,push')).toEqual({
      ok: true,
      scope: { type: 'repository', name: 'retail/web/api', actions: ['pull', 'push'] },
    });
    expect(parseRegistryScope('repository(plugin):retail/x:pull')).toMatchObject({
      ok: true,
      scope: { typeClass: 'plugin' },
    });
    expect(parseRegistryScope('repository:retail/web.api_v2/worker-1:*')).toEqual({
      ok: true,
      scope: { type: 'repository', name: 'retail/web.api_v2/worker-1', actions: ['*'] },
    });
    expect(parseRegistryScope('registry:catalog:*')).toEqual({
      ok: true,
      scope: { type: 'registry', name: 'catalog', actions: ['*'] },
    });
    for (const bad of [
      'repository:Retail/x:pull',
      'repository:retail/x:write',
      'registry:other:*',
      'nonsense',
      'image:a:pull',
      'repository:retail//x:pull',
      'repository:-retail/x:pull',
      'repository:retail/x:',
    ]) {
      expect(parseRegistryScope(bad)).toMatchObject({ ok: false, error: expect.any(String) });
    }
  });

  it.each(PLATFORM_ROLES.map((role) => [role]))('%s gets exactly its actions in both registries', (role) => {
    for (const registry of ['test', 'production'] as const) {
      const result = grantRegistryActions(who([role]), { registry, tenantId: T, requested: ['*'] });
      expect({ registry, granted: result.granted }).toEqual({ registry, granted: EXPECTED[role][registry] });
      for (const d of result.denied) expect(d.reason).toEqual(expect.any(String));
    }
  });

  it('asks the table once per action: push needs create and update, and says why a refusal', () => {
    const readOnly = grantRegistryActions(who(['read-only']), {
      registry: 'test',
      tenantId: T,
      requested: ['pull', 'push'],
    });
    expect(readOnly.granted).toEqual(['pull']);
    expect(readOnly.denied).toEqual([
      { action: 'push', reason: expect.stringContaining('create image is not allowed for read-only') },
    ]);
    const production = grantRegistryActions(who(['advanced-member']), {
      registry: 'production',
      tenantId: T,
      requested: ['push', 'push', 'pull'],
    });
    expect(production.granted).toEqual(['pull']);
    expect(production.denied).toEqual([
      { action: 'push', reason: expect.stringContaining('production-image') },
    ]);
  });

  it("never grants a tenant role anything on another tenant's repositories, nor on unowned namespaces", () => {
    const tenantRoles = PLATFORM_ROLES.filter((r) => r !== 'platform-admin');
    for (const registry of ['test', 'production'] as const) {
      for (const tenantId of [OTHER, null]) {
        const result = grantRegistryActions(who(tenantRoles), {
          registry,
          tenantId,
          requested: ['pull', 'push', 'delete'],
        });
        expect(result.granted).toEqual([]);
        expect(result.denied).toHaveLength(3);
      }
    }
    expect(
      grantRegistryActions(who(['platform-admin'], null), {
        registry: 'test',
        tenantId: null,
        requested: ['push'],
      }).granted,
    ).toEqual(['push']);
    for (const registry of ['test', 'production'] as const) {
      expect(
        grantRegistryActions(who(['platform-admin']), { registry, tenantId: OTHER, requested: ['*'] })
          .granted,
      ).toEqual(['pull', 'push', 'delete']);
    }
  });

  it('lists the catalog for the platform admin only, granting the "*" Distribution asks for', () => {
    expect(
      grantRegistryActions(who(['platform-admin']), {
        registry: 'test',
        tenantId: null,
        requested: ['*'],
        catalog: true,
      }),
    ).toEqual({ granted: ['*'], denied: [] });
    for (const registry of ['test', 'production'] as const) {
      const result = grantRegistryActions(who(PLATFORM_ROLES.filter((r) => r !== 'platform-admin')), {
        registry,
        tenantId: null,
        requested: ['*'],
        catalog: true,
      });
      expect(result.granted).toEqual([]);
      expect(result.denied).toEqual([
        { action: '*', reason: expect.stringContaining('reserved to the platform admin') },
      ]);
    }
  });
});
