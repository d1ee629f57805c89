import { PLATFORM_ROLES, type PlatformRole } from './identity';
import {
  AUTHZ_ACTIONS,
  AUTHZ_RESOURCES,
  type AuthzAction,
  type AuthzResource,
  PERMISSIONS,
} from './permissions';

/**
 * Platform roles mirrored into Kubernetes RBAC (R-AU-6): in every environment (namespace) of a tenant,
 * each tenant role gets a Role `stratum-<role>` whose rules are derived here from the platform's
 * permission table, so a member using the cluster directly (kubectl with Keystone authentication) has
 * the rights the member has through the API — no more. Nothing here is written by hand per role: a
 * change of {@link PERMISSIONS} changes the Roles at the resource-manager's next reconcile.
 *
 * Never mirrored, whatever the table says:
 * - `secrets`: the environment's registry pull secret lives there, and the API never shows a secret;
 * - `roles`, `rolebindings` (and any RBAC write): roles are granted in Keystone (R-AU-2) and mirrored
 *   from there; a tenant admin who could edit the mirror could grant what Keystone does not;
 * - `pods/exec`, `pods/attach`, `pods/portforward`, `serviceaccounts/token`: the API offers no way into
 *   a container or to a service account's credentials;
 * - cluster-scoped objects (namespaces, nodes, persistentvolumes, storageclasses): a namespaced Role
 *   cannot grant them, and they are shared by every tenant of the cluster.
 * `platform-admin` is not mirrored: platform operators reach clusters with their own cluster roles.
 */

/** The Kubernetes resources that realise one platform resource in a tenant's environment. */
export interface KubernetesResourceRef {
  /** API groups ('' is the core group). */
  apiGroups: string[];
  /** Resource names, subresources as `<resource>/<subresource>`. */
  resources: string[];
  /**
   * The platform actions these resources carry (default all four): events, logs and the environment's
   * settings are observed, never written, in Kubernetes even by a role that may change the resource.
   */
  actions?: AuthzAction[];
}

/** A Kubernetes RBAC PolicyRule (rbac.authorization.k8s.io/v1), as a Role carries it. */
export interface PolicyRule {
  apiGroups: string[];
  resources: string[];
  verbs: string[];
}

/** The platform roles that exist inside a tenant, i.e. every role but `platform-admin`. */
export type TenantPlatformRole = Exclude<PlatformRole, 'platform-admin'>;

/** The roles mirrored into every environment, in the permission table's order. */
export const TENANT_PLATFORM_ROLES: readonly TenantPlatformRole[] = PLATFORM_ROLES.filter(
  (role): role is TenantPlatformRole => role !== 'platform-admin',
);

/** Platform actions → Kubernetes verbs. */
export const KUBERNETES_VERBS: Readonly<Record<AuthzAction, readonly string[]>> = {
  read: ['get', 'list', 'watch'],
  create: ['create'],
  update: ['update', 'patch'],
  delete: ['delete', 'deletecollection'],
};

const VERB_ORDER = AUTHZ_ACTIONS.flatMap((action) => KUBERNETES_VERBS[action]);

const READ_ONLY: AuthzAction[] = ['read'];
const NONE: KubernetesResourceRef[] = [];

