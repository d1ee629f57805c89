import { getArray, getObject, getString, isObject, type JsonObject } from './json';
import type { StoredObject } from './object-meta';
import type { ResourceType } from './resource-types';

/**
 * Defaulting as the real API server does it on every write (the SetDefaults_* functions), for the
 * fields clients commonly read back: pod and container policies, workload strategies, service
 * types and ports. Fields set here are owned by the writer in managedFields; what admission and
 * the create strategies add is not (see prepareForCreate). Mutates the (fresh) object it is given.
 */
export function applyDefaults(type: ResourceType, object: StoredObject, creating: boolean): void {
  defaultConditionTimes(type, object);
  switch (type.id) {
    case '/pods':
      defaultPodSpec(ensure(object, 'spec'), true);
      break;
    case '/namespaces':
      if (creating) ensure(object, 'status')['phase'] ??= 'Active';
      break;
    case 'apps/deployments': {
      const spec = ensure(object, 'spec');
      spec['replicas'] ??= 1;
      const strategy = ensureIn(spec, 'strategy');
      strategy['type'] ??= 'RollingUpdate';
      if (strategy['type'] === 'RollingUpdate') {
        const rolling = ensureIn(strategy, 'rollingUpdate');
        rolling['maxUnavailable'] ??= '25%';
        rolling['maxSurge'] ??= '25%';
      }
      spec['revisionHistoryLimit'] ??= 10;
      spec['progressDeadlineSeconds'] ??= 600;
      defaultTemplate(spec);
      break;
    }
    case 'apps/replicasets': {
      const spec = ensure(object, 'spec');
      spec['replicas'] ??= 1;
      defaultTemplate(spec);
      break;
    }
    case 'apps/statefulsets': {
      const spec = ensure(object, 'spec');
      spec['replicas'] ??= 1;
      spec['podManagementPolicy'] ??= 'OrderedReady';
      const strategy = ensureIn(spec, 'updateStrategy');
      strategy['type'] ??= 'RollingUpdate';
      if (strategy['type'] === 'RollingUpdate') ensureIn(strategy, 'rollingUpdate')['partition'] ??= 0;
      spec['revisionHistoryLimit'] ??= 10;
      defaultTemplate(spec);
      break;
    }
    case 'apps/daemonsets': {
      const spec = ensure(object, 'spec');
      const strategy = ensureIn(spec, 'updateStrategy');
      strategy['type'] ??= 'RollingUpdate';
      if (strategy['type'] === 'RollingUpdate') ensureIn(strategy, 'rollingUpdate')['maxUnavailable'] ??= 1;
      spec['revisionHistoryLimit'] ??= 10;
      defaultTemplate(spec);
      break;
    }
    case 'batch/jobs': {
      const spec = ensure(object, 'spec');
      spec['parallelism'] ??= 1;
      spec['completions'] ??= 1;
      spec['backoffLimit'] ??= 6;
      defaultTemplate(spec);
      break;
    }
    case '/services':
      defaultService(ensure(object, 'spec'));
      break;
    case '/secrets': {
      object['type'] ??= 'Opaque';
      const stringData = getObject(object, ['stringData']);
      if (stringData) {
        const data = { ...(getObject(object, ['data']) ?? {}) };
        for (const [key, value] of Object.entries(stringData))
          data[key] = Buffer.from(String(value)).toString('base64');
        object['data'] = data;
        delete object['stringData'];
      }
      break;
    }
    case '/persistentvolumeclaims':
      ensure(object, 'spec')['volumeMode'] ??= 'Filesystem';
      break;
    case '/persistentvolumes': {
      const spec = ensure(object, 'spec');
      spec['persistentVolumeReclaimPolicy'] ??= 'Retain';
      spec['volumeMode'] ??= 'Filesystem';
      const hostPath = getObject(spec, ['hostPath']);
      if (hostPath) hostPath['type'] ??= '';
      break;
    }
    case '/endpoints':
      for (const subset of getArray(object, ['subsets']) ?? []) {
        for (const port of getArray(subset, ['ports']) ?? []) if (isObject(port)) port['protocol'] ??= 'TCP';
      }
      break;
    case 'storage.k8s.io/storageclasses':
      object['reclaimPolicy'] ??= 'Delete';
      object['volumeBindingMode'] ??= 'Immediate';
      break;
    case 'storage.k8s.io/csidrivers': {
      const spec = ensure(object, 'spec');
      spec['attachRequired'] ??= true;
      spec['podInfoOnMount'] ??= false;
      // The CSIVolumeFSGroupPolicy gate is beta (on) in 1.20.
      spec['fsGroupPolicy'] ??= 'ReadWriteOnceWithFSType';
      const modes = getArray(spec, ['volumeLifecycleModes']);
      if (!modes || modes.length === 0) spec['volumeLifecycleModes'] = ['Persistent'];
      break;
    }
    case 'apiextensions.k8s.io/customresourcedefinitions': {
      const spec = ensure(object, 'spec');
      const names = ensureIn(spec, 'names');
      const kind = getString(names, ['kind']);
      if (kind) {
        names['singular'] ??= kind.toLowerCase();
        names['listKind'] ??= `${kind}List`;
      }
      spec['conversion'] ??= { strategy: 'None' };
      if (creating) {
        const versions = getArray(spec, ['versions']) ?? [];
        const storage = versions.find((v) => isObject(v) && v['storage'] === true);
        if (isObject(storage) && typeof storage['name'] === 'string')
          ensure(object, 'status')['storedVersions'] = [storage['name']];
      }
      break;
    }
  }
}

