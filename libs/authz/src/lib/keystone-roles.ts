import { z } from 'zod';
import { PLATFORM_ROLES, type PlatformRole } from './identity';
import { TENANT_PLATFORM_ROLES, type TenantPlatformRole } from './kubernetes-rbac';

/**
 * Keystone role names → platform roles (R-AU-2, R-AU-3), as data: Keystone keeps users, projects and
 * assignments; this mapping says what a Keystone role means on the platform.
 */
export interface RoleMappingConfig {
  /**
   * The designated admin project: a platform-admin role here makes the platform admin. Matched by `id`
   * when given, else by `name` (Keystone project names are unique only within a domain: prefer the id).
   */
  adminProject: { id?: string; name?: string; domainId?: string };
  /** Keystone roles that, on the admin project, make the platform admin. */
  platformAdminRoles: string[];
  /** Keystone role → tenant role, on any project (the admin project included). */
  tenantRoles: Record<string, TenantPlatformRole>;
}

/**
 * The default: Keystone's `admin` on the project named `admin` is the platform admin; `stratum-*` roles
 * name the tenant roles; Keystone's default roles map too. Keystone's default implied roles are
 * admin ⇒ member ⇒ reader, so an admin's token carries all three; the union is what counts.
 */
export const DEFAULT_ROLE_MAPPING: RoleMappingConfig = Object.freeze({
  adminProject: Object.freeze({ name: 'admin' }),
  platformAdminRoles: Object.freeze(['admin']) as string[],
  tenantRoles: Object.freeze({
    'stratum-tenant-admin': 'tenant-admin',
    'stratum-advanced-member': 'advanced-member',
    'stratum-restricted-member': 'restricted-member',
    'stratum-read-only': 'read-only',
    admin: 'tenant-admin',
    member: 'restricted-member',
    reader: 'read-only',
  } satisfies Record<string, TenantPlatformRole>),
});

const RoleMappingSchema = z.strictObject({
  adminProject: z
    .strictObject({
      id: z.string().min(1).optional(),
      name: z.string().min(1).optional(),
      /** With `name`: the domain the project must be in (default `default`). */
      domainId: z.string().min(1).optional(),
    })
    .refine((p) => p.id !== undefined || p.name !== undefined, 'needs an id or a name'),
  platformAdminRoles: z.array(z.string().min(1)).min(1),
  tenantRoles: z.record(z.string().min(1), z.string()),
});

/**
 * STRATUM_ROLE_MAPPING (JSON in the {@link RoleMappingConfig} shape) → the mapping; unset: the default.
 * Errors name the offending key.
 */
export function parseRoleMapping(json: string | undefined): RoleMappingConfig {
  if (json === undefined || json.trim() === '') return DEFAULT_ROLE_MAPPING;
  let raw: unknown;
  try {
    raw = JSON.parse(json);
  } catch (error) {
    throw new Error(`not JSON: ${(error as Error).message}`);
  }
  const parsed = RoleMappingSchema.safeParse(raw);
  if (!parsed.success) {
    throw new Error(
      parsed.error.issues.map((i) => `${i.path.join('.') || '(root)'}: ${i.message}`).join('; '),
    );
  }
  const problems: string[] = [];
  for (const [keystoneRole, platformRole] of Object.entries(parsed.data.tenantRoles)) {
    if (platformRole === 'platform-admin') {
      problems.push(
        `tenantRoles.${keystoneRole}: platform-admin is only a role on the admin project; list ${keystoneRole} in platformAdminRoles instead`,
      );
    } else if (!(TENANT_PLATFORM_ROLES as readonly string[]).includes(platformRole)) {
      problems.push(
        `tenantRoles.${keystoneRole}: unknown platform role ${JSON.stringify(platformRole)}; expected one of ${TENANT_PLATFORM_ROLES.join(', ')}`,
      );
    }
  }
  if (problems.length) throw new Error(problems.join('; '));
  return parsed.data as RoleMappingConfig;
}

/**
 * The platform roles of a token (or of a user's assignments on one project): tenant roles by the
 * mapping, plus platform admin when the project is the admin project and a platform-admin role is
 * held. Sorted in PLATFORM_ROLES order, without repeats; unknown Keystone roles map to nothing; an
 * unscoped token (no project) has no role.
 */
export function mapKeystoneRoles(
  token: {
    projectId: string | null;
    projectName: string | null;
    /** The project's domain; a match by name needs it (names are unique only within a domain). */
    projectDomainId?: string | null;
    roleNames: readonly string[];
  },
  config: RoleMappingConfig,
): PlatformRole[] {
  if (token.projectId === null) return [];
  const roles = new Set<PlatformRole>();
  const { adminProject } = config;
  const isAdminProject =
    adminProject.id !== undefined
      ? token.projectId === adminProject.id
      : token.projectName === adminProject.name &&
        token.projectDomainId === (adminProject.domainId ?? 'default');
  for (const name of token.roleNames) {
    if (isAdminProject && config.platformAdminRoles.includes(name)) roles.add('platform-admin');
    const tenantRole = Object.hasOwn(config.tenantRoles, name) ? config.tenantRoles[name] : undefined;
    if (tenantRole) roles.add(tenantRole);
  }
  return PLATFORM_ROLES.filter((r) => roles.has(r));
}
