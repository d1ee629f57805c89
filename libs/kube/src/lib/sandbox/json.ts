/**
 * JSON values as the sandbox stores them. Objects are kept exactly as they would travel on the wire
 * (timestamps are strings), never as client-library model classes, so what a client reads back is
 * byte-for-byte what it would read from a real API server.
 */
export type JsonObject = Record<string, unknown>;

export function isObject(value: unknown): value is JsonObject {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/**
 * Deep copy of a JSON value (stored objects are never mutated in place). Hand-written: for plain
 * JSON it is several times faster than structuredClone, and every write copies.
 */
export function clone<T>(value: T): T {
  if (value === null || typeof value !== 'object') return value;
  if (Array.isArray(value)) return value.map((item: unknown) => clone(item)) as T;
  const source = value as Record<string, unknown>;
  const out: Record<string, unknown> = {};
  for (const key of Object.keys(source)) out[key] = clone(source[key]);
  return out as T;
}

export function deepEqual(a: unknown, b: unknown): boolean {
  if (a === b) return true;
  if (typeof a !== typeof b || a === null || b === null || typeof a !== 'object') return false;
  if (Array.isArray(a)) {
    if (!Array.isArray(b) || a.length !== b.length) return false;
    for (let i = 0; i < a.length; i++) if (!deepEqual(a[i], b[i])) return false;
    return true;
  }
  if (Array.isArray(b)) return false;
  const ao = a as Record<string, unknown>;
  const bo = b as Record<string, unknown>;
  const aKeys = Object.keys(ao);
  if (aKeys.length !== Object.keys(bo).length) return false;
  for (const key of aKeys) {
    if (!Object.prototype.hasOwnProperty.call(bo, key) || !deepEqual(ao[key], bo[key])) return false;
  }
  return true;
}

export function getPath(value: unknown, path: readonly string[]): unknown {
  let current = value;
  for (const segment of path) {
    if (!isObject(current)) return undefined;
    current = current[segment];
  }
  return current;
}

export function getObject(value: unknown, path: readonly string[]): JsonObject | undefined {
  const found = getPath(value, path);
  return isObject(found) ? found : undefined;
}

export function getString(value: unknown, path: readonly string[]): string | undefined {
  const found = getPath(value, path);
  return typeof found === 'string' ? found : undefined;
}

export function getNumber(value: unknown, path: readonly string[]): number | undefined {
  const found = getPath(value, path);
  return typeof found === 'number' ? found : undefined;
}

export function getArray(value: unknown, path: readonly string[]): unknown[] | undefined {
  const found = getPath(value, path);
  return Array.isArray(found) ? found : undefined;
}

/** Sets a nested field, creating intermediate objects. */
export function setPath(target: JsonObject, path: readonly string[], value: unknown): void {
  let current = target;
  for (const segment of path.slice(0, -1)) {
    const next = current[segment];
    if (isObject(next)) current = next;
    else {
      const created: JsonObject = {};
      current[segment] = created;
      current = created;
    }
  }
  current[path[path.length - 1]] = value;
}

/** Parses a JSON text without throwing. */
export function tryParseJson(text: string): { ok: true; value: unknown } | { ok: false; error: string } {
  try {
    return { ok: true, value: JSON.parse(text) as unknown };
  } catch (error) {
    return { ok: false, error: error instanceof Error ? error.message : String(error) };
  }
}
