import { elementOf, fieldOf, isMapKey, listTypeOf, type ListType, type SchemaNode } from './field-schema';
import { FieldSet, fieldElement, keyElement, valueElement } from './field-set';
import { clone, deepEqual, isObject, type JsonObject } from './json';

/**
 * Walks objects with a schema to produce field sets and merges, following structured-merge-diff
 * (the library behind managedFields and server-side apply) closely enough for ownership, conflicts
 * and pruning to behave like kube-apiserver 1.20's.
 */

/** Fields never tracked in managedFields (identity and server-owned metadata). */
const RESERVED_METADATA = [
  'name',
  'namespace',
  'uid',
  'resourceVersion',
  'generation',
  'creationTimestamp',
  'deletionTimestamp',
  'deletionGracePeriodSeconds',
  'managedFields',
  'selfLink',
  'clusterName',
];

export function stripReserved(set: FieldSet, alsoTopLevel: readonly string[] = []): FieldSet {
  set.children.delete('f:apiVersion');
  set.children.delete('f:kind');
  for (const field of alsoTopLevel) set.children.delete(fieldElement(field));
  const metadata = set.children.get('f:metadata');
  if (metadata) {
    metadata.member = false;
    for (const field of RESERVED_METADATA) metadata.children.delete(fieldElement(field));
    if (metadata.isEmpty()) set.children.delete('f:metadata');
  }
  return set;
}

/** The element naming one list item, or undefined when the item cannot be keyed. */
function itemElement(list: ListType, item: unknown): string | undefined {
  if (list.type === 'set') return isObject(item) || Array.isArray(item) ? undefined : valueElement(item);
  if (list.type === 'map') {
    if (!isObject(item)) return undefined;
    const key: JsonObject = {};
    for (const name of list.keys) {
      const value = item[name] ?? list.keyDefaults?.[name];
      if (value === undefined) return undefined;
      key[name] = value;
    }
    return keyElement(list.keys, key);
  }
  return undefined;
}

/** Items of a granular list by element, or undefined when the list must be treated as atomic. */
function indexList(list: ListType, items: unknown[]): Map<string, unknown> | undefined {
  if (list.type === 'atomic') return undefined;
  const index = new Map<string, unknown>();
  for (const item of items) {
    const element = itemElement(list, item);
    if (element === undefined || index.has(element)) return undefined;
    index.set(element, item);
  }
  return index;
}

// ---- the applied configuration's field set --------------------------------------------------

/** The set of fields an applied configuration specifies (structured-merge-diff `ToFieldSet`). */
export function toFieldSet(value: unknown, schema: SchemaNode): FieldSet {
  const set = new FieldSet();
  if (isObject(value)) visitObject(value, schema, [], set);
  return set;
}

function visitObject(object: JsonObject, node: SchemaNode, path: string[], set: FieldSet): void {
  for (const [key, child] of Object.entries(object)) {
    const childPath = [...path, fieldElement(key)];
    visitValue(child, fieldOf(node, key), childPath, set);
    // Map entries are members whatever their value; struct fields only as leaves.
    if (isMapKey(node, key) && isObject(child)) set.insert(childPath);
  }
}

function visitValue(value: unknown, node: SchemaNode, path: string[], set: FieldSet): void {
  if (isObject(value)) {
    if (node.shape === 'atomic') set.insert(path);
    else visitObject(value, node, path, set);
    return;
  }
  if (Array.isArray(value)) {
    const list = listTypeOf(node);
    const index = indexList(list, value);
    if (!index) {
      set.insert(path);
      return;
    }
    for (const [element, item] of index) {
      const itemPath = [...path, element];
      set.insert(itemPath);
      if (isObject(item)) visitObject(item, elementOf(node), itemPath, set);
    }
    return;
  }
  if (value !== null && value !== undefined) set.insert(path);
}

// ---- comparing two versions (ownership for Update operations) -------------------------------

export interface Comparison {
  added: FieldSet;
  modified: FieldSet;
  removed: FieldSet;
}

/**
 * What changed between two versions of an object. `unstructured` marks custom resources, where
 * every newly added object is itself a member (built-in structs exist as zero values in Go, so
 * only maps and list items are).
 */
export function compareObjects(
  before: unknown,
  after: unknown,
  schema: SchemaNode,
  unstructured: boolean,
): Comparison {
  const out: Comparison = { added: new FieldSet(), modified: new FieldSet(), removed: new FieldSet() };
  compareValues(before, after, schema, [], out, unstructured, false);
  return out;
}

function compareValues(
  before: unknown,
  after: unknown,
  node: SchemaNode,
  path: string[],
  out: Comparison,
  unstructured: boolean,
  isEntry: boolean,
): void {
  if (before === undefined && after === undefined) return;
  if (before === undefined) {
    markAdded(after, node, path, out.added, unstructured, isEntry);
    return;
  }
  if (after === undefined) {
    markAll(before, node, path, out.removed);
    return;
  }
  if (isObject(before) && isObject(after) && node.shape !== 'atomic') {
    const keys = new Set([...Object.keys(before), ...Object.keys(after)]);
    for (const key of keys) {
      compareValues(
        before[key],
        after[key],
        fieldOf(node, key),
        [...path, fieldElement(key)],
        out,
        unstructured,
        isMapKey(node, key),
      );
    }
    return;
  }
  if (Array.isArray(before) && Array.isArray(after)) {
    const list = listTypeOf(node);
    const beforeIndex = indexList(list, before);
    const afterIndex = indexList(list, after);
    if (beforeIndex && afterIndex) {
      for (const [element, item] of afterIndex) {
        const itemPath = [...path, element];
        const old = beforeIndex.get(element);
        if (old === undefined) markAdded(item, elementOf(node), itemPath, out.added, unstructured, true);
        else if (list.type === 'map')
          compareValues(old, item, elementOf(node), itemPath, out, unstructured, true);
      }
      for (const [element, item] of beforeIndex) {
        if (!afterIndex.has(element)) markAll(item, elementOf(node), [...path, element], out.removed);
      }
      return;
    }
  }
  if (!deepEqual(before, after)) out.modified.insert(path);
}

