import { errors, type StatusCause } from './api-status';
import { FieldSet, describePath } from './field-set';
import { compareObjects, mergeApplied, removeFields, stripReserved, toFieldSet } from './field-walk';
import { isObject, type JsonObject } from './json';
import { describeManager, sameManager, type Manager, type OwnershipContext } from './managed-fields';

export interface ApplyRequest {
  /** The stored object, or undefined when the apply creates it. */
  live: JsonObject | undefined;
  managers: readonly Manager[];
  /** The applied configuration, already limited to what this endpoint may change. */
  config: JsonObject;
  manager: string;
  apiVersion: string;
  force: boolean;
  context: OwnershipContext;
}

export interface ApplyResult {
  object: JsonObject;
  managers: Manager[];
}

/**
 * Server-side apply: merge the configuration into the live object, remove what this manager
 * applied before and no longer does (unless someone else owns it), and refuse (409) to change
 * fields other managers own unless forced — in which case they lose those fields.
 */
export function serverSideApply(request: ApplyRequest): ApplyResult {
  const { live, config, context } = request;
  const applied = stripReserved(toFieldSet(config, context.schema), context.ignoredTopLevel);
  let previous = new FieldSet();
  let mine: Manager | undefined;
  let others = new FieldSet();
  for (const entry of request.managers) {
    if (sameManager(entry, request.manager, 'Apply', request.apiVersion)) {
      mine = entry;
      previous = entry.set;
    } else {
      others = others.union(entry.set);
    }
  }

  const mergedValue = mergeApplied(live ?? {}, config, context.schema);
  const merged: JsonObject = isObject(mergedValue) ? mergedValue : {};
  removeFields(merged, previous.difference(applied), others.union(applied), context.schema);

  const diff = compareObjects(live ?? {}, merged, context.schema, context.unstructured);
  const changed = stripReserved(diff.added.union(diff.modified), context.ignoredTopLevel);
  const removed = stripReserved(diff.removed, context.ignoredTopLevel);

  const conflicts: Array<{ entry: Manager; paths: string[][] }> = [];
  for (const entry of request.managers) {
    if (entry === mine) continue;
    const overlap = entry.set.intersection(changed);
    if (!overlap.isEmpty()) conflicts.push({ entry, paths: overlap.paths() });
  }
  if (conflicts.length > 0 && !request.force) throw conflictError(conflicts);

  const managers: Manager[] = [];
  for (const entry of request.managers) {
    if (entry === mine) continue;
    let set = entry.set;
    if (request.force) set = set.difference(changed);
    if (!removed.isEmpty()) set = set.difference(removed);
    managers.push(set === entry.set ? entry : { ...entry, set });
  }
  const unchanged =
    mine !== undefined && changed.isEmpty() && removed.isEmpty() && sameSet(mine.set, applied);
  managers.push(
    unchanged && mine
      ? mine
      : {
          manager: request.manager,
          operation: 'Apply',
          apiVersion: request.apiVersion,
          time: context.now,
          set: applied,
        },
  );
  return { object: merged, managers };
}

function sameSet(a: FieldSet, b: FieldSet): boolean {
  return a.difference(b).isEmpty() && b.difference(a).isEmpty();
}

/**
 * The real message: `Apply failed with 1 conflict: conflict with "m1": .data.b`, or for several
 * `Apply failed with 2 conflicts: conflicts with "m1":\n- .data.a\nconflicts with "m2" using v1:\n- .data.b`.
 */
function conflictError(conflicts: Array<{ entry: Manager; paths: string[][] }>) {
  const byManager = conflicts
    .map((c) => ({ who: describeManager(c.entry), paths: c.paths.map(describePath) }))
    .sort((a, b) => (a.who < b.who ? -1 : a.who > b.who ? 1 : 0));
  const causes: StatusCause[] = [];
  for (const { who, paths } of byManager) {
    for (const field of paths)
      causes.push({ reason: 'FieldManagerConflict', message: `conflict with ${who}`, field });
  }
  const count = causes.length;
  let detail: string;
  if (count === 1) {
    detail = `conflict with ${byManager[0].who}: ${byManager[0].paths[0]}`;
  } else {
    const lines: string[] = [];
    for (const { who, paths } of byManager) {
      lines.push(`conflicts with ${who}:`);
      for (const path of paths) lines.push(`- ${path}`);
    }
    detail = lines.join('\n');
  }
  return errors.applyConflict(
    `Apply failed with ${count} conflict${count === 1 ? '' : 's'}: ${detail}`,
    causes,
  );
}
