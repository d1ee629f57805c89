import { PLATFORM_ROLES, type PlatformRole, type VerifiedIdentity } from './identity';

/**
 * The platform's permission table (R-AU-3) as data: which role may do what to which kind of resource.
 * Adding a resource is adding a row to {@link PERMISSIONS} (and its name to {@link AUTHZ_RESOURCES});
 * {@link authorize} and the rendered table in docs/identity.md follow.
 */

/**
 * Every kind of resource behind the gateway: the resource-manager's (R-NW, R-ST), the orchestrator's
 * (R-OR), the autoscaler's (R-AS), the monitor's (R-MO, R-LG), the registries' and image-sync's (R-IM),
 * and the tenant's members as Keystone has them (R-AU-2).
 */
export const AUTHZ_RESOURCES = [
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
] as const;
export type AuthzResource = (typeof AUTHZ_RESOURCES)[number];

export const AUTHZ_ACTIONS = ['read', 'create', 'update', 'delete'] as const;
export type AuthzAction = (typeof AUTHZ_ACTIONS)[number];

/** What each resource is, for the rendered table. */
export const AUTHZ_RESOURCE_DESCRIPTIONS: Readonly<Record<AuthzResource, string>> = {
  network: 'network records (R-NW-2)',
  'nfs-server': 'NFS server records (R-ST-1)',
  tenant: "a tenant's settings (quota, …)",
  'network-assignment': 'a network assigned to a tenant (R-NW-3, R-NW-4)',
  'nfs-assignment': 'an NFS server assigned to a tenant (R-ST-2)',
  environment: "a tenant's environment on one network (R-NW-3)",
  volume: 'tenant-wide volumes (R-ST-3, R-ST-4)',
  operation: 'the progress of a long-running change',
  stack: 'application stacks, their revisions, rollbacks and deployments (R-OR-1..7)',
  'autoscaling-policy': 'time-windowed autoscaling policies (R-AS-1..4)',
  'monitoring-view': 'metrics, dashboards and the event audit trail of the tenant (R-MO-1..4)',
  'alert-rule': 'event alert rules and metric thresholds, and where alerts go (R-MO-5, R-MO-6)',
  'log-setting': 'which logs are collected and the topics they go to (R-LG)',
  'role-assignment': 'who holds which role in the tenant: read from Keystone, granted there only (R-AU-2)',
  'registry-namespace': "the tenant's namespaces in the test and production registries (R-IM-1)",
  image: 'test registry images: read = pull, create/update = push, delete = delete (R-AU-5, R-IM-2)',
  'production-image':
    'production registry images: read = pull; they arrive only by image-sync (R-IM-4, R-IM-5)',
  'image-state': 'the sync state of an image: developing, pending sync, syncing, synced (R-IM-2..5)',
  'sync-rule': "a namespace's test → production sync rules: automatic or manual (R-IM-3..5)",
};

/**
 * Roles whose grants hold on every tenant and on platform-wide records. Every other role is a tenant
 * role: its grants hold only on the tenant its identity is scoped to.
 */
export const PLATFORM_WIDE_ROLES: readonly PlatformRole[] = ['platform-admin'];

const ALL = AUTHZ_ACTIONS;
const READ: readonly AuthzAction[] = ['read'];
const NONE: readonly AuthzAction[] = [];

/** Managed by every tenant role but read-only, which views. */
const MEMBERS_MANAGE: Readonly<Record<PlatformRole, readonly AuthzAction[]>> = {
  'platform-admin': ALL,
  'tenant-admin': ALL,
  'advanced-member': ALL,
  'restricted-member': ALL,
  'read-only': READ,
};

/** Registry management (R-AU-3): tenant admin and advanced member; restricted member and read-only view. */
const REGISTRY_MANAGE: Readonly<Record<PlatformRole, readonly AuthzAction[]>> = {
  'platform-admin': ALL,
  'tenant-admin': ALL,
  'advanced-member': ALL,
  'restricted-member': READ,
  'read-only': READ,
};

/**
 * Base resources (networks, NFS servers, tenant settings and their assignments) are recorded and
 * assigned by the platform admin only (R-NW-2, R-ST-1); tenant roles see their own tenant's. Volumes are
 * the tenant's to manage, except for read-only members (R-AU-3).
 */
export const PERMISSIONS: Readonly<
  Record<AuthzResource, Readonly<Record<PlatformRole, readonly AuthzAction[]>>>
