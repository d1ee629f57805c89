import { errors, successStatus, type StatusBody } from './api-status';
import { clone, getObject, getString, isObject } from './json';
import { timestamp, type StoredObject } from './object-meta';
import { decodeManagedFields, encodeManagedFields, forgetRemoved } from './managed-fields';
import type { ResourceType } from './resource-types';
import { formatLabelSelector, fromLabelSelectorObject } from './selectors';
import type { ApiStorage, PatchType, WriteOptions } from './storage';

/**
 * The subresources beyond /status: /scale (autoscaling/v1 Scale over spec.replicas), pods/binding
 * (what a scheduler posts) and namespaces/finalize.
 */

export function scaleOf(object: StoredObject): StoredObject {
  const replicas = getObject(object, ['spec'])?.['replicas'] ?? 0;
  const selector = fromLabelSelectorObject(getObject(object, ['spec'])?.['selector']);
  const status: Record<string, unknown> = { replicas: getObject(object, ['status'])?.['replicas'] ?? 0 };
  if (selector && selector.length > 0) status['selector'] = formatLabelSelector(selector);
  return {
    kind: 'Scale',
    apiVersion: 'autoscaling/v1',
    metadata: {
      name: object.metadata.name,
      namespace: object.metadata.namespace,
      uid: object.metadata.uid,
      resourceVersion: object.metadata.resourceVersion,
      creationTimestamp: object.metadata.creationTimestamp,
    },
    // replicas is omitempty in autoscaling/v1 ScaleSpec.
    spec: replicas ? { replicas } : {},
    status,
  };
}

function scaleNotFound(type: ResourceType, name: string) {
  return errors.notFound({ group: type.group, resource: `${type.plural}/scale` }, name);
}

export function getScale(
  storage: ApiStorage,
  type: ResourceType,
  namespace: string,
  name: string,
): StoredObject {
  const object = storage.find(type, namespace, name);
  if (!object) throw scaleNotFound(type, name);
  return scaleOf(object);
}

/** PUT of a Scale, or the result of patching one: sets spec.replicas of the workload. */
export function updateScale(
  storage: ApiStorage,
  type: ResourceType,
  namespace: string,
  name: string,
  body: unknown,
  options: WriteOptions,
): StoredObject {
  const existing = storage.find(type, namespace, name);
  if (!existing) throw scaleNotFound(type, name);
  if (!isObject(body)) throw errors.badRequest('the request body must be a Scale object');
  const requestedVersion = getString(body, ['metadata', 'resourceVersion']);
  if (requestedVersion && requestedVersion !== existing.metadata.resourceVersion) {
    throw errors.staleResourceVersion({ group: type.group, resource: `${type.plural}/scale` }, name);
  }
  const replicas = getObject(body, ['spec'])?.['replicas'];
  if (typeof replicas !== 'number' || !Number.isInteger(replicas) || replicas < 0) {
    throw errors.invalid('Scale', 'autoscaling', name, [
      {
        reason: 'FieldValueInvalid',
        message: `Invalid value: ${String(replicas)}: must be greater than or equal to 0`,
        field: 'spec.replicas',
      },
    ]);
  }
  const next = clone(existing);
  next['spec'] = { ...(getObject(next, ['spec']) ?? {}), replicas };
  return scaleOf(storage.commitUpdate(type, existing, next, options));
}

export function patchScale(
  storage: ApiStorage,
  type: ResourceType,
  namespace: string,
  name: string,
  patchType: PatchType,
  body: unknown,
  options: WriteOptions,
): StoredObject {
  const current = getScale(storage, type, namespace, name);
  if (patchType === 'apply') throw errors.unsupportedMediaType();
  const patched = storage.patchDocument(type, current, patchType, body);
  return updateScale(storage, type, namespace, name, patched, options);
}

/** POST pods/<name>/binding: what a scheduler does to place a pod on a node. */
export function bindPod(
  storage: ApiStorage,
  podType: ResourceType,
  namespace: string,
  name: string,
  body: unknown,
  options: WriteOptions,
): StatusBody {
  const pod = storage.get(podType, namespace, name);
  const target = getString(body, ['target', 'name']);
  if (!target)
    throw errors.invalid('Binding', '', name, [
      { reason: 'FieldValueRequired', message: 'Required value', field: 'target.name' },
    ]);
  const current = getString(pod, ['spec', 'nodeName']);
  if (current) {
    throw errors.conflict(
      { group: '', resource: 'pods/binding' },
      name,
      `pod ${name} is already assigned to node "${current}"`,
    );
  }
  if (!options.dryRun) bindTo(storage, podType, pod, target);
  return { ...successStatus({}), code: 201 };
}

/** Sets spec.nodeName and the PodScheduled condition in one write (as the binding registry does). */
export function bindTo(
  storage: ApiStorage,
  podType: ResourceType,
  pod: StoredObject,
  node: string,
): StoredObject {
  const next = clone(pod);
  next['spec'] = { ...(getObject(next, ['spec']) ?? {}), nodeName: node };
  const status = { ...(getObject(next, ['status']) ?? {}) };
  const conditions = Array.isArray(status['conditions'])
    ? status['conditions'].filter((c) => !isObject(c) || c['type'] !== 'PodScheduled')
    : [];
  status['conditions'] = [
    ...conditions,
    { type: 'PodScheduled', status: 'True', lastProbeTime: null, lastTransitionTime: timestamp() },
  ];
  next['status'] = status;
  // Binding bypasses the pod-update rules and is not recorded as anyone's change; fields it
  // removed (an Unschedulable condition's reason) are nobody's any more.
  const context = storage.ownership(podType, timestamp());
  const managers = forgetRemoved(pod, next, decodeManagedFields(pod.metadata.managedFields), context);
  const encoded = encodeManagedFields(managers);
  if (encoded.length > 0) next.metadata.managedFields = encoded;
  else delete next.metadata.managedFields;
  return storage.store.put(podType.id, next);
}

/** PUT namespaces/<name>/finalize: replaces spec.finalizers; a deleting namespace with none left goes. */
export function finalizeNamespace(
  storage: ApiStorage,
  namespaceType: ResourceType,
  name: string,
  body: unknown,
  options: WriteOptions,
): StoredObject {
  const existing = storage.get(namespaceType, '', name);
  const finalizers = getObject(body, ['spec'])?.['finalizers'];
  const next = clone(existing);
  next['spec'] = {
    ...(getObject(next, ['spec']) ?? {}),
    finalizers: Array.isArray(finalizers) ? finalizers : [],
  };
  if (!Array.isArray(finalizers) || finalizers.length === 0)
    delete (next['spec'] as Record<string, unknown>)['finalizers'];
  return storage.commitUpdate(namespaceType, existing, next, { ...options, subresource: 'finalize' });
}
