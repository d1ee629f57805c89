import { clone, deepEqual } from './json';
import type { StoredObject } from './object-meta';
import type { ResourceType } from './resource-types';

/** Per-kind rules of the update strategies: what /status may change, when generation moves, no-ops. */

/**
 * What a write through /status may change, per the real status strategies: custom resources only
 * their status; built-in kinds their status and metadata, but not the spec (nor the labels of
 * workloads, nor a pod's owner references).
 */
export function statusUpdate(type: ResourceType, old: StoredObject, requested: StoredObject): StoredObject {
  if (type.custom) {
    const next = clone(old);
    if (requested['status'] === undefined) delete next['status'];
    else next['status'] = clone(requested['status']);
    return next;
  }
  const next: StoredObject = { ...clone(old), metadata: clone(requested.metadata) };
  if (requested['status'] === undefined) delete next['status'];
  else next['status'] = clone(requested['status']);
  if (type.group === 'apps') {
    if (old.metadata.labels === undefined) delete next.metadata.labels;
    else next.metadata.labels = clone(old.metadata.labels);
  }
  if (type.id === '/pods') {
    if (old.metadata.ownerReferences === undefined) delete next.metadata.ownerReferences;
    else next.metadata.ownerReferences = clone(old.metadata.ownerReferences);
  }
  return next;
}

export function generationChanges(type: ResourceType, old: StoredObject, next: StoredObject): boolean {
  switch (type.generation) {
    case 'none':
      return false;
    case 'spec':
      return !deepEqual(old['spec'], next['spec']);
    case 'specOrAnnotations':
      return (
        !deepEqual(old['spec'], next['spec']) ||
        !deepEqual(old.metadata.annotations, next.metadata.annotations)
      );
    case 'allButMetadata':
      for (const key of new Set([...Object.keys(old), ...Object.keys(next)])) {
        if (key === 'metadata' || (key === 'status' && type.statusSubresource)) continue;
        if (!deepEqual(old[key], next[key])) return true;
      }
      return false;
  }
}

/** Equal apart from resourceVersion: such an update is a no-op (no new resourceVersion, no event). */
export function sameContent(a: StoredObject, b: StoredObject): boolean {
  // A manager's timestamp alone is no change: a re-apply whose result equals the live object keeps
  // its resourceVersion even when the apply crossed a second boundary (the real managed-fields
  // updater keeps the old time when nothing changed).
  const metaA: Record<string, unknown> = {
    ...a.metadata,
    resourceVersion: undefined,
    managedFields: withoutTimes(a.metadata.managedFields),
  };
  const metaB: Record<string, unknown> = {
    ...b.metadata,
    resourceVersion: undefined,
    managedFields: withoutTimes(b.metadata.managedFields),
  };
  if (!deepEqual(metaA, metaB)) return false;
  const keys = new Set([...Object.keys(a), ...Object.keys(b)]);
  for (const key of keys) if (key !== 'metadata' && !deepEqual(a[key], b[key])) return false;
  return true;
}

function withoutTimes(entries: unknown): unknown {
  if (!Array.isArray(entries)) return entries;
  return entries
    .map((entry: unknown) => {
      if (entry === null || typeof entry !== 'object') return entry;
      const rest: Record<string, unknown> = { ...(entry as Record<string, unknown>) };
      delete rest.time;
      return rest;
    })
    .sort((x, y) => {
      const kx = JSON.stringify(x);
      const ky = JSON.stringify(y);
      return kx < ky ? -1 : kx > ky ? 1 : 0;
    });
}
