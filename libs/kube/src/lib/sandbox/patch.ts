import { elementOf, fieldOf, listTypeOf, type SchemaNode } from './field-schema';
import { clone, deepEqual, isObject, type JsonObject } from './json';

/** Thrown for a patch that cannot be applied; the caller maps it to the real status code. */
export class PatchError extends Error {
  constructor(
    message: string,
    /** JSON patch failures are 422 with a generic message; malformed documents are 400/500. */
    readonly kind: 'invalid' | 'malformed',
  ) {
    super(message);
    this.name = 'PatchError';
  }
}

/** RFC 7386 JSON merge patch: objects merge, null deletes, anything else replaces. */
export function mergePatch(target: unknown, patch: unknown): unknown {
  if (!isObject(patch)) return clone(patch);
  const out: JsonObject = isObject(target) ? clone(target) : {};
  for (const [key, value] of Object.entries(patch)) {
    if (value === null) delete out[key];
    else out[key] = mergePatch(out[key], value);
  }
  return out;
}

// ---- RFC 6902 JSON patch ---------------------------------------------------------------------

function parsePointer(pointer: string): string[] {
  if (pointer === '') return [];
  if (!pointer.startsWith('/')) throw new PatchError(`invalid JSON pointer ${pointer}`, 'invalid');
  return pointer
    .slice(1)
    .split('/')
    .map((token) => token.replace(/~1/g, '/').replace(/~0/g, '~'));
}

function resolveParent(document: unknown, tokens: string[]): { parent: unknown; key: string } {
  let current = document;
  for (const token of tokens.slice(0, -1)) {
    if (Array.isArray(current)) current = current[Number(token)];
    else if (isObject(current)) current = current[token];
    else current = undefined;
    if (current === undefined) throw new PatchError(`path /${tokens.join('/')} does not exist`, 'invalid');
  }
  return { parent: current, key: tokens[tokens.length - 1] };
}

function readPointer(document: unknown, tokens: string[]): unknown {
  let current = document;
  for (const token of tokens) {
    if (Array.isArray(current)) current = current[Number(token)];
    else if (isObject(current))
      current = Object.prototype.hasOwnProperty.call(current, token) ? current[token] : undefined;
    else return undefined;
    if (current === undefined) return undefined;
  }
  return current;
}

function arrayIndex(array: unknown[], key: string, forInsert: boolean): number {
  if (forInsert && key === '-') return array.length;
  if (!/^(0|[1-9][0-9]*)$/.test(key)) throw new PatchError(`invalid array index ${key}`, 'invalid');
  const index = Number(key);
  if (index > array.length || (!forInsert && index === array.length)) {
    throw new PatchError(`array index ${index} out of bounds`, 'invalid');
  }
  return index;
}

function addAt(document: unknown, tokens: string[], value: unknown): unknown {
  if (tokens.length === 0) return clone(value);
  const { parent, key } = resolveParent(document, tokens);
  if (Array.isArray(parent)) parent.splice(arrayIndex(parent, key, true), 0, clone(value));
  else if (isObject(parent)) parent[key] = clone(value);
  else throw new PatchError('parent is not a container', 'invalid');
  return document;
}

function removeAt(document: unknown, tokens: string[]): unknown {
  const { parent, key } = resolveParent(document, tokens);
  if (Array.isArray(parent)) parent.splice(arrayIndex(parent, key, false), 1);
  else if (isObject(parent) && Object.prototype.hasOwnProperty.call(parent, key)) delete parent[key];
  else throw new PatchError(`path /${tokens.join('/')} does not exist`, 'invalid');
  return document;
}

export function jsonPatch(target: unknown, operations: unknown): unknown {
  if (!Array.isArray(operations)) throw new PatchError('Invalid JSON Patch', 'malformed');
  let document = clone(target);
  for (const operation of operations) {
    if (
      !isObject(operation) ||
      typeof operation['op'] !== 'string' ||
      typeof operation['path'] !== 'string'
    ) {
      throw new PatchError('Invalid JSON Patch', 'malformed');
    }
    const tokens = parsePointer(operation['path']);
    const value = operation['value'];
    switch (operation['op']) {
      case 'add':
        document = addAt(document, tokens, value);
        break;
      case 'remove':
        document = removeAt(document, tokens);
        break;
      case 'replace':
        if (readPointer(document, tokens) === undefined)
          throw new PatchError('replace of a missing path', 'invalid');
        document = tokens.length === 0 ? clone(value) : addAt(removeAt(document, tokens), tokens, value);
        break;
      case 'move':
      case 'copy': {
        if (typeof operation['from'] !== 'string') throw new PatchError('Invalid JSON Patch', 'malformed');
        const from = parsePointer(operation['from']);
        const moved = readPointer(document, from);
        if (moved === undefined) throw new PatchError('from path does not exist', 'invalid');
        if (operation['op'] === 'move') document = removeAt(document, from);
        document = addAt(document, tokens, moved);
        break;
      }
      case 'test':
        if (!deepEqual(readPointer(document, tokens), value)) throw new PatchError('test failed', 'invalid');
        break;
      default:
        throw new PatchError(`Unexpected kind: ${operation['op']}`, 'malformed');
    }
  }
  return document;
}