export const NOT_READY_TAINT = 'node.kubernetes.io/not-ready';

/**
 * What admission plugins and the create strategies add to a new object: the pod's service account
 * and default tolerations, the namespace finalizer, the storage protection finalizers, the not-ready taint on nodes, a job's selector,
 * and the initial status (kinds with a status subresource ignore the status sent on create, nodes
 * excepted as in the real node strategy).
 */
export function prepareForCreate(type: ResourceType, object: StoredObject): void {
  switch (type.id) {
    case '/pods':
      admitPod(ensure(object, 'spec'));
      break;
    case '/namespaces': {
      const spec = ensure(object, 'spec');
      const finalizers = getArray(spec, ['finalizers']) ?? [];
      if (!finalizers.includes('kubernetes')) spec['finalizers'] = [...finalizers, 'kubernetes'];
      break;
    }
    case '/nodes': {
      const spec = ensure(object, 'spec');
      const taints = getArray(spec, ['taints']) ?? [];
      // TaintNodesByCondition: a new node is not ready until its Ready condition says so (the node
      // lifecycle controller then lifts the taint).
      if (!taints.some((t) => isObject(t) && t['key'] === NOT_READY_TAINT)) {
        spec['taints'] = [...taints, { key: NOT_READY_TAINT, effect: 'NoSchedule' }];
      }
      // NodeStatus' zero-valued structs, which the real server always serializes.
      const status = ensure(object, 'status');
      status['daemonEndpoints'] ??= { kubeletEndpoint: { Port: 0 } };
      status['nodeInfo'] ??= {
        machineID: '',
        systemUUID: '',
        bootID: '',
        kernelVersion: '',
        osImage: '',
        containerRuntimeVersion: '',
        kubeletVersion: '',
        kubeProxyVersion: '',
        operatingSystem: '',
        architecture: '',
      };
      break;
    }
    case '/persistentvolumeclaims':
    case '/persistentvolumes': {
      // StorageObjectInUseProtection admission (on by default in 1.20).
      const finalizer =
        type.id === '/persistentvolumes' ? 'kubernetes.io/pv-protection' : 'kubernetes.io/pvc-protection';
      const finalizers = object.metadata.finalizers ?? [];
      if (!finalizers.includes(finalizer)) object.metadata.finalizers = [...finalizers, finalizer];
      break;
    }
    case 'batch/jobs': {
      const spec = ensure(object, 'spec');
      const uid = object.metadata.uid ?? '';
      if (spec['manualSelector'] !== true && spec['selector'] === undefined) {
        spec['selector'] = { matchLabels: { 'controller-uid': uid } };
        const metadata = ensureIn(ensureIn(spec, 'template'), 'metadata');
        metadata['labels'] = {
          ...(getObject(metadata, ['labels']) ?? {}),
          'controller-uid': uid,
          'job-name': object.metadata.name ?? '',
        };
      }
      break;
    }
  }
  initialStatus(type, object);
}

