import type { SchemaNode } from './field-schema';
import { FieldSet } from './field-set';
import { compareObjects, stripReserved } from './field-walk';
import { isObject, type JsonObject } from './json';

/** One `metadata.managedFields` entry as the wire carries it. */
export interface ManagedFieldsEntry {
  manager: string;
  operation: 'Apply' | 'Update';
  apiVersion: string;
  time: string;
  fieldsType: 'FieldsV1';
  fieldsV1: JsonObject;
}

export interface Manager {
  manager: string;
  operation: 'Apply' | 'Update';
  apiVersion: string;
  time: string;
  set: FieldSet;
}

export function decodeManagedFields(raw: unknown): Manager[] {
  if (!Array.isArray(raw)) return [];
  const out: Manager[] = [];
  for (const entry of raw) {
    if (!isObject(entry) || typeof entry['manager'] !== 'string') continue;
    const operation = entry['operation'] === 'Apply' ? 'Apply' : 'Update';
    out.push({
      manager: entry['manager'],
      operation,
      apiVersion: typeof entry['apiVersion'] === 'string' ? entry['apiVersion'] : '',
      time: typeof entry['time'] === 'string' ? entry['time'] : '',
      set: FieldSet.fromFieldsV1(entry['fieldsV1']),
    });
  }
  return out;
}

/**
 * Encodes the managers, dropping empty ones, in the real order: Apply before Update, then by time,
 * manager name and API version.
 */
export function encodeManagedFields(managers: readonly Manager[]): ManagedFieldsEntry[] {
  return managers
    .filter((m) => !m.set.isEmpty())
    .sort(
      (a, b) =>
        compare(a.operation, b.operation) ||
        compare(a.time, b.time) ||
        compare(a.manager, b.manager) ||
        compare(a.apiVersion, b.apiVersion),
    )
    .map((m) => ({
      manager: m.manager,
      operation: m.operation,
      apiVersion: m.apiVersion,
      time: m.time,
      fieldsType: 'FieldsV1',
      fieldsV1: m.set.toFieldsV1(),
    }));
}

function compare(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

/**
 * Identity of a manager entry: appliers are one entry whatever API version they used; updaters
 * get one entry per API version (as in `BuildManagerIdentifier`).
 */
export function sameManager(
  entry: Manager,
  manager: string,
  operation: 'Apply' | 'Update',
  apiVersion: string,
): boolean {
  return (
    entry.manager === manager &&
    entry.operation === operation &&
    (operation === 'Apply' || entry.apiVersion === apiVersion)
  );
}

/**
 * The `conflict with "m1"` / `conflict with "m2" using v1` naming of the real conflict messages.
 */
export function describeManager(entry: Pick<Manager, 'manager' | 'operation' | 'apiVersion'>): string {
  return entry.operation === 'Update' ? `"${entry.manager}" using ${entry.apiVersion}` : `"${entry.manager}"`;
}

export interface OwnershipContext {
  schema: SchemaNode;
  /** Custom resources track added objects as members themselves. */
  unstructured: boolean;
  /** Top-level fields a write through this endpoint cannot change (status on the main resource). */
  ignoredTopLevel: readonly string[];
  now: string;
}

/** Drops from every manager what a write removed (a write nobody is recorded for, like a binding). */
export function forgetRemoved(
  before: unknown,
  after: unknown,
  managers: readonly Manager[],
  context: OwnershipContext,
): Manager[] {
  const removed = stripReserved(compareObjects(before, after, context.schema, context.unstructured).removed);
  if (removed.isEmpty()) return [...managers];
  return managers.map((m) => ({ ...m, set: m.set.difference(removed) }));
}

/**
 * Ownership after a non-apply write (create, update, patch, a controller's write): the writer owns
 * what it added or changed, nobody owns what was removed, and other managers lose what it changed.
 */
export function recordUpdate(
  before: unknown,
  after: unknown,
  managers: readonly Manager[],
  writer: { manager: string; apiVersion: string },
  context: OwnershipContext,
): Manager[] {
  const diff = compareObjects(before ?? {}, after, context.schema, context.unstructured);
  const changed = stripReserved(diff.added.union(diff.modified), context.ignoredTopLevel);
  const removed = stripReserved(diff.removed, context.ignoredTopLevel);
  if (changed.isEmpty() && removed.isEmpty()) return [...managers];
  const out: Manager[] = [];
  let mine: Manager | undefined;
  for (const entry of managers) {
    if (sameManager(entry, writer.manager, 'Update', writer.apiVersion)) {
      mine = entry;
      continue;
    }
    const set = entry.set.difference(changed).difference(removed);
    out.push(set === entry.set ? entry : { ...entry, set });
  }
  const previous = mine?.set ?? new FieldSet();
  const set = previous.union(changed).difference(removed);
  out.push({
    manager: writer.manager,
    operation: 'Update',
    apiVersion: writer.apiVersion,
    time: context.now,
    set,
  });
  return out;
}
