import { clone, deepEqual, getNumber, getObject, getString, isObject, type JsonObject } from '../json';
import { fnv32a, safeEncode, type StoredObject } from '../object-meta';

/**
 * The arithmetic of the real deployment controller: template hashes, maxSurge/maxUnavailable,
 * which ReplicaSet is the new one, condition bookkeeping.
 */

export const HASH_LABEL = 'pod-template-hash';
export const REVISION = 'deployment.kubernetes.io/revision';

export interface RsView {
  object: StoredObject;
  replicas: number;
  statusReplicas: number;
  ready: number;
  available: number;
  revision: number;
}

export function view(object: StoredObject): RsView {
  const status = getObject(object, ['status']) ?? {};
  return {
    object,
    replicas: getNumber(object, ['spec', 'replicas']) ?? 0,
    statusReplicas: typeof status['replicas'] === 'number' ? status['replicas'] : 0,
    ready: typeof status['readyReplicas'] === 'number' ? status['readyReplicas'] : 0,
    available: typeof status['availableReplicas'] === 'number' ? status['availableReplicas'] : 0,
    revision: Number(object.metadata.annotations?.[REVISION] ?? 0) || 0,
  };
}

/** The ReplicaSet's template minus the pod-template-hash label equals the deployment's. */
export function sameTemplate(rsTemplate: JsonObject | undefined, template: JsonObject): boolean {
  if (!rsTemplate) return false;
  const copy = clone(rsTemplate);
  const labels = getObject(copy, ['metadata', 'labels']);
  if (labels) {
    delete labels[HASH_LABEL];
    if (Object.keys(labels).length === 0 && !getObject(template, ['metadata', 'labels']))
      delete (copy['metadata'] as JsonObject)['labels'];
  }
  return deepEqual(copy, template);
}

/** FNV-32a of the template (and collision count), encoded with the safe alphabet, like ComputeHash. */
export function templateHash(template: JsonObject, collisionCount: number): string {
  const hash = fnv32a(`${stableJson(template)}${collisionCount > 0 ? collisionCount : ''}`);
  return safeEncode(String(hash));
}

function stableJson(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(stableJson).join(',')}]`;
  if (isObject(value)) {
    return `{${Object.keys(value)
      .sort()
      .map((k) => `${JSON.stringify(k)}:${stableJson(value[k])}`)
      .join(',')}}`;
  }
  return JSON.stringify(value);
}

export function intOrPercent(value: unknown, total: number, roundUp: boolean): number {
  if (typeof value === 'number') return value;
  if (typeof value === 'string' && value.endsWith('%')) {
    const scaled = (Number(value.slice(0, -1)) * total) / 100;
    return roundUp ? Math.ceil(scaled) : Math.floor(scaled);
  }
  if (typeof value === 'string' && value !== '') return Number(value) || 0;
  return 0;
}

export function surgeOf(deployment: StoredObject, desired: number): number {
  if (getString(deployment, ['spec', 'strategy', 'type']) === 'Recreate') return 0;
  return intOrPercent(
    getObject(deployment, ['spec', 'strategy', 'rollingUpdate'])?.['maxSurge'] ?? '25%',
    desired,
    true,
  );
}

export function unavailableOf(deployment: StoredObject, desired: number, maxSurge: number): number {
  if (getString(deployment, ['spec', 'strategy', 'type']) === 'Recreate') return 0;
  const value = intOrPercent(
    getObject(deployment, ['spec', 'strategy', 'rollingUpdate'])?.['maxUnavailable'] ?? '25%',
    desired,
    false,
  );
  // Both zero would deadlock; the real controller then allows one unavailable pod.
  return value === 0 && maxSurge === 0 ? 1 : Math.min(value, desired);
}

/** Annotations a deployment passes on to its ReplicaSets (not kubectl's or its own bookkeeping). */
export function copyableAnnotations(annotations: Record<string, string> | undefined): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [key, value] of Object.entries(annotations ?? {})) {
    if (
      key === 'kubectl.kubernetes.io/last-applied-configuration' ||
      key.startsWith('deployment.kubernetes.io/')
    )
      continue;
    out[key] = value;
  }
  return out;
}

/** A condition, keeping lastTransitionTime while the status holds and lastUpdateTime while nothing changes. */
export function condition(
  old: JsonObject[],
  type: string,
  status: string,
  reason: string,
  message: string,
  now: string,
): JsonObject {
  const previous = old.find((c) => c['type'] === type);
  const same = previous !== undefined && previous['status'] === status;
  const unchanged = same && previous['reason'] === reason && previous['message'] === message;
  return {
    type,
    status,
    lastUpdateTime: unchanged ? (previous['lastUpdateTime'] as string) : now,
    lastTransitionTime: same ? (previous['lastTransitionTime'] as string) : now,
    reason,
    message,
  };
}