> = {
  network: {
    'platform-admin': ALL,
    'tenant-admin': READ,
    'advanced-member': READ,
    'restricted-member': READ,
    'read-only': READ,
  },
  'nfs-server': {
    'platform-admin': ALL,
    'tenant-admin': READ,
    'advanced-member': READ,
    'restricted-member': READ,
    'read-only': READ,
  },
  tenant: {
    'platform-admin': ALL,
    'tenant-admin': READ,
    'advanced-member': READ,
    'restricted-member': READ,
    'read-only': READ,
  },
  'network-assignment': {
    'platform-admin': ALL,
    'tenant-admin': READ,
    'advanced-member': READ,
    'restricted-member': READ,
    'read-only': READ,
  },
  'nfs-assignment': {
    'platform-admin': ALL,
    'tenant-admin': READ,
    'advanced-member': READ,
    'restricted-member': READ,
    'read-only': READ,
  },
  environment: {
    'platform-admin': ALL,
    'tenant-admin': READ,
    'advanced-member': READ,
    'restricted-member': READ,
    'read-only': READ,
  },
  volume: {
    'platform-admin': ALL,
    'tenant-admin': ALL,
    'advanced-member': ALL,
    'restricted-member': ALL,
    'read-only': READ,
  },
  operation: {
    'platform-admin': ALL,
    'tenant-admin': READ,
    'advanced-member': READ,
    'restricted-member': READ,
    'read-only': READ,
  },
  // Stacks are tenant resources every member but read-only manages (R-AU-3): submitting a template is
  // creating or updating, a rollback is an update.
  stack: {
    'platform-admin': ALL,
    'tenant-admin': ALL,
    'advanced-member': ALL,
    'restricted-member': ALL,
    'read-only': READ,
  },
  // Tenant resources every member but read-only manages (R-AU-3: advanced and restricted members have
  // the same platform rights, everything in the tenant except granting roles and base resources;
  // read-only views). Policies of R-AS-1..4.
  'autoscaling-policy': MEMBERS_MANAGE,
  // Views only (R-MO-1..4): the monitor computes them; every tenant role may look at its tenant's
  // (R-AU-3 read-only "views tenant resources"); nothing for a tenant to write.
  'monitoring-view': {
    'platform-admin': ALL,
    'tenant-admin': READ,
    'advanced-member': READ,
    'restricted-member': READ,
    'read-only': READ,
  },
  // Alert rules (R-MO-5, R-MO-6) and log settings (R-LG-1..3) are tenant resources like autoscaling
  // policies: every member but read-only manages them (R-AU-3).
  'alert-rule': MEMBERS_MANAGE,
  'log-setting': MEMBERS_MANAGE,
  // Keystone holds the assignments (R-AU-2): R-AU-3's tenant admin "grants roles inside the tenant" in
  // Keystone and may see them through Stratum; advanced members are excepted from granting roles, so
  // they and the others do not see them; nobody changes them through Stratum.
  'role-assignment': {
    'platform-admin': READ,
    'tenant-admin': READ,
    'advanced-member': NONE,
    'restricted-member': NONE,
    'read-only': NONE,
  },
  // R-AU-3 registry rights: tenant admin all registry management; advanced member creates and deletes
  // namespaces (R-IM-1: in both registries); restricted member and read-only view them.
  'registry-namespace': REGISTRY_MANAGE,
  // The test registry (R-IM-2: a pushed image is "developing"). R-AU-3: restricted members push and pull
  // in the tenant's namespaces, but do not delete; read-only views, i.e. pulls. Interpretation: advanced
  // members have "everything in the tenant except granting roles and base resources" (R-AU-3), which
  // includes what restricted members may do — push and pull — and more (delete).
  image: {
    'platform-admin': ALL,
    'tenant-admin': ALL,
    'advanced-member': ALL,
    'restricted-member': ['read', 'create', 'update'],
    'read-only': READ,
  },
  // Images reach production only by image-sync (R-IM-4, R-IM-5), never by a user's push: every tenant
  // role pulls its tenant's; the tenant admin ("all registry management", R-AU-3) may also delete; only
  // the platform admin may push there itself.
  'production-image': {
    'platform-admin': ALL,
    'tenant-admin': ['read', 'delete'],
    'advanced-member': READ,
    'restricted-member': READ,
    'read-only': READ,
  },
  // R-IM-3..5: the advanced member moves images between "developing" and "pending sync", edits the
  // namespace's sync rules, ticks automatic sync and presses "sync"; a restricted member only asks for
  // it (outside the platform) and, like read-only, views (R-AU-3). The tenant admin has all registry
  // management.
  'image-state': REGISTRY_MANAGE,
  'sync-rule': REGISTRY_MANAGE,
};