const MIRROR: { readonly [R in AuthzResource]?: readonly KubernetesResourceRef[] } = {
  // A stack is realised by workloads, their pods and services (R-OR-2): members who may change stacks
  // may change them directly too. Events and logs are read only; so are Endpoints, which the endpoints
  // controller writes for a stack's Services and the resource-manager for the linked-service mirrors
  // (R-NW-4) — a hand-written one could only misroute a link.
  stack: [
    { apiGroups: ['apps'], resources: ['deployments', 'replicasets', 'statefulsets'] },
    { apiGroups: [''], resources: ['services', 'pods', 'configmaps'] },
    { apiGroups: [''], resources: ['endpoints', 'events', 'pods/log'], actions: READ_ONLY },
  ],
  // A volume is the `vol-<name>` claim in every environment (R-ST-3); its PersistentVolume is
  // cluster-scoped and stays the resource-manager's.
  volume: [{ apiGroups: [''], resources: ['persistentvolumeclaims'] }],
  // The environment's settings: quota, container defaults and policies are the platform's to write (the
  // Namespace itself is cluster-scoped, so not in a Role).
  environment: [
    { apiGroups: [''], resources: ['resourcequotas', 'limitranges'], actions: READ_ONLY },
    { apiGroups: ['networking.k8s.io'], resources: ['networkpolicies'], actions: READ_ONLY },
  ],
  // The flat network is attached through the `tenant-network` NetworkAttachmentDefinition (R-NW-1);
  // tenant roles may only read networks and their assignments, so only read it.
  network: [{ apiGroups: ['k8s.cni.cncf.io'], resources: ['network-attachment-definitions'] }],
  'network-assignment': [{ apiGroups: ['k8s.cni.cncf.io'], resources: ['network-attachment-definitions'] }],
  // NFS servers and their assignments are StorageClasses and a CSIDriver: cluster-scoped, so nothing a
  // Role can grant; the claims on them are volumes (above).
  'nfs-server': NONE,
  'nfs-assignment': NONE,
  // Tenant settings are the environments' quota and defaults (read through `environment`).
  tenant: NONE,
  // Operations are the resource-manager's records; nothing in Kubernetes.
  operation: NONE,
  // Autoscaling changes the replica count of deployments (R-AS): HorizontalPodAutoscalers and the
  // scale subresource.
  'autoscaling-policy': [
    { apiGroups: ['autoscaling'], resources: ['horizontalpodautoscalers'] },
    { apiGroups: ['apps'], resources: ['deployments/scale'] },
  ],
  // The monitoring view's counterpart: pod metrics (`kubectl top pods`) where metrics-server serves them.
  'monitoring-view': [{ apiGroups: ['metrics.k8s.io'], resources: ['pods'], actions: READ_ONLY }],
  // Alert rules and log settings are the monitor's and the log-shipper's records.
  'alert-rule': NONE,
  'log-setting': NONE,
  // Granting roles happens in Keystone (R-AU-2); the mirror follows it. Never roles/rolebindings.
  'role-assignment': NONE,
  // Registry resources live in the registries, not in Kubernetes.
  'registry-namespace': NONE,
  image: NONE,
  'production-image': NONE,
  'image-state': NONE,
  'sync-rule': NONE,
};

/**
 * Which Kubernetes resources realise each platform resource in a tenant's environment (data; see the
 * comments in the source for why each is what it is). Partial: a resource with no entry has no
 * Kubernetes counterpart yet (the unit test requires every resource of the table to be decided).
 */
export const KUBERNETES_RESOURCES: Readonly<
  Partial<Record<AuthzResource, readonly KubernetesResourceRef[]>>
> = MIRROR;

/** What a mirrored Role must never grant (checked by the unit tests, and at load below). */
export const NEVER_MIRRORED: ReadonlyArray<{ apiGroup: string; resource: string }> = [
  { apiGroup: '', resource: 'secrets' },
  { apiGroup: '', resource: 'pods/exec' },
  { apiGroup: '', resource: 'pods/attach' },
  { apiGroup: '', resource: 'pods/portforward' },
  { apiGroup: '', resource: 'serviceaccounts/token' },
  { apiGroup: 'rbac.authorization.k8s.io', resource: 'roles' },
  { apiGroup: 'rbac.authorization.k8s.io', resource: 'rolebindings' },
];

for (const refs of Object.values(MIRROR)) {
  for (const ref of refs ?? []) {
    for (const apiGroup of ref.apiGroups) {
      for (const resource of ref.resources) {
        if (NEVER_MIRRORED.some((n) => n.apiGroup === apiGroup && n.resource === resource)) {
          throw new Error(
            `kubernetes-rbac: ${apiGroup || 'core'}/${resource} must never be mirrored (R-AU-6)`,
          );
        }
      }
    }
  }
}

/** `stratum-<role>`: the name of the Role and of the RoleBinding mirroring a tenant role. */
export function kubernetesRoleName(role: TenantPlatformRole): string {
  return `stratum-${role}`;
}

