import type { GroupResource } from './api-status';
import type { JsonObject } from './json';

/** How `metadata.generation` moves, per the real registry strategies. */
export type GenerationPolicy =
  /** No generation at all (pods, config maps, services …). */
  | 'none'
  /** 1 on create, +1 when `spec` changes. */
  | 'spec'
  /** Deployments: spec or annotations (annotations are copied to their replica sets). */
  | 'specOrAnnotations'
  /** Custom resources: anything but metadata and (with a status subresource) status. */
  | 'allButMetadata';

/** Which name validation applies (real messages differ between them). */
export type NameRule = 'subdomain' | 'label' | 'dns1035' | 'pathSegment';

/** One served resource (a kind at one group version). */
export interface ResourceType {
  /** Storage identity, independent of the version: `<group>/<plural>` (core group empty). */
  readonly id: string;
  readonly group: string;
  readonly version: string;
  /** `v1` or `<group>/<version>`. */
  readonly apiVersion: string;
  readonly kind: string;
  readonly listKind: string;
  readonly plural: string;
  readonly singular: string;
  readonly namespaced: boolean;
  readonly shortNames: readonly string[];
  readonly categories: readonly string[];
  readonly verbs: readonly string[];
  /** `/status` is a subresource: writes to the main resource keep the stored status. */
  readonly statusSubresource: boolean;
  /** `/scale` (autoscaling/v1 Scale over spec.replicas). */
  readonly scaleSubresource: boolean;
  /** Extra subresources listed in discovery only (name → kind, verbs). */
  readonly discoveryOnly: ReadonlyArray<{
    name: string;
    kind: string;
    verbs: string[];
    group?: string;
    version?: string;
  }>;
  readonly generation: GenerationPolicy;
  /** PUT of a missing object creates it (endpoints, leases, RBAC …), else 404. */
  readonly allowCreateOnUpdate: boolean;
  /** DELETE answers with the object (pods, namespaces) rather than a Status. */
  readonly deleteReturnsObject: boolean;
  readonly names: NameRule;
  /**
   * Top-level fields of a built-in kind besides apiVersion, kind and metadata; others are dropped
   * silently, as decoding into the Go type does. Undefined for custom resources (their schema
   * prunes).
   */
  readonly fields?: readonly string[];
  /** Set for custom resources: the CRD's name and the version's structural schema. */
  readonly custom?: { crdName: string; schema: JsonObject | undefined };
}

export function groupResource(type: Pick<ResourceType, 'group' | 'plural'>): GroupResource {
  return { group: type.group, resource: type.plural };
}

const STANDARD_VERBS = ['create', 'delete', 'deletecollection', 'get', 'list', 'patch', 'update', 'watch'];
const NO_COLLECTION_DELETE = ['create', 'delete', 'get', 'list', 'patch', 'update', 'watch'];
/** Custom resources list their verbs in this order in 1.20 discovery. */
export const CUSTOM_RESOURCE_VERBS = [
  'delete',
  'deletecollection',
  'get',
  'list',
  'patch',
  'create',
  'update',
  'watch',
];

interface BuiltInSpec {
  apiVersion: string;
  kind: string;
  plural: string;
  namespaced: boolean;
  shortNames?: string[];
  categories?: string[];
  status?: boolean;
  scale?: boolean;
  generation?: GenerationPolicy;
  allowCreateOnUpdate?: boolean;
  deleteReturnsObject?: boolean;
  names?: NameRule;
  fields?: string[];
  verbs?: string[];
  discoveryOnly?: ResourceType['discoveryOnly'];
}

const EVENT_FIELDS = [
  'involvedObject',
  'reason',
  'message',
  'source',
  'firstTimestamp',
  'lastTimestamp',
  'count',
  'type',
  'eventTime',
  'series',
  'action',
  'related',
  'reportingComponent',
  'reportingInstance',
];
const STORAGE_CLASS_FIELDS = [
  'provisioner',
  'parameters',
  'reclaimPolicy',
  'mountOptions',
  'allowVolumeExpansion',
  'volumeBindingMode',
  'allowedTopologies',
];

