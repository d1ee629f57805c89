/**
 * The Kubernetes objects that make a tenant's network an environment (R-NW-1, R-NW-3, seed 000):
 * a labelled namespace, the flat network's NetworkAttachmentDefinition (macvlan or bridge, IPAM from
 * the subnet, no overlay), default NetworkPolicies, the tenant's role bindings, the platform roles
 * mirrored from Keystone (R-AU-6), the registry pull secret, a resource quota and a limit range.
 * Plain data in, server-side-apply-ready objects out: the reconciler (issue #4) applies them; nothing
 * here talks to a cluster.
 */
import { createHash } from 'node:crypto';
import {
  kubernetesRoleName,
  kubernetesRoleRules,
  TENANT_PLATFORM_ROLES,
  type TenantPlatformRole,
} from '@stratum/authz';
import type { KubeObject } from '@stratum/kube';

export const ENVIRONMENT_LABELS = {
  tenant: 'stratum.io/tenant',
  network: 'stratum.io/network',
  securityDomain: 'stratum.io/security-domain',
  isolationDomain: 'stratum.io/isolation-domain',
  managedBy: 'app.kubernetes.io/managed-by',
  /** On the mirrored Roles and RoleBindings: the tenant role they mirror (R-AU-6). */
  platformRole: 'stratum.io/platform-role',
} as const;

/** The Multus attachment every pod of the environment names in `k8s.v1.cni.cncf.io/networks`. */
export const TENANT_NETWORK_ATTACHMENT = 'tenant-network';

export interface EnvironmentNetwork {
  id: string;
  name: string;
  cidr: string;
  gateway: string;
  vlan?: number;
  /** Host interface the pods' interfaces attach to (macvlan); without it, a Linux bridge. */
  parentInterface?: string;
  securityDomain: string;
  isolationDomain: string;
}

export interface EnvironmentTenant {
  id: string;
  name: string;
  /** Keystone groups mirrored into RBAC: who may change and who may only read (R-AU-6). */
  developerGroups: string[];
  viewerGroups: string[];
  quota: { cpu: string; memory: string; pods: number; storage?: string };
  /** Defaults for containers that state no requests/limits. */
  containerDefaults: { cpuRequest: string; memoryRequest: string; cpuLimit: string; memoryLimit: string };
}

/** A Keystone user holding tenant roles (from the gateway's `tenant.members-changed`). */
export interface EnvironmentMember {
  userId: string;
  /** The name Kubernetes' Keystone authentication webhook reports for the user: the RBAC subject. */
  userName: string;
  roles: readonly TenantPlatformRole[];
}

export interface RegistryPullCredentials {
  server: string;
  username: string;
  password: string;
}

/** A DNS label: lowercase, [a-z0-9-], ≤ 63; long inputs keep a hash so names stay unique. */
export function dnsLabel(text: string, max = 63): string {
  const clean = text
    .toLowerCase()
    .replace(/[^a-z0-9-]+/g, '-')
    .replace(/^-+|-+$/g, '')
    .replace(/-{2,}/g, '-');
  if (clean.length <= max && clean.length > 0) return clean;
  const hash = createHash('sha256').update(text).digest('hex').slice(0, 8);
  return `${clean.slice(0, max - 9).replace(/-+$/, '')}-${hash}`;
}

/** The environment's namespace: one per tenant and network. */
export function environmentNamespace(
  tenant: Pick<EnvironmentTenant, 'name'>,
  network: Pick<EnvironmentNetwork, 'name'>,
): string {
  return dnsLabel(`${tenant.name}-${network.name}`);
}

function cniConfig(network: EnvironmentNetwork): string {
  const ipam = {
    type: 'whereabouts',
    range: network.cidr,
    gateway: network.gateway,
    // The gateway is the network's router, never a pod.
    exclude: [`${network.gateway}/${network.gateway.includes(':') ? 128 : 32}`],
    routes: [{ dst: network.gateway.includes(':') ? '::/0' : '0.0.0.0/0', gw: network.gateway }],
  };
  const master = network.parentInterface
    ? network.vlan
      ? `${network.parentInterface}.${network.vlan}`
      : network.parentInterface
    : undefined;
  const plugin = master
    ? { type: 'macvlan', master, mode: 'bridge', ipam }
    : {
        type: 'bridge',
        bridge: network.vlan ? `br-vlan${network.vlan}` : `br-${dnsLabel(network.name, 12)}`,
        ipam,
      };
  return JSON.stringify({ cniVersion: '0.3.1', name: dnsLabel(network.name), ...plugin });
}

export interface EnvironmentManifestInput {
  tenant: EnvironmentTenant;
  network: EnvironmentNetwork;
  /** The tenant's members; none until the gateway published them. */
  members: readonly EnvironmentMember[];
  registry: RegistryPullCredentials;
}

const RBAC_API_GROUP = 'rbac.authorization.k8s.io';

/**
 * Per tenant role (R-AU-6), a Role `stratum-<role>` with the rules derived from the permission table
 * and a RoleBinding of the same name binding it to the members holding the role (user names, sorted,
 * once each). Every role is always there — without subjects when nobody holds it — so the set of
 * objects does not depend on the members, and a member who lost a role loses it at the next apply.
 */
