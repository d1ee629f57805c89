import { PLATFORM_ROLES, type PlatformRole, type VerifiedIdentity } from './identity';
import {
  AUTHZ_ACTIONS,
  AUTHZ_RESOURCES,
  type AuthzAction,
  type AuthzResource,
  authorize,
  renderPermissionTable,
} from './permissions';

// The expectation, written out by hand from R-AU-3 / R-NW-2 / R-ST-1 / R-IM (not derived from PERMISSIONS):
// what each role may do in its own tenant. r = read, c = create, u = update, d = delete.
const OWN_TENANT: Record<PlatformRole, Record<AuthzResource, string>> = {
  'platform-admin': {
    network: 'rcud',
    'nfs-server': 'rcud',
    tenant: 'rcud',
    'network-assignment': 'rcud',
    'nfs-assignment': 'rcud',
    environment: 'rcud',
    volume: 'rcud',
    operation: 'rcud',
    stack: 'rcud',
    'autoscaling-policy': 'rcud',
    'monitoring-view': 'rcud',
    'alert-rule': 'rcud',
    'log-setting': 'rcud',
    'role-assignment': 'r',
    'registry-namespace': 'rcud',
    image: 'rcud',
    'production-image': 'rcud',
    'image-state': 'rcud',
    'sync-rule': 'rcud',
  },
  'tenant-admin': {
    network: 'r',
    'nfs-server': 'r',
    tenant: 'r',
    'network-assignment': 'r',
    'nfs-assignment': 'r',
    environment: 'r',
    volume: 'rcud',
    operation: 'r',
    stack: 'rcud',
    'autoscaling-policy': 'rcud',
    'monitoring-view': 'r',
    'alert-rule': 'rcud',
    'log-setting': 'rcud',
    'role-assignment': 'r',
    'registry-namespace': 'rcud',
    image: 'rcud',
    'production-image': 'rd',
    'image-state': 'rcud',
    'sync-rule': 'rcud',
  },
  'advanced-member': {
    network: 'r',
    'nfs-server': 'r',
    tenant: 'r',
    'network-assignment': 'r',
    'nfs-assignment': 'r',
    environment: 'r',
    volume: 'rcud',
    operation: 'r',
    stack: 'rcud',
    'autoscaling-policy': 'rcud',
    'monitoring-view': 'r',
    'alert-rule': 'rcud',
    'log-setting': 'rcud',
    'role-assignment': '',
    'registry-namespace': 'rcud',
    image: 'rcud',
    'production-image': 'r',
    'image-state': 'rcud',
    'sync-rule': 'rcud',
  },
  'restricted-member': {
    network: 'r',
    'nfs-server': 'r',
    tenant: 'r',
    'network-assignment': 'r',
    'nfs-assignment': 'r',
    environment: 'r',
    volume: 'rcud',
    operation: 'r',
    stack: 'rcud',
    'autoscaling-policy': 'rcud',
    'monitoring-view': 'r',
    'alert-rule': 'rcud',
    'log-setting': 'rcud',
    'role-assignment': '',
    'registry-namespace': 'r',
    image: 'rcu',
    'production-image': 'r',
    'image-state': 'r',
    'sync-rule': 'r',
  },
  'read-only': {
    network: 'r',
    'nfs-server': 'r',
    tenant: 'r',
    'network-assignment': 'r',
    'nfs-assignment': 'r',
    environment: 'r',
    volume: 'r',
    operation: 'r',
    stack: 'r',
    'autoscaling-policy': 'r',
    'monitoring-view': 'r',
    'alert-rule': 'r',
    'log-setting': 'r',
    'role-assignment': '',
    'registry-namespace': 'r',
    image: 'r',
    'production-image': 'r',
    'image-state': 'r',
    'sync-rule': 'r',
  },
};
const ROLES: PlatformRole[] = [
  'platform-admin',
  'tenant-admin',
  'advanced-member',
  'restricted-member',
  'read-only',
];
const RESOURCES: AuthzResource[] = [
  'network',
  'nfs-server',
  'tenant',
  'network-assignment',
  'nfs-assignment',
  'environment',
  'volume',
  'operation',
  'stack',
  'autoscaling-policy',
  'monitoring-view',
  'alert-rule',
  'log-setting',
  'role-assignment',
  'registry-namespace',
  'image',
  'production-image',
  'image-state',
  'sync-rule',
];
const ACTIONS: AuthzAction[] = ['read', 'create', 'update', 'delete'];
const LETTER: Record<AuthzAction, string> = { read: 'r', create: 'c', update: 'u', delete: 'd' };

type Scope = 'own tenant' | 'other tenant' | 'platform-wide';

function expected(role: PlatformRole, resource: AuthzResource, action: AuthzAction, scope: Scope) {
  const ownTenant = OWN_TENANT[role][resource].includes(LETTER[action]);
  // Only the platform admin acts beyond its own tenant; everyone else is confined to theirs.
  return role === 'platform-admin' ? ownTenant : scope === 'own tenant' && ownTenant;
}

