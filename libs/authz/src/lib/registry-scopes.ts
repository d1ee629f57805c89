import type { VerifiedIdentity } from './identity';
import { type AuthzAction, authorize } from './permissions';

/**
 * The Docker Registry token-authentication scopes (R-AU-5) on top of the one permission table: both
 * registries, one model. `repository:<name>:<actions>` asks for pull, push, delete (or `*`) on one
 * repository; `registry:catalog:*` lists every repository.
 */
export type RegistryKind = 'test' | 'production';
export type RegistryAction = 'pull' | 'push' | 'delete' | '*';
export type GrantedRegistryAction = Exclude<RegistryAction, '*'>;

export interface RegistryScope {
  type: 'repository' | 'registry';
  /** `repository(plugin)` and the like keep their class: the registry checks it. */
  typeClass?: string;
  name: string;
  actions: RegistryAction[];
}

export type ParsedRegistryScope = { ok: true; scope: RegistryScope } | { ok: false; error: string };

/** Distribution's repository name grammar: lower-case path components separated by `/`. */
const COMPONENT = /^[a-z0-9]+(?:(?:\.|_|__|-+)[a-z0-9]+)*$/;
const ACTIONS: readonly RegistryAction[] = ['pull', 'push', 'delete', '*'];

export function parseRegistryScope(scope: string): ParsedRegistryScope {
  // type[(class)]:name:actions — the name holds no ':' for repositories (a host:port prefix is not ours).
  const match = /^([a-z]+)(?:\(([a-z0-9]+)\))?:([^:]+):([a-z*,]+)$/.exec(scope);
  if (!match) return { ok: false, error: `"${scope}" is not <type>:<name>:<actions>` };
  const [, type, typeClass, name, actionList] = match as unknown as [
    string,
    string,
    string | undefined,
    string,
    string,
  ];
  const actions = actionList.split(',').filter(Boolean) as RegistryAction[];
  const unknown = actions.filter((a) => !ACTIONS.includes(a));
  if (unknown.length) return { ok: false, error: `"${scope}": unknown action ${unknown.join(', ')}` };
  if (type === 'registry') {
    if (name !== 'catalog') return { ok: false, error: `"${scope}": the only registry resource is catalog` };
    return { ok: true, scope: { type, name, actions } };
  }
  if (type !== 'repository') return { ok: false, error: `"${scope}": unknown resource type ${type}` };
  if (name.length > 255 || !name.split('/').every((c) => COMPONENT.test(c))) {
    return { ok: false, error: `"${scope}": ${name} is not a valid repository name` };
  }
  return { ok: true, scope: { type, ...(typeClass ? { typeClass } : {}), name, actions } };
}

/** What each registry action needs in the permission table: a push creates or overwrites a tag. */
const NEEDS: Record<GrantedRegistryAction, AuthzAction[]> = {
  pull: ['read'],
  push: ['create', 'update'],
  delete: ['delete'],
};

export interface RegistryGrant<A extends RegistryAction = RegistryAction> {
  /**
   * For a repository: `pull`, `push`, `delete` (a requested `*` is expanded to the three). For the
   * catalog: the actions as requested (`*`: Distribution asks `registry:catalog:*` for `GET /v2/_catalog`
   * and accepts nothing else).
   */
  granted: A[];
  denied: { action: A; reason: string }[];
}

export interface RegistryGrantRequest {
  registry: RegistryKind;
  /** The tenant owning the repository; null for a namespace no tenant owns, and for the catalog. */
  tenantId: string | null;
  requested: readonly RegistryAction[];
  /** The scope is `registry:catalog:…`, not a repository. */
  catalog?: boolean;
}

/**
 * The actions of one scope the identity is granted on a repository owned by `tenantId` (null: a
 * namespace no tenant owns — the platform admin's only). Test registry repositories are `image`,
 * production's are `production-image`; `pull` needs read, `push` needs create and update, `delete` needs
 * delete, all through {@link authorize}. The catalog (`catalog: true`, for `registry:catalog:*`) needs
 * `registry-namespace` read across the platform: the platform admin's only. Denied actions say why, for
 * the audit trail.
 */
export function grantRegistryActions(
  identity: VerifiedIdentity,
  request: RegistryGrantRequest & { catalog?: false },
): RegistryGrant<GrantedRegistryAction>;
export function grantRegistryActions(
  identity: VerifiedIdentity,
  request: RegistryGrantRequest,
): RegistryGrant;
export function grantRegistryActions(
  identity: VerifiedIdentity,
  request: RegistryGrantRequest,
): RegistryGrant {
  const granted: RegistryAction[] = [];
  const denied: { action: RegistryAction; reason: string }[] = [];
  if (request.catalog) {
    const decision = authorize(identity, { resource: 'registry-namespace', action: 'read', tenantId: null });
    for (const action of new Set(request.requested)) {
      if (decision.allowed) granted.push(action);
      else denied.push({ action, reason: `list the catalog: ${decision.reason}` });
    }
    return { granted, denied };
  }
  const wanted = new Set<GrantedRegistryAction>();
  for (const action of request.requested) {
    if (action === '*') for (const a of ['pull', 'push', 'delete'] as const) wanted.add(a);
    else wanted.add(action);
  }
  const resource = request.registry === 'test' ? 'image' : 'production-image';
  for (const action of (['pull', 'push', 'delete'] as const).filter((a) => wanted.has(a))) {
    const refusal = NEEDS[action]
      .map((needed) => authorize(identity, { resource, action: needed, tenantId: request.tenantId }))
      .find((d) => !d.allowed);
    if (refusal && !refusal.allowed) denied.push({ action, reason: refusal.reason });
    else granted.push(action);
  }
  return { granted, denied };
}