export function mirroredRoles(namespace: string, members: readonly EnvironmentMember[]): KubeObject[] {
  return TENANT_PLATFORM_ROLES.flatMap((role): KubeObject[] => {
    const name = kubernetesRoleName(role);
    const metadata = () => ({
      name,
      namespace,
      labels: { [ENVIRONMENT_LABELS.managedBy]: 'stratum', [ENVIRONMENT_LABELS.platformRole]: role },
    });
    const users = [...new Set(members.filter((m) => m.roles.includes(role)).map((m) => m.userName))].sort(
      (a, b) => (a < b ? -1 : a > b ? 1 : 0),
    );
    return [
      {
        apiVersion: `${RBAC_API_GROUP}/v1`,
        kind: 'Role',
        metadata: metadata(),
        rules: kubernetesRoleRules(role),
      },
      {
        apiVersion: `${RBAC_API_GROUP}/v1`,
        kind: 'RoleBinding',
        metadata: metadata(),
        roleRef: { apiGroup: RBAC_API_GROUP, kind: 'Role', name },
        // No `subjects` at all when nobody holds the role: an empty list is stored as absent, so
        // applying `[]` would differ from the stored object on every apply (never a no-op). Omitting a
        // field this manager applied before removes it (server-side apply), which empties the binding.
        ...(users.length
          ? { subjects: users.map((user) => ({ kind: 'User', apiGroup: RBAC_API_GROUP, name: user })) }
          : {}),
      },
    ];
  });
}

/** Every object of the environment, in the order they should be applied (namespace first). */
export function environmentManifests({
  tenant,
  network,
  members,
  registry,
}: EnvironmentManifestInput): KubeObject[] {
  const namespace = environmentNamespace(tenant, network);
  const labels = {
    [ENVIRONMENT_LABELS.tenant]: dnsLabel(tenant.id),
    [ENVIRONMENT_LABELS.network]: dnsLabel(network.id),
    [ENVIRONMENT_LABELS.securityDomain]: dnsLabel(network.securityDomain),
    [ENVIRONMENT_LABELS.isolationDomain]: dnsLabel(network.isolationDomain),
    [ENVIRONMENT_LABELS.managedBy]: 'stratum',
  };
  const meta = (name: string) => ({ name, namespace, labels: { [ENVIRONMENT_LABELS.managedBy]: 'stratum' } });
  const dockerConfig = {
    auths: {
      [registry.server]: {
        username: registry.username,
        password: registry.password,
        auth: Buffer.from(`${registry.username}:${registry.password}`).toString('base64'),
      },
    },
  };
  const roleBinding = (name: string, clusterRole: string, groups: string[]): KubeObject => ({
    apiVersion: 'rbac.authorization.k8s.io/v1',
    kind: 'RoleBinding',
    metadata: meta(name),
    roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'ClusterRole', name: clusterRole },
    subjects: groups.map((group) => ({ apiGroup: 'rbac.authorization.k8s.io', kind: 'Group', name: group })),
  });
  return [
    {
      apiVersion: 'v1',
      kind: 'Namespace',
      metadata: {
        name: namespace,
        labels,
        annotations: { 'stratum.io/tenant-name': tenant.name, 'stratum.io/network-name': network.name },
      },
    },
    {
      apiVersion: 'k8s.cni.cncf.io/v1',
      kind: 'NetworkAttachmentDefinition',
      metadata: meta(TENANT_NETWORK_ATTACHMENT),
      spec: { config: cniConfig(network) },
    },
    // Ingress: nothing comes in unless a rule below lets it.
    {
      apiVersion: 'networking.k8s.io/v1',
      kind: 'NetworkPolicy',
      metadata: meta('default-deny-ingress'),
      spec: { podSelector: {}, policyTypes: ['Ingress'] },
    },
    // From the environment itself, and from the tenant's other (linked) environments (R-NW-4).
    {
      apiVersion: 'networking.k8s.io/v1',
      kind: 'NetworkPolicy',
      metadata: meta('allow-tenant-environments'),
      spec: {
        podSelector: {},
        policyTypes: ['Ingress'],
        ingress: [
          {
            from: [
              { podSelector: {} },
              { namespaceSelector: { matchLabels: { [ENVIRONMENT_LABELS.tenant]: dnsLabel(tenant.id) } } },
            ],
          },
        ],
      },
    },
    ...(tenant.developerGroups.length
      ? [roleBinding('tenant-developers', 'edit', tenant.developerGroups)]
      : []),
    ...(tenant.viewerGroups.length ? [roleBinding('tenant-viewers', 'view', tenant.viewerGroups)] : []),
    ...mirroredRoles(namespace, members),
    {
      apiVersion: 'v1',
      kind: 'Secret',
      metadata: meta('registry-pull'),
      type: 'kubernetes.io/dockerconfigjson',
      // `data`, not `stringData`: write-only stringData would make every apply a change.
      data: { '.dockerconfigjson': Buffer.from(JSON.stringify(dockerConfig)).toString('base64') },
    },
    // Pods pull from the tenant's registry without naming the secret.
    {
      apiVersion: 'v1',
      kind: 'ServiceAccount',
      metadata: meta('default'),
      imagePullSecrets: [{ name: 'registry-pull' }],
    },
    {
      apiVersion: 'v1',
      kind: 'ResourceQuota',
      metadata: meta('tenant-quota'),
      spec: {
        hard: {
          'requests.cpu': tenant.quota.cpu,
          'requests.memory': tenant.quota.memory,
          'limits.cpu': tenant.quota.cpu,
          'limits.memory': tenant.quota.memory,
          pods: String(tenant.quota.pods),
          ...(tenant.quota.storage ? { 'requests.storage': tenant.quota.storage } : {}),
        },
      },
    },
    {
      apiVersion: 'v1',
      kind: 'LimitRange',
      metadata: meta('container-defaults'),
      spec: {
        limits: [
          {
            type: 'Container',
            defaultRequest: {
              cpu: tenant.containerDefaults.cpuRequest,
              memory: tenant.containerDefaults.memoryRequest,
            },
            default: { cpu: tenant.containerDefaults.cpuLimit, memory: tenant.containerDefaults.memoryLimit },
          },
        ],
      },
    },
  ];
}