function identity(roles: PlatformRole[], tenantId: string | null): VerifiedIdentity {
  return { userId: 'u1', userName: 'user', tenantId, roles, issuedAt: 0, expiresAt: 30 };
}

const TENANT = 'p-acme';
const OTHER = 'p-globex';
const scopes: [Scope, string | null][] = [
  ['own tenant', TENANT],
  ['other tenant', OTHER],
  ['platform-wide', null],
];

describe('authorize', () => {
  it('covers exactly the roles, resources and actions this test writes out', () => {
    // A new resource or role must come with its expectation here.
    expect([...PLATFORM_ROLES]).toEqual(ROLES);
    expect([...AUTHZ_RESOURCES]).toEqual(RESOURCES);
    expect([...AUTHZ_ACTIONS]).toEqual(ACTIONS);
  });

  const cases = ROLES.flatMap((role) =>
    RESOURCES.flatMap((resource) =>
      ACTIONS.flatMap((action) =>
        scopes.map(([scope, tenantId]) => ({
          role,
          resource,
          action,
          scope,
          tenantId,
          allowed: expected(role, resource, action, scope),
        })),
      ),
    ),
  );

  it.each(cases)(
    '$role $action $resource in $scope → allowed: $allowed',
    ({ role, resource, action, tenantId, allowed }) => {
      const decision = authorize(identity([role], TENANT), { resource, action, tenantId });
      expect(decision.allowed).toBe(allowed);
      if (!decision.allowed) expect(decision.reason).toContain(`${action} ${resource}`);
    },
  );

  it('denies every cross-tenant attempt by tenant roles, whatever the roles combined', () => {
    const tenantRoles = ROLES.filter((r) => r !== 'platform-admin');
    for (const resource of RESOURCES) {
      for (const action of ACTIONS) {
        const decision = authorize(identity(tenantRoles, TENANT), { resource, action, tenantId: OTHER });
        expect(decision).toEqual({
          allowed: false,
          reason: expect.stringContaining('tenant roles grant nothing on another tenant'),
        });
      }
    }
  });

  it('lets a platform admin act on every tenant, whatever tenant its token is scoped to', () => {
    for (const tenantId of [null, 'p-ops']) {
      for (const resource of RESOURCES) {
        for (const action of ACTIONS) {
          // Role assignments are only read, by anyone: Keystone holds them (R-AU-2).
          const granted = OWN_TENANT['platform-admin'][resource].includes(LETTER[action]);
          expect(
            authorize(identity(['platform-admin'], tenantId), { resource, action, tenantId: OTHER }).allowed,
          ).toBe(granted);
        }
      }
    }
  });

  it('grants the union of several roles', () => {
    const both = identity(['read-only', 'restricted-member'], TENANT);
    expect(authorize(both, { resource: 'volume', action: 'delete', tenantId: TENANT }).allowed).toBe(true);
  });

  it('denies everything to an identity without roles, or without a tenant', () => {
    const none = authorize(identity([], TENANT), { resource: 'volume', action: 'read', tenantId: TENANT });
    expect(none).toEqual({ allowed: false, reason: expect.stringContaining('no role') });
    const unscoped = authorize(identity(['tenant-admin'], null), {
      resource: 'volume',
      action: 'read',
      tenantId: TENANT,
    });
    expect(unscoped).toEqual({ allowed: false, reason: expect.stringContaining('not scoped to any tenant') });
  });

  it('says which roles would be allowed', () => {
    const decision = authorize(identity(['read-only'], TENANT), {
      resource: 'volume',
      action: 'create',
      tenantId: TENANT,
    });
    expect(decision).toEqual({
      allowed: false,
      reason:
        'create volume is not allowed for read-only in tenant p-acme; it needs one of: platform-admin, tenant-admin, advanced-member, restricted-member',
    });
  });
});

describe('renderPermissionTable', () => {
  it('renders one Markdown row per resource and one column per role', () => {
    const lines = renderPermissionTable().split('\n');
    expect(lines).toHaveLength(2 + RESOURCES.length);
    expect(lines[0]).toMatch(
      /^\| resource +\| platform-admin +\| tenant-admin +\| advanced-member +\| restricted-member +\| read-only +\|$/,
    );
    const volume = lines.find((l) => l.startsWith('| `volume`'))!;
    expect(volume.split('|').map((c) => c.trim())).toEqual([
      '',
      expect.stringContaining('`volume`'),
      'all',
      'all',
      'all',
      'all',
      'read',
      '',
    ]);
  });
});

describe('docs/identity.md', () => {
  it('holds the table as the code renders it', () => {
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    const { readFileSync } = require('node:fs') as typeof import('node:fs');
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    const { join } = require('node:path') as typeof import('node:path');
    const doc = readFileSync(join(__dirname, '../../../../docs/identity.md'), 'utf8');
    expect(doc).toContain(renderPermissionTable());
  });
});