function markAdded(
  value: unknown,
  node: SchemaNode,
  path: string[],
  set: FieldSet,
  unstructured: boolean,
  isEntry: boolean,
): void {
  // A template's `creationTimestamp: null` is in the Go zero value already: nobody owns it.
  if (value === null && path[path.length - 1] === 'f:creationTimestamp') return;
  if (isObject(value) && node.shape !== 'atomic') {
    const keys = Object.keys(value);
    if (keys.length === 0 || unstructured || isEntry || node.shape === 'map' || node.pointer)
      set.insert(path);
    for (const key of keys) {
      markAdded(
        value[key],
        fieldOf(node, key),
        [...path, fieldElement(key)],
        set,
        unstructured,
        isMapKey(node, key),
      );
    }
    return;
  }
  if (Array.isArray(value)) {
    const index = indexList(listTypeOf(node), value);
    if (!index) {
      set.insert(path);
      return;
    }
    // A granular list that appears is a member itself, except where the Go field has no omitempty
    // (pod containers): there the zero value already had it.
    if (unstructured || path[path.length - 1] !== 'f:containers') set.insert(path);
    for (const [element, item] of index)
      markAdded(item, elementOf(node), [...path, element], set, unstructured, true);
    return;
  }
  set.insert(path);
}

/** Every path in a subtree (used for removals, so ownership below a removed node goes too). */
function markAll(value: unknown, node: SchemaNode, path: string[], set: FieldSet): void {
  set.insert(path);
  if (isObject(value) && node.shape !== 'atomic') {
    for (const [key, child] of Object.entries(value))
      markAll(child, fieldOf(node, key), [...path, fieldElement(key)], set);
  } else if (Array.isArray(value)) {
    const index = indexList(listTypeOf(node), value);
    if (index) for (const [element, item] of index) markAll(item, elementOf(node), [...path, element], set);
  }
}

// ---- server-side apply merge -----------------------------------------------------------------

/**
 * Merges an applied configuration into the live object: structs and maps field by field, keyed
 * lists item by item (live order first, new items appended), sets by value, everything else
 * replaced. A null in the configuration removes the field.
 */
export function mergeApplied(live: unknown, config: unknown, node: SchemaNode): unknown {
  if (config === undefined) return clone(live);
  if (config === null) return undefined;
  if (live === undefined || live === null) return stripNulls(clone(config));
  if (isObject(live) && isObject(config) && node.shape !== 'atomic') {
    const out: JsonObject = {};
    for (const [key, value] of Object.entries(live)) out[key] = clone(value);
    for (const [key, value] of Object.entries(config)) {
      const merged = mergeApplied(live[key], value, fieldOf(node, key));
      if (merged === undefined) delete out[key];
      else out[key] = merged;
    }
    return out;
  }
  if (Array.isArray(live) && Array.isArray(config)) {
    const list = listTypeOf(node);
    const liveIndex = indexList(list, live);
    const configIndex = indexList(list, config);
    if (liveIndex && configIndex) {
      const out: unknown[] = [];
      for (const [element, item] of liveIndex) {
        const applied = configIndex.get(element);
        out.push(applied === undefined ? clone(item) : mergeApplied(item, applied, elementOf(node)));
      }
      for (const [element, item] of configIndex)
        if (!liveIndex.has(element)) out.push(stripNulls(clone(item)));
      return out;
    }
  }
  return stripNulls(clone(config));
}

function stripNulls(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(stripNulls);
  if (!isObject(value)) return value;
  for (const [key, child] of Object.entries(value)) {
    if (child === null) delete value[key];
    else value[key] = stripNulls(child);
  }
  return value;
}

/**
 * Removes from `object` (in place) every member of `remove` that has nothing in `keep` at or below
 * it: fields a manager applied before and dropped now, unless someone else still owns them.
 */
export function removeFields(object: JsonObject, remove: FieldSet, keep: FieldSet, schema: SchemaNode): void {
  removeIn(object, remove, keep, schema, []);
}

function removeIn(value: unknown, remove: FieldSet, keep: FieldSet, node: SchemaNode, path: string[]): void {
  for (const [element, child] of remove.children) {
    const childPath = [...path, element];
    if (child.member && !keep.hasAtOrBelow(childPath)) {
      deleteElement(value, element, node);
      continue;
    }
    const next = childValue(value, element, node);
    if (next !== undefined) removeIn(next.value, child, keep, next.node, childPath);
  }
}

function childValue(
  value: unknown,
  element: string,
  node: SchemaNode,
): { value: unknown; node: SchemaNode } | undefined {
  if (element.startsWith('f:') && isObject(value)) {
    const name = element.slice(2);
    return name in value ? { value: value[name], node: fieldOf(node, name) } : undefined;
  }
  if (Array.isArray(value)) {
    const list = listTypeOf(node);
    const item = value.find((candidate) => itemElement(list, candidate) === element);
    return item === undefined ? undefined : { value: item, node: elementOf(node) };
  }
  return undefined;
}

function deleteElement(value: unknown, element: string, node: SchemaNode): void {
  if (element.startsWith('f:') && isObject(value)) {
    delete value[element.slice(2)];
    return;
  }
  if (Array.isArray(value)) {
    const list = listTypeOf(node);
    const at = value.findIndex((candidate) => itemElement(list, candidate) === element);
    if (at >= 0) value.splice(at, 1);
  }
}