function initialStatus(type: ResourceType, object: StoredObject): void {
  if (!type.statusSubresource || type.id === '/nodes') return;
  switch (type.id) {
    case '/pods':
      object['status'] = { phase: 'Pending', qosClass: qosClass(object) };
      return;
    case '/namespaces':
      object['status'] = { phase: 'Active' };
      return;
    case '/persistentvolumeclaims':
    case '/persistentvolumes':
      object['status'] = { phase: 'Pending' };
      return;
    case '/services':
      object['status'] = { loadBalancer: {} };
      return;
    case 'apiextensions.k8s.io/customresourcedefinitions': {
      object['status'] = {
        conditions: null,
        acceptedNames: { plural: '', kind: '' },
        storedVersions: getArray(object, ['status', 'storedVersions']) ?? [],
      };
      return;
    }
  }
  if (type.custom) delete object['status'];
  else object['status'] = { ...(ZERO_STATUS[type.id] ?? {}) };
}

/** Status fields without omitempty: a new object shows them as zero. */
const ZERO_STATUS: Record<string, Record<string, number>> = {
  'apps/replicasets': { replicas: 0 },
  'apps/statefulsets': { replicas: 0 },
  'apps/daemonsets': {
    currentNumberScheduled: 0,
    numberMisscheduled: 0,
    desiredNumberScheduled: 0,
    numberReady: 0,
  },
};

/** Condition timestamps are metav1.Time structs: absent ones serialize as null. */
const CONDITION_TIMES: Record<string, readonly string[]> = {
  '/pods': ['lastProbeTime', 'lastTransitionTime'],
  '/nodes': ['lastHeartbeatTime', 'lastTransitionTime'],
  '/persistentvolumeclaims': ['lastProbeTime', 'lastTransitionTime'],
  '/namespaces': ['lastTransitionTime'],
  'apps/deployments': ['lastUpdateTime', 'lastTransitionTime'],
  'apps/replicasets': ['lastTransitionTime'],
  'apps/statefulsets': ['lastTransitionTime'],
  'apps/daemonsets': ['lastTransitionTime'],
  'batch/jobs': ['lastProbeTime', 'lastTransitionTime'],
};

function defaultConditionTimes(type: ResourceType, object: StoredObject): void {
  const fields = CONDITION_TIMES[type.id];
  const conditions = getArray(object, ['status', 'conditions']);
  if (!fields || !conditions) return;
  for (const condition of conditions) {
    if (!isObject(condition)) continue;
    for (const field of fields) if (condition[field] === undefined) condition[field] = null;
  }
}

function ensure(object: StoredObject, field: string): JsonObject {
  const value = object[field];
  if (isObject(value)) return value;
  const created: JsonObject = {};
  object[field] = created;
  return created;
}

function ensureIn(parent: JsonObject, field: string): JsonObject {
  const value = parent[field];
  if (isObject(value)) return value;
  const created: JsonObject = {};
  parent[field] = created;
  return created;
}

