/**
 * What an update changes, unit by unit (issue #5 §5): units only in the new revision are added, only
 * in the old one removed; a unit in both is changed when its objects, placement or dependencies
 * differ (canonical JSON, so key order does not matter), else unchanged and left alone.
 */
import type { KubeObject } from '@stratum/kube';
import { canonicalJson, type DeployUnit, objectKey } from './deploy-plan';

export interface UnitDiff {
  /** In the new revision's order. */
  added: string[];
  /** In the old revision's order. */
  removed: string[];
  changed: string[];
  unchanged: string[];
}

/** The part of a unit whose change means re-applying it. */
function fingerprint(unit: DeployUnit): string {
  return canonicalJson({
    clusterId: unit.clusterId,
    namespace: unit.namespace,
    manifests: unit.manifests,
    dependsOn: [...new Set(unit.dependsOn)].sort(),
  });
}

export function diffUnits(before: readonly DeployUnit[], after: readonly DeployUnit[]): UnitDiff {
  const old = new Map(before.map((unit) => [unit.name, unit]));
  const next = new Set(after.map((unit) => unit.name));
  const diff: UnitDiff = { added: [], removed: [], changed: [], unchanged: [] };
  for (const unit of after) {
    const previous = old.get(unit.name);
    if (!previous) diff.added.push(unit.name);
    else if (fingerprint(previous) === fingerprint(unit)) diff.unchanged.push(unit.name);
    else diff.changed.push(unit.name);
  }
  diff.removed = before.filter((unit) => !next.has(unit.name)).map((unit) => unit.name);
  return diff;
}

/**
 * Objects a changed unit had and no longer has (dropped, renamed, or the unit moved to another
 * environment): server-side apply does not prune, so they are deleted once the new version is up.
 */
export function staleObjects(
  before: DeployUnit,
  after: DeployUnit,
): Array<{ clusterId: string; object: KubeObject }> {
  const kept = new Set(after.manifests.map((object) => objectKey(after.clusterId, object)));
  return before.manifests
    .filter((object) => !kept.has(objectKey(before.clusterId, object)))
    .map((object) => ({ clusterId: before.clusterId, object }));
}