/** Kubernetes verbs per `<apiGroup>\0<resource>` a role gets, from the table. */
function grants(role: TenantPlatformRole): Map<string, Set<string>> {
  const byResource = new Map<string, Set<string>>();
  for (const resource of AUTHZ_RESOURCES) {
    const allowed = PERMISSIONS[resource]?.[role] ?? [];
    for (const ref of KUBERNETES_RESOURCES[resource] ?? []) {
      const actions = allowed.filter((action) => !ref.actions || ref.actions.includes(action));
      if (!actions.length) continue;
      for (const apiGroup of ref.apiGroups) {
        for (const name of ref.resources) {
          const key = `${apiGroup}\0${name}`;
          const verbs = byResource.get(key) ?? new Set<string>();
          for (const action of actions) for (const verb of KUBERNETES_VERBS[action]) verbs.add(verb);
          byResource.set(key, verbs);
        }
      }
    }
  }
  return byResource;
}

const byCodeUnits = (a: string, b: string) => (a < b ? -1 : a > b ? 1 : 0);

/**
 * The rules of the Role mirroring `role` (R-AU-6): the union over the platform resources the role may
 * act on of their Kubernetes resources with the verbs of the allowed actions. Rights on one
 * Kubernetes resource coming from several platform resources are merged; resources of one API group
 * with the same verbs share a rule. Deterministic: rules sorted by API group, then resources; verbs in
 * the order read, create, update, delete.
 */
export function kubernetesRoleRules(role: TenantPlatformRole): PolicyRule[] {
  if (!TENANT_PLATFORM_ROLES.includes(role)) {
    throw new Error(
      `kubernetesRoleRules: "${String(role)}" is not a tenant role; only tenant roles are mirrored`,
    );
  }
  const rules = new Map<string, PolicyRule>();
  for (const [key, verbSet] of grants(role)) {
    const [apiGroup, resource] = key.split('\0') as [string, string];
    const verbs = VERB_ORDER.filter((verb) => verbSet.has(verb));
    const ruleKey = `${apiGroup}\0${verbs.join(',')}`;
    const rule = rules.get(ruleKey) ?? { apiGroups: [apiGroup], resources: [], verbs };
    rule.resources.push(resource);
    rules.set(ruleKey, rule);
  }
  const sorted = [...rules.values()].map((rule) => ({
    ...rule,
    resources: [...rule.resources].sort(byCodeUnits),
  }));
  return sorted.sort(
    (a, b) =>
      byCodeUnits(a.apiGroups[0]!, b.apiGroups[0]!) ||
      byCodeUnits(a.resources[0]!, b.resources[0]!) ||
      byCodeUnits(a.verbs.join(','), b.verbs.join(',')),
  );
}

/**
 * The mirrored rights as Markdown (docs/resources.md): one row per Kubernetes resource, one column per
 * tenant role, the verbs in each cell.
 */
export function renderKubernetesRbacTable(): string {
  const perRole = new Map(TENANT_PLATFORM_ROLES.map((role) => [role, grants(role)]));
  const keys = [...new Set([...perRole.values()].flatMap((g) => [...g.keys()]))].sort(byCodeUnits);
  const cell = (verbs: Set<string> | undefined) => {
    if (!verbs?.size) return '—';
    const ordered = VERB_ORDER.filter((verb) => verbs.has(verb));
    return ordered.length === VERB_ORDER.length ? 'all' : ordered.join(', ');
  };
  const header = [
    'resource (API group)',
    ...TENANT_PLATFORM_ROLES.map((role) => `\`${kubernetesRoleName(role)}\``),
  ];
  const rows = keys.map((key) => {
    const [apiGroup, resource] = key.split('\0') as [string, string];
    return [
      `\`${resource}\` (${apiGroup || 'core'})`,
      ...TENANT_PLATFORM_ROLES.map((role) => cell(perRole.get(role)!.get(key))),
    ];
  });
  const widths = header.map((_, i) => Math.max(...[header, ...rows].map((r) => r[i]!.length)));
  const line = (cells: string[]) => `| ${cells.map((c, i) => c.padEnd(widths[i]!)).join(' | ')} |`;
  return [line(header), `| ${widths.map((w) => '-'.repeat(w)).join(' | ')} |`, ...rows.map(line)].join('\n');
}