function defaultTemplate(spec: JsonObject): void {
  const template = getObject(spec, ['template']);
  if (!template) return;
  // The Go zero value of the template's ObjectMeta serializes its creationTimestamp as null.
  const metadata = ensureIn(template, 'metadata');
  if (metadata['creationTimestamp'] === undefined) metadata['creationTimestamp'] = null;
  defaultPodSpec(ensureIn(template, 'spec'), false);
}

function defaultPodSpec(spec: JsonObject, isPod: boolean): void {
  for (const list of ['containers', 'initContainers']) {
    const containers = spec[list];
    if (Array.isArray(containers))
      for (const container of containers) if (isObject(container)) defaultContainer(container);
  }
  spec['restartPolicy'] ??= 'Always';
  spec['terminationGracePeriodSeconds'] ??= 30;
  spec['dnsPolicy'] ??= 'ClusterFirst';
  spec['securityContext'] ??= {};
  spec['schedulerName'] ??= 'default-scheduler';
  if (isPod) spec['enableServiceLinks'] ??= true;
}

/** ServiceAccount, Priority and DefaultTolerationSeconds admission. */
function admitPod(spec: JsonObject): void {
  spec['serviceAccountName'] ??=
    typeof spec['serviceAccount'] === 'string' ? spec['serviceAccount'] : 'default';
  spec['serviceAccount'] = spec['serviceAccountName'];
  spec['priority'] ??= 0;
  spec['preemptionPolicy'] ??= 'PreemptLowerPriority';
  const tolerations = getArray(spec, ['tolerations']) ?? [];
  const extra = ['node.kubernetes.io/not-ready', 'node.kubernetes.io/unreachable']
    .filter((key) => !tolerations.some((t) => isObject(t) && t['key'] === key && t['effect'] === 'NoExecute'))
    .map((key) => ({ key, operator: 'Exists', effect: 'NoExecute', tolerationSeconds: 300 }));
  if (extra.length > 0) spec['tolerations'] = [...tolerations, ...extra];
}

function defaultContainer(container: JsonObject): void {
  container['resources'] ??= {};
  container['terminationMessagePath'] ??= '/dev/termination-log';
  container['terminationMessagePolicy'] ??= 'File';
  if (container['imagePullPolicy'] === undefined) {
    const image = typeof container['image'] === 'string' ? container['image'] : '';
    const lastSegment = image.slice(image.lastIndexOf('/') + 1);
    const tag = lastSegment.includes('@')
      ? 'digest'
      : lastSegment.includes(':')
        ? lastSegment.slice(lastSegment.indexOf(':') + 1)
        : '';
    container['imagePullPolicy'] = tag === '' || tag === 'latest' ? 'Always' : 'IfNotPresent';
  }
  const ports = container['ports'];
  if (Array.isArray(ports)) for (const port of ports) if (isObject(port)) port['protocol'] ??= 'TCP';
}

function defaultService(spec: JsonObject): void {
  spec['type'] ??= 'ClusterIP';
  spec['sessionAffinity'] ??= 'None';
  const ports = spec['ports'];
  if (Array.isArray(ports)) {
    for (const port of ports) {
      if (!isObject(port)) continue;
      port['protocol'] ??= 'TCP';
      port['targetPort'] ??= port['port'] ?? 0;
    }
  }
}

function qosClass(pod: StoredObject): string {
  const containers = getArray(pod, ['spec', 'containers']) ?? [];
  let any = false;
  let guaranteed = containers.length > 0;
  for (const container of containers) {
    const limits = getObject(container, ['resources', 'limits']) ?? {};
    const requests = getObject(container, ['resources', 'requests']) ?? {};
    if (Object.keys(limits).length > 0 || Object.keys(requests).length > 0) any = true;
    for (const resource of ['cpu', 'memory']) {
      if (limits[resource] === undefined) guaranteed = false;
      else if (requests[resource] !== undefined && requests[resource] !== limits[resource])
        guaranteed = false;
    }
  }
  if (!any) return 'BestEffort';
  return guaranteed ? 'Guaranteed' : 'Burstable';
}
