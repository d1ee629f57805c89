import { isObject, type JsonObject } from './json';

/**
 * A set of field paths in the `FieldsV1` encoding used by managedFields: every path element is a
 * string — `f:<field>`, `k:<json of the list-map key>`, `v:<json of a set value>`, `i:<index>` —
 * and a node is a member of the set itself (`"."` in FieldsV1) or only a parent of members.
 */
export class FieldSet {
  member = false;
  readonly children = new Map<string, FieldSet>();

  static fromFieldsV1(encoded: unknown): FieldSet {
    const set = new FieldSet();
    if (isObject(encoded)) decodeInto(set, encoded);
    return set;
  }

  isEmpty(): boolean {
    if (this.member) return false;
    for (const child of this.children.values()) if (!child.isEmpty()) return false;
    return true;
  }

  insert(path: readonly string[]): void {
    let children = this.children;
    let node: FieldSet | undefined;
    for (const element of path) {
      node = children.get(element);
      if (!node) {
        node = new FieldSet();
        children.set(element, node);
      }
      children = node.children;
    }
    (node ?? this).member = true;
  }

  has(path: readonly string[]): boolean {
    const node = this.find(path);
    return node !== undefined && node.member;
  }

  find(path: readonly string[]): FieldSet | undefined {
    let children = this.children;
    let node: FieldSet | undefined;
    for (const element of path) {
      node = children.get(element);
      if (!node) return undefined;
      children = node.children;
    }
    return node ?? this;
  }

  /** True when a member lies at or below `path`. */
  hasAtOrBelow(path: readonly string[]): boolean {
    const node = this.find(path);
    return node !== undefined && !node.isEmpty();
  }

  clone(): FieldSet {
    const copy = new FieldSet();
    copy.member = this.member;
    for (const [key, child] of this.children) copy.children.set(key, child.clone());
    return copy;
  }

  union(other: FieldSet): FieldSet {
    const out = this.clone();
    out.addAll(other);
    return out;
  }

  private addAll(other: FieldSet): void {
    this.member ||= other.member;
    for (const [key, child] of other.children) {
      let mine = this.children.get(key);
      if (!mine) {
        mine = new FieldSet();
        this.children.set(key, mine);
      }
      mine.addAll(child);
    }
  }

  difference(other: FieldSet): FieldSet {
    const out = new FieldSet();
    out.member = this.member && !other.member;
    for (const [key, child] of this.children) {
      const theirs = other.children.get(key);
      const rest = theirs ? child.difference(theirs) : child.clone();
      if (!rest.isEmpty()) out.children.set(key, rest);
    }
    return out;
  }

  intersection(other: FieldSet): FieldSet {
    const out = new FieldSet();
    out.member = this.member && other.member;
    for (const [key, child] of this.children) {
      const theirs = other.children.get(key);
      if (!theirs) continue;
      const both = child.intersection(theirs);
      if (!both.isEmpty()) out.children.set(key, both);
    }
    return out;
  }

  /** Every member path, depth first in key order. */
  paths(prefix: string[] = []): string[][] {
    const out: string[][] = [];
    if (this.member) out.push(prefix);
    for (const key of [...this.children.keys()].sort()) {
      out.push(...(this.children.get(key) as FieldSet).paths([...prefix, key]));
    }
    return out;
  }

  /** FieldsV1 JSON, keys sorted as the real server writes them. */
  toFieldsV1(): JsonObject {
    const out: JsonObject = {};
    const keys = [...this.children.keys()].filter((k) => !(this.children.get(k) as FieldSet).isEmpty());
    if (this.member && keys.length > 0) out['.'] = {};
    for (const key of keys.sort()) out[key] = (this.children.get(key) as FieldSet).toFieldsV1();
    return out;
  }
}

function decodeInto(set: FieldSet, encoded: JsonObject): void {
  const keys = Object.keys(encoded);
  if (keys.length === 0) {
    set.member = true;
    return;
  }
  for (const key of keys) {
    if (key === '.') {
      set.member = true;
      continue;
    }
    const child = new FieldSet();
    const value = encoded[key];
    decodeInto(child, isObject(value) ? value : {});
    set.children.set(key, child);
  }
}

// ---- path elements ---------------------------------------------------------------------------

export function fieldElement(name: string): string {
  return `f:${name}`;
}

/** `k:{"name":"c"}` with keys sorted by name, like structured-merge-diff. */
export function keyElement(keys: readonly string[], item: JsonObject): string {
  const sorted = [...keys].sort();
  const parts = sorted.map((k) => `${JSON.stringify(k)}:${JSON.stringify(item[k] ?? null)}`);
  return `k:{${parts.join(',')}}`;
}

export function valueElement(value: unknown): string {
  return `v:${JSON.stringify(value)}`;
}

export function indexElement(index: number): string {
  return `i:${index}`;
}

/**
 * The human form used in conflict messages: `.spec.template.spec.containers[name="c"].image`,
 * `.metadata.finalizers[="x"]`.
 */
export function describePath(path: readonly string[]): string {
  return path
    .map((element) => {
      const body = element.slice(2);
      switch (element[0]) {
        case 'f':
          return `.${body}`;
        case 'k': {
          const parsed = JSON.parse(body) as Record<string, unknown>;
          const parts = Object.keys(parsed)
            .sort()
            .map((k) => `${k}=${goScalar(parsed[k])}`);
          return `[${parts.join(',')}]`;
        }
        case 'v':
          return `[=${goScalar(JSON.parse(body))}]`;
        default:
          return `[${body}]`;
      }
    })
    .join('');
}

function goScalar(value: unknown): string {
  return typeof value === 'string' ? JSON.stringify(value) : JSON.stringify(value ?? null);
}
