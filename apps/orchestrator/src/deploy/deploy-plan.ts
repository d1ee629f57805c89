/**
 * What the translator hands the deployment engine for one stack revision (R-OR-2, issue #5 §4): one
 * unit per microservice, placed in an environment (cluster + namespace), with the Kubernetes objects
 * that realise it and the units it needs up first (R-OR-4). Plain data, stored as the revision's plan.
 */
import { createHash } from 'node:crypto';
import type { KubeObject } from '@stratum/kube';

export interface DeployUnit {
  /** Microservice name, unique in the stack. */
  name: string;
  /** Kubeconfig context of the environment's cluster. */
  clusterId: string;
  /** The environment's namespace. */
  namespace: string;
  /**
   * The environment (resource-manager id) the unit runs in, which the stack events name. Optional:
   * when missing it is looked up in the tenant view by cluster and namespace.
   */
  environmentId?: string;
  /** Deployments, StatefulSets, Services, ConfigMaps… with apiVersion, kind, metadata.name and .namespace set. */
  manifests: KubeObject[];
  /** Units that must be Ready before this one is applied. */
  dependsOn: string[];
}

export interface StackRevisionPlan {
  tenantId: string;
  stack: string;
  units: DeployUnit[];
  /** Opaque to the deployment engine; handed on once the revision is deployed (R-OR-5). */
  autoscaling?: unknown;
}

/** JSON with object keys sorted at every level, so equal values give equal text (the translator's form). */
export { canonicalJson } from '@stratum/tosca';

export function sha256Hex(text: string): string {
  return createHash('sha256').update(text).digest('hex');
}

/** Kinds whose readiness decides whether a unit is up (readinessOf in @stratum/kube). */
export const WORKLOAD_KINDS = new Set(['Deployment', 'StatefulSet']);

/** Apply order inside a unit: what workloads mount or are reached through first, workloads last. */
const APPLY_RANK: Record<string, number> = {
  ServiceAccount: 0,
  ConfigMap: 0,
  Secret: 0,
  PersistentVolumeClaim: 1,
  Service: 2,
  Deployment: 9,
  StatefulSet: 9,
};

export function applyOrder(manifests: readonly KubeObject[]): KubeObject[] {
  return [...manifests].sort((a, b) => (APPLY_RANK[a.kind ?? ''] ?? 5) - (APPLY_RANK[b.kind ?? ''] ?? 5));
}

/** One object of a unit, as a key that says where it lives (for pruning and deletion). */
export function objectKey(clusterId: string, object: KubeObject): string {
  return [
    clusterId,
    object.apiVersion,
    object.kind,
    object.metadata?.namespace ?? '',
    object.metadata?.name ?? '',
  ].join('|');
}

/** Shape problems of a plan (the graph is checked by UnitGraph), each naming its field. */
export function planProblems(plan: StackRevisionPlan): Array<{ field: string; message: string }> {
  const problems: Array<{ field: string; message: string }> = [];
  if (!plan.tenantId) problems.push({ field: 'tenantId', message: 'is required' });
  if (!plan.stack) problems.push({ field: 'stack', message: 'is required' });
  if (!Array.isArray(plan.units) || plan.units.length === 0) {
    problems.push({ field: 'units', message: 'a stack has at least one unit' });
    return problems;
  }
  const seen = new Map<string, string>();
  plan.units.forEach((unit, u) => {
    const at = `units[${u}]`;
    if (!unit.name) problems.push({ field: `${at}.name`, message: 'is required' });
    if (!unit.clusterId) problems.push({ field: `${at}.clusterId`, message: 'is required' });
    if (!unit.namespace) problems.push({ field: `${at}.namespace`, message: 'is required' });
    if (!Array.isArray(unit.manifests) || unit.manifests.length === 0) {
      problems.push({ field: `${at}.manifests`, message: 'a unit has at least one object' });
    }
    (unit.manifests ?? []).forEach((object, m) => {
      const where = `${at}.manifests[${m}]`;
      if (!object.apiVersion || !object.kind || !object.metadata?.name) {
        problems.push({ field: where, message: 'needs apiVersion, kind and metadata.name' });
        return;
      }
      // A unit writes only into its environment's namespace (tenant isolation): no cluster-scoped objects.
      if (object.metadata.namespace !== unit.namespace) {
        problems.push({
          field: `${where}.metadata.namespace`,
          message: `must be the unit's namespace ${unit.namespace}`,
        });
      }
      const key = objectKey(unit.clusterId, object);
      const owner = seen.get(key);
      if (owner !== undefined) {
        problems.push({
          field: where,
          message: `${object.kind} ${object.metadata.name} is also declared by unit ${owner}`,
        });
      }
      seen.set(key, unit.name);
    });
  });
  return problems;
}
