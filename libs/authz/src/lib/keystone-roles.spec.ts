import { DEFAULT_ROLE_MAPPING, mapKeystoneRoles, parseRoleMapping } from './keystone-roles';

const token = (
  projectName: string | null,
  roleNames: string[],
  projectId: string | null = projectName && `id-${projectName}`,
  projectDomainId: string | null = 'default',
) => ({
  projectId,
  projectName,
  projectDomainId,
  roleNames,
});

describe('Keystone roles → platform roles (R-AU-2, R-AU-3)', () => {
  it('maps the stratum-* roles to the four tenant roles', () => {
    expect(mapKeystoneRoles(token('retail', ['stratum-tenant-admin']), DEFAULT_ROLE_MAPPING)).toEqual([
      'tenant-admin',
    ]);
    expect(mapKeystoneRoles(token('retail', ['stratum-advanced-member']), DEFAULT_ROLE_MAPPING)).toEqual([
      'advanced-member',
    ]);
    expect(mapKeystoneRoles(token('retail', ['stratum-restricted-member']), DEFAULT_ROLE_MAPPING)).toEqual([
      'restricted-member',
    ]);
    expect(mapKeystoneRoles(token('retail', ['stratum-read-only']), DEFAULT_ROLE_MAPPING)).toEqual([
      'read-only',
    ]);
  });

  it("takes the union of Keystone's implied roles (admin ⇒ member ⇒ reader), in platform order", () => {
    expect(mapKeystoneRoles(token('retail', ['reader', 'member', 'admin']), DEFAULT_ROLE_MAPPING)).toEqual([
      'tenant-admin',
      'restricted-member',
      'read-only',
    ]);
  });

  it('makes the platform admin only on the admin project', () => {
    expect(mapKeystoneRoles(token('admin', ['admin', 'member', 'reader']), DEFAULT_ROLE_MAPPING)).toEqual([
      'platform-admin',
      'tenant-admin',
      'restricted-member',
      'read-only',
    ]);
    expect(mapKeystoneRoles(token('retail', ['admin']), DEFAULT_ROLE_MAPPING)).not.toContain(
      'platform-admin',
    );
    // Matched by id when the mapping names one (a project named "admin" elsewhere does not count).
    const byId = { ...DEFAULT_ROLE_MAPPING, adminProject: { id: 'p-ops' } };
    expect(mapKeystoneRoles(token('admin', ['admin'], 'p-other'), byId)).not.toContain('platform-admin');
    expect(mapKeystoneRoles(token('ops', ['admin'], 'p-ops'), byId)).toContain('platform-admin');
  });

  it('gives the platform admin only for a platform-admin role, and prefers the id when both are set', () => {
    expect(mapKeystoneRoles(token('admin', ['member', 'reader']), DEFAULT_ROLE_MAPPING)).toEqual([
      'restricted-member',
      'read-only',
    ]);
    const both = { ...DEFAULT_ROLE_MAPPING, adminProject: { id: 'p-ops', name: 'admin' } };
    expect(mapKeystoneRoles(token('admin', ['admin'], 'p-elsewhere'), both)).toEqual(['tenant-admin']);
    expect(mapKeystoneRoles(token('ops', ['admin'], 'p-ops'), both)).toEqual([
      'platform-admin',
      'tenant-admin',
    ]);
  });

  it('keeps the default mapping immutable', () => {
    expect(() => {
      (DEFAULT_ROLE_MAPPING.tenantRoles as Record<string, string>)['member'] = 'tenant-admin';
    }).toThrow(TypeError);
    expect(() => DEFAULT_ROLE_MAPPING.platformAdminRoles.push('member')).toThrow(TypeError);
    expect(DEFAULT_ROLE_MAPPING.tenantRoles['member']).toBe('restricted-member');
  });

  it('matches the admin project by name only in its domain (names are unique per domain only)', () => {
    expect(mapKeystoneRoles(token('admin', ['admin'], 'p-x', 'd-other'), DEFAULT_ROLE_MAPPING)).toEqual([
      'tenant-admin',
    ]);
    expect(mapKeystoneRoles(token('admin', ['admin'], 'p-x', null), DEFAULT_ROLE_MAPPING)).not.toContain(
      'platform-admin',
    );
    const inDomain = { ...DEFAULT_ROLE_MAPPING, adminProject: { name: 'admin', domainId: 'd-ops' } };
    expect(mapKeystoneRoles(token('admin', ['admin'], 'p-x', 'd-ops'), inDomain)).toContain('platform-admin');
  });

  it('gives nothing to unknown roles and to an unscoped token', () => {
    expect(
      mapKeystoneRoles(token('retail', ['heat_stack_owner', 'constructor']), DEFAULT_ROLE_MAPPING),
    ).toEqual([]);
    expect(mapKeystoneRoles(token(null, ['admin']), DEFAULT_ROLE_MAPPING)).toEqual([]);
  });

  it('parses a configured mapping and names the offending key of a bad one', () => {
    const mapping = parseRoleMapping(
      JSON.stringify({
        adminProject: { name: 'cloud-admin' },
        platformAdminRoles: ['cloud_admin'],
        tenantRoles: { 'bank-owner': 'tenant-admin', 'bank-viewer': 'read-only' },
      }),
    );
    expect(mapKeystoneRoles(token('cloud-admin', ['cloud_admin']), mapping)).toEqual(['platform-admin']);
    expect(mapKeystoneRoles(token('retail', ['bank-viewer', 'member']), mapping)).toEqual(['read-only']);
    expect(parseRoleMapping(undefined)).toBe(DEFAULT_ROLE_MAPPING);
    expect(() => parseRoleMapping('{')).toThrow(/not JSON/);
    expect(() =>
      parseRoleMapping(JSON.stringify({ adminProject: {}, platformAdminRoles: ['admin'], tenantRoles: {} })),
    ).toThrow(/adminProject: needs an id or a name/);
    expect(() =>
      parseRoleMapping(
        JSON.stringify({
          adminProject: { name: 'admin' },
          platformAdminRoles: ['admin'],
          tenantRoles: { boss: 'platform-admin' },
        }),
      ),
    ).toThrow(/tenantRoles\.boss: platform-admin is only a role on the admin project/);
    expect(() =>
      parseRoleMapping(
        JSON.stringify({
          adminProject: { name: 'admin' },
          platformAdminRoles: ['admin'],
          tenantRoles: { x: 'superuser' },
        }),
      ),
    ).toThrow(/tenantRoles\.x: unknown platform role "superuser"/);
    expect(() =>
      parseRoleMapping(
        JSON.stringify({ adminProject: { name: 'admin' }, platformAdminRoles: [], tenantRoles: {} }),
      ),
    ).toThrow(/^platformAdminRoles: /);
    expect(() =>
      parseRoleMapping(
        JSON.stringify({
          adminProject: { name: 'admin' },
          platformAdminRoles: ['admin'],
          tenantRoles: {},
          tenantRole: {},
        }),
      ),
    ).toThrow(/tenantRole/);
  });
});