const BUILT_IN: BuiltInSpec[] = [
  {
    apiVersion: 'v1',
    kind: 'Namespace',
    plural: 'namespaces',
    namespaced: false,
    shortNames: ['ns'],
    status: true,
    deleteReturnsObject: true,
    names: 'label',
    verbs: NO_COLLECTION_DELETE,
    discoveryOnly: [{ name: 'finalize', kind: 'Namespace', verbs: ['update'] }],
  },
  { apiVersion: 'v1', kind: 'Node', plural: 'nodes', namespaced: false, shortNames: ['no'], status: true },
  {
    apiVersion: 'v1',
    kind: 'PersistentVolume',
    plural: 'persistentvolumes',
    namespaced: false,
    shortNames: ['pv'],
    status: true,
  },
  {
    apiVersion: 'v1',
    kind: 'Pod',
    plural: 'pods',
    namespaced: true,
    shortNames: ['po'],
    categories: ['all'],
    status: true,
    deleteReturnsObject: true,
    discoveryOnly: [{ name: 'binding', kind: 'Binding', verbs: ['create'] }],
  },
  {
    apiVersion: 'v1',
    kind: 'Service',
    plural: 'services',
    namespaced: true,
    shortNames: ['svc'],
    categories: ['all'],
    status: true,
    names: 'dns1035',
    verbs: NO_COLLECTION_DELETE,
  },
  {
    apiVersion: 'v1',
    kind: 'Endpoints',
    fields: ['subsets'],
    plural: 'endpoints',
    namespaced: true,
    shortNames: ['ep'],
    allowCreateOnUpdate: true,
  },
  {
    apiVersion: 'v1',
    kind: 'ConfigMap',
    fields: ['data', 'binaryData', 'immutable'],
    plural: 'configmaps',
    namespaced: true,
    shortNames: ['cm'],
  },
  {
    apiVersion: 'v1',
    kind: 'Secret',
    fields: ['data', 'stringData', 'type', 'immutable'],
    plural: 'secrets',
    namespaced: true,
  },
  {
    apiVersion: 'v1',
    kind: 'ServiceAccount',
    fields: ['secrets', 'imagePullSecrets', 'automountServiceAccountToken'],
    plural: 'serviceaccounts',
    namespaced: true,
    shortNames: ['sa'],
  },
  {
    apiVersion: 'v1',
    kind: 'PersistentVolumeClaim',
    plural: 'persistentvolumeclaims',
    namespaced: true,
    shortNames: ['pvc'],
    status: true,
  },
  {
    apiVersion: 'v1',
    kind: 'Event',
    fields: EVENT_FIELDS,
    plural: 'events',
    namespaced: true,
    shortNames: ['ev'],
    allowCreateOnUpdate: true,
  },
  {
    apiVersion: 'v1',
    kind: 'ResourceQuota',
    plural: 'resourcequotas',
    namespaced: true,
    shortNames: ['quota'],
    status: true,
  },
  {
    apiVersion: 'v1',
    kind: 'LimitRange',
    fields: ['spec'],
    plural: 'limitranges',
    namespaced: true,
    shortNames: ['limits'],
    allowCreateOnUpdate: true,
  },
  {
    apiVersion: 'apps/v1',
    kind: 'Deployment',
    plural: 'deployments',
    namespaced: true,
    shortNames: ['deploy'],
    categories: ['all'],
    status: true,
    scale: true,
    generation: 'specOrAnnotations',
  },
  {
    apiVersion: 'apps/v1',
    kind: 'ReplicaSet',
    plural: 'replicasets',
    namespaced: true,
    shortNames: ['rs'],
    categories: ['all'],
    status: true,
    scale: true,
    generation: 'spec',
  },
  {
    apiVersion: 'apps/v1',
    kind: 'StatefulSet',
    plural: 'statefulsets',
    namespaced: true,
    shortNames: ['sts'],
    categories: ['all'],
    status: true,
    scale: true,
    generation: 'spec',
  },
  {
    apiVersion: 'apps/v1',
    kind: 'DaemonSet',
    plural: 'daemonsets',
    namespaced: true,
    shortNames: ['ds'],
    categories: ['all'],
    status: true,
    generation: 'spec',
  },
  {
    apiVersion: 'networking.k8s.io/v1',
    kind: 'NetworkPolicy',
    fields: ['spec'],
    plural: 'networkpolicies',
    namespaced: true,
    shortNames: ['netpol'],
    generation: 'spec',
  },
  {
    apiVersion: 'rbac.authorization.k8s.io/v1',
    kind: 'Role',
    fields: ['rules'],
    plural: 'roles',
    namespaced: true,
    allowCreateOnUpdate: true,
    names: 'pathSegment',
  },
  {
    apiVersion: 'rbac.authorization.k8s.io/v1',
    kind: 'RoleBinding',
    fields: ['subjects', 'roleRef'],
    plural: 'rolebindings',
    namespaced: true,
    allowCreateOnUpdate: true,
    names: 'pathSegment',
  },
  {
    apiVersion: 'rbac.authorization.k8s.io/v1',
    kind: 'ClusterRole',
    fields: ['rules', 'aggregationRule'],
    plural: 'clusterroles',
    namespaced: false,
    allowCreateOnUpdate: true,
    names: 'pathSegment',
  },
  {
    apiVersion: 'rbac.authorization.k8s.io/v1',
    kind: 'ClusterRoleBinding',
    fields: ['subjects', 'roleRef'],
    plural: 'clusterrolebindings',
    namespaced: false,
    allowCreateOnUpdate: true,
    names: 'pathSegment',
  },
  {
    apiVersion: 'storage.k8s.io/v1',
    kind: 'StorageClass',
    fields: STORAGE_CLASS_FIELDS,
    plural: 'storageclasses',
    namespaced: false,
    shortNames: ['sc'],
  },
  {
    apiVersion: 'storage.k8s.io/v1',
    kind: 'CSIDriver',
    fields: ['spec'],
    plural: 'csidrivers',
    namespaced: false,
  },
  {
    apiVersion: 'apiextensions.k8s.io/v1',
    kind: 'CustomResourceDefinition',
    plural: 'customresourcedefinitions',
    namespaced: false,
    shortNames: ['crd', 'crds'],
    status: true,
    generation: 'spec',
  },
  {
    apiVersion: 'coordination.k8s.io/v1',
    kind: 'Lease',
    fields: ['spec'],
    plural: 'leases',
    namespaced: true,
    allowCreateOnUpdate: true,
  },
  {
    apiVersion: 'batch/v1',
    kind: 'Job',
    plural: 'jobs',
    namespaced: true,
    categories: ['all'],
    status: true,
  },
];