// ---- strategic merge patch -------------------------------------------------------------------

const DIRECTIVE_PREFIXES = ['$setElementOrder/', '$retainKeys', '$deleteFromPrimitiveList/'];

/**
 * Strategic merge patch for built-in kinds: a merge patch, except that lists with a patch merge key
 * (containers and volumes by name, ports by port, conditions by type …) merge item by item and
 * finalizers merge as a set. Supports `$patch: delete|replace` and
 * `$deleteFromPrimitiveList/<field>`; other directives are accepted and ignored.
 */
export function strategicMergePatch(target: unknown, patch: unknown, schema: SchemaNode): unknown {
  return smpValue(target, patch, schema);
}

function smpValue(target: unknown, patch: unknown, node: SchemaNode): unknown {
  if (!isObject(patch)) return clone(patch);
  if (patch['$patch'] === 'replace') {
    const copy = clone(patch);
    delete copy['$patch'];
    return stripDirectives(copy);
  }
  if (patch['$patch'] === 'delete') return undefined;
  if (node.shape === 'atomic') return stripDirectives(clone(patch));
  const out: JsonObject = isObject(target) ? clone(target) : {};
  for (const [key, value] of Object.entries(patch)) {
    if (key === '$patch') continue;
    if (key.startsWith('$deleteFromPrimitiveList/')) {
      const field = key.slice('$deleteFromPrimitiveList/'.length);
      const current = out[field];
      if (Array.isArray(current) && Array.isArray(value)) {
        out[field] = current.filter((item) => !value.some((gone) => deepEqual(gone, item)));
      }
      continue;
    }
    if (DIRECTIVE_PREFIXES.some((prefix) => key.startsWith(prefix))) continue;
    if (value === null) {
      delete out[key];
      continue;
    }
    const child = fieldOf(node, key);
    const merged = Array.isArray(value) ? smpList(out[key], value, child) : smpValue(out[key], value, child);
    if (merged === undefined) delete out[key];
    else out[key] = merged;
  }
  return out;
}

function smpList(target: unknown, patch: unknown[], node: SchemaNode): unknown {
  const list = listTypeOf(node);
  const current = Array.isArray(target) ? target : [];
  if (list.type === 'set') {
    const out = current.map((item) => clone(item));
    for (const item of patch) if (!out.some((existing) => deepEqual(existing, item))) out.push(clone(item));
    return out;
  }
  const mergeKey = list.type === 'map' ? (node.patchMergeKey ?? list.keys[0]) : undefined;
  if (!mergeKey) {
    if (patch.length === 1 && isObject(patch[0]) && patch[0]['$patch'] === 'replace') return [];
    return patch.map((item) => (isObject(item) ? stripDirectives(clone(item)) : clone(item)));
  }
  const serverIndex = (item: unknown) =>
    isObject(item)
      ? current.findIndex((existing) => isObject(existing) && deepEqual(existing[mergeKey], item[mergeKey]))
      : -1;
  const merged: Array<{ value: unknown; index: number }> = [];
  const touched = new Set<number>();
  for (const item of patch) {
    if (!isObject(item)) continue;
    if (item['$patch'] === 'replace')
      return patch.filter((p) => p !== item).map((p) => stripDirectives(clone(p)));
    const at = serverIndex(item);
    if (at >= 0) touched.add(at);
    if (item['$patch'] === 'delete') continue;
    merged.push({
      value: at >= 0 ? smpValue(current[at], item, elementOf(node)) : stripDirectives(clone(item)),
      index: at,
    });
  }
  // The real order (normalizeElementOrder): patch items in patch order, each live-only item slotted
  // in before the first patch item that comes after it in the live list.
  let from = 0;
  current.forEach((item, index) => {
    if (touched.has(index)) return;
    let at = from;
    while (at < merged.length && !(merged[at].index > index)) at++;
    merged.splice(at, 0, { value: clone(item), index });
    from = at + 1;
  });
  return merged.map((m) => m.value);
}

function stripDirectives(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(stripDirectives);
  if (!isObject(value)) return value;
  for (const key of Object.keys(value)) {
    if (key.startsWith('$')) delete value[key];
    else value[key] = stripDirectives(value[key]);
  }
  return value;
}