export interface AuthzRequest {
  resource: AuthzResource;
  action: AuthzAction;
  /**
   * The tenant owning the resource; `null` for platform-wide records (a network or NFS server record,
   * the list of all of them, a platform-wide operation). A route that lists records filtered to the
   * caller's tenant passes that tenant's id, not `null`.
   */
  tenantId: string | null;
}

export type AuthzDecision = { allowed: true } | { allowed: false; reason: string };

const ALLOWED: AuthzDecision = Object.freeze({ allowed: true });

function rolesGranting(resource: AuthzResource, action: AuthzAction): PlatformRole[] {
  return PLATFORM_ROLES.filter((role) => PERMISSIONS[resource][role].includes(action));
}

/**
 * Decides one request against {@link PERMISSIONS}:
 * 1. a platform-wide role (platform-admin) granting the action allows it on any tenant and on
 *    platform-wide records (`tenantId: null`);
 * 2. otherwise platform-wide records are denied: tenant roles reach records only through their tenant;
 * 3. a tenant role never grants anything on another tenant: the identity's tenant must be the request's;
 * 4. within its own tenant, the identity is allowed when any of its roles grants the action.
 * Every denial carries a reason for the caller (a 403's message).
 */
export function authorize(
  identity: Pick<VerifiedIdentity, 'roles' | 'tenantId'>,
  request: AuthzRequest,
): AuthzDecision {
  const { resource, action, tenantId } = request;
  const row = PERMISSIONS[resource] as (typeof PERMISSIONS)[AuthzResource] | undefined;
  if (!row || !AUTHZ_ACTIONS.includes(action)) {
    return { allowed: false, reason: `unknown permission ${action} on ${resource}` };
  }
  const granting = identity.roles.filter((role) => row[role]?.includes(action));
  if (granting.some((role) => PLATFORM_WIDE_ROLES.includes(role))) return ALLOWED;

  const what = `${action} ${resource}`;
  if (tenantId === null) {
    return {
      allowed: false,
      reason: `${what} on platform-wide records is reserved to the platform admin; tenant roles reach their own tenant's records only`,
    };
  }
  if (identity.tenantId !== tenantId) {
    return {
      allowed: false,
      reason:
        identity.tenantId === null
          ? `${what} in tenant ${tenantId} needs a token scoped to that tenant; this identity is not scoped to any tenant`
          : `${what} in tenant ${tenantId} is not allowed: this identity is scoped to tenant ${identity.tenantId}, and tenant roles grant nothing on another tenant`,
    };
  }
  if (granting.length > 0) return ALLOWED;
  const held = identity.roles.length ? identity.roles.join(', ') : 'no role';
  return {
    allowed: false,
    reason: `${what} is not allowed for ${held} in tenant ${tenantId}; it needs one of: ${rolesGranting(resource, action).join(', ')}`,
  };
}

/** The table as Markdown (docs/identity.md): one row per resource, one column per role. */
export function renderPermissionTable(): string {
  const cell = (actions: readonly AuthzAction[]) =>
    actions.length === AUTHZ_ACTIONS.length
      ? 'all'
      : actions.length === 0
        ? '—'
        : AUTHZ_ACTIONS.filter((a) => actions.includes(a)).join(', ');
  const header = ['resource', ...PLATFORM_ROLES];
  const rows = AUTHZ_RESOURCES.map((resource) => [
    `\`${resource}\` — ${AUTHZ_RESOURCE_DESCRIPTIONS[resource]}`,
    ...PLATFORM_ROLES.map((role) => cell(PERMISSIONS[resource][role])),
  ]);
  const widths = header.map((_, i) => Math.max(...[header, ...rows].map((r) => r[i]!.length)));
  const line = (cells: string[]) => `| ${cells.map((c, i) => c.padEnd(widths[i]!)).join(' | ')} |`;
  return [line(header), `| ${widths.map((w) => '-'.repeat(w)).join(' | ')} |`, ...rows.map(line)].join('\n');
}