function splitApiVersion(apiVersion: string): { group: string; version: string } {
  const slash = apiVersion.indexOf('/');
  return slash < 0
    ? { group: '', version: apiVersion }
    : { group: apiVersion.slice(0, slash), version: apiVersion.slice(slash + 1) };
}

export { splitApiVersion };

export function builtInTypes(): ResourceType[] {
  return BUILT_IN.map((spec) => {
    const { group, version } = splitApiVersion(spec.apiVersion);
    return {
      id: `${group}/${spec.plural}`,
      group,
      version,
      apiVersion: spec.apiVersion,
      kind: spec.kind,
      listKind: `${spec.kind}List`,
      plural: spec.plural,
      singular: '',
      namespaced: spec.namespaced,
      shortNames: spec.shortNames ?? [],
      categories: spec.categories ?? [],
      verbs: spec.verbs ?? STANDARD_VERBS,
      statusSubresource: spec.status ?? false,
      scaleSubresource: spec.scale ?? false,
      discoveryOnly: spec.discoveryOnly ?? [],
      generation: spec.generation ?? 'none',
      allowCreateOnUpdate: spec.allowCreateOnUpdate ?? false,
      deleteReturnsObject: spec.deleteReturnsObject ?? false,
      names: spec.names ?? 'subdomain',
      fields: spec.fields ?? ['spec', 'status'],
    };
  });
}

/** Group order of the real `/apis` list (built-in groups first, then custom ones by name). */
export const BUILT_IN_GROUP_ORDER = [
  'apps',
  'batch',
  'networking.k8s.io',
  'rbac.authorization.k8s.io',
  'storage.k8s.io',
  'apiextensions.k8s.io',
  'coordination.k8s.io',
];
