/**
 * Where each kind lives in the REST API. Built-in kinds are known up front (no discovery round trip
 * for watches and subresources); other kinds (CRDs) are resolved through the cluster's discovery.
 */

export interface OwnerReference {
  apiVersion: string;
  kind: string;
  name: string;
  uid: string;
  controller?: boolean;
  blockOwnerDeletion?: boolean;
}

export interface KubeObjectMeta {
  name?: string;
  generateName?: string;
  namespace?: string;
  uid?: string;
  resourceVersion?: string;
  generation?: number;
  creationTimestamp?: string;
  deletionTimestamp?: string;
  deletionGracePeriodSeconds?: number;
  labels?: Record<string, string>;
  annotations?: Record<string, string>;
  finalizers?: string[];
  ownerReferences?: OwnerReference[];
  managedFields?: unknown[];
}

/** Any Kubernetes object. Typed views (V1Deployment …) from client-node are assignable to it. */
export interface KubeObject {
  apiVersion?: string;
  kind?: string;
  metadata?: KubeObjectMeta;
  [field: string]: unknown;
}

/** Names one object (or, without name, one collection). */
export interface ObjectRef {
  apiVersion: string;
  kind: string;
  namespace?: string;
  name: string;
}

export interface ResourceInfo {
  apiVersion: string;
  kind: string;
  /** Plural resource name in URLs. */
  plural: string;
  namespaced: boolean;
}

const BUILT_IN: Array<[apiVersion: string, kind: string, plural: string, namespaced: boolean]> = [
  ['v1', 'Namespace', 'namespaces', false],
  ['v1', 'Node', 'nodes', false],
  ['v1', 'PersistentVolume', 'persistentvolumes', false],
  ['v1', 'Pod', 'pods', true],
  ['v1', 'Service', 'services', true],
  ['v1', 'Endpoints', 'endpoints', true],
  ['v1', 'ConfigMap', 'configmaps', true],
  ['v1', 'Secret', 'secrets', true],
  ['v1', 'ServiceAccount', 'serviceaccounts', true],
  ['v1', 'PersistentVolumeClaim', 'persistentvolumeclaims', true],
  ['v1', 'Event', 'events', true],
  ['v1', 'ResourceQuota', 'resourcequotas', true],
  ['v1', 'LimitRange', 'limitranges', true],
  ['apps/v1', 'Deployment', 'deployments', true],
  ['apps/v1', 'ReplicaSet', 'replicasets', true],
  ['apps/v1', 'StatefulSet', 'statefulsets', true],
  ['apps/v1', 'DaemonSet', 'daemonsets', true],
  ['networking.k8s.io/v1', 'NetworkPolicy', 'networkpolicies', true],
  ['rbac.authorization.k8s.io/v1', 'Role', 'roles', true],
  ['rbac.authorization.k8s.io/v1', 'RoleBinding', 'rolebindings', true],
  ['rbac.authorization.k8s.io/v1', 'ClusterRole', 'clusterroles', false],
  ['rbac.authorization.k8s.io/v1', 'ClusterRoleBinding', 'clusterrolebindings', false],
  ['storage.k8s.io/v1', 'StorageClass', 'storageclasses', false],
  ['storage.k8s.io/v1', 'CSIDriver', 'csidrivers', false],
  ['apiextensions.k8s.io/v1', 'CustomResourceDefinition', 'customresourcedefinitions', false],
  ['coordination.k8s.io/v1', 'Lease', 'leases', true],
  ['batch/v1', 'Job', 'jobs', true],
  ['k8s.cni.cncf.io/v1', 'NetworkAttachmentDefinition', 'network-attachment-definitions', true],
];

const builtIn = new Map<string, ResourceInfo>(
  BUILT_IN.map(([apiVersion, kind, plural, namespaced]) => [
    `${apiVersion}/${kind}`,
    { apiVersion, kind, plural, namespaced },
  ]),
);

export function builtInResource(apiVersion: string, kind: string): ResourceInfo | undefined {
  return builtIn.get(`${apiVersion}/${kind}`);
}

/** `/api/v1` or `/apis/<group>/<version>`. */
export function groupVersionPath(apiVersion: string): string {
  return apiVersion.includes('/') ? `/apis/${apiVersion}` : `/api/${apiVersion}`;
}

/** The collection path (no name) or the object path, optionally with a subresource. */
export function resourcePath(
  resource: ResourceInfo,
  namespace: string | undefined,
  name?: string,
  subresource?: string,
): string {
  let path = groupVersionPath(resource.apiVersion);
  if (resource.namespaced && namespace) path += `/namespaces/${encodeURIComponent(namespace)}`;
  path += `/${resource.plural}`;
  if (name !== undefined) path += `/${encodeURIComponent(name)}`;
  if (subresource) path += `/${subresource}`;
  return path;
}

export function refOf(object: KubeObject): ObjectRef {
  if (!object.apiVersion || !object.kind || !object.metadata?.name) {
    throw new TypeError('a Kubernetes object needs apiVersion, kind and metadata.name');
  }
  return {
    apiVersion: object.apiVersion,
    kind: object.kind,
    namespace: object.metadata.namespace,
    name: object.metadata.name,
  };
}

export function describeRef(ref: Pick<ObjectRef, 'kind' | 'namespace' | 'name'>): string {
  return ref.namespace ? `${ref.kind} ${ref.namespace}/${ref.name}` : `${ref.kind} ${ref.name}`;
}
