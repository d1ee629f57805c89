// Source positions of a processed template, for checks that run on the resolved model after the
// processor (the Stratum rules and the translator, issue #5 §2): they report file:line:column like
// the processor does. The model itself stays plain data; the positions are kept beside it.
import type { FileUnit } from './context';
import { joinPath } from './context';
import type { ServiceTemplate } from './model';
import type { YNode } from './yaml-tree';

/** Keys (mapping keys) and indexes (list items) from the document root, e.g. ['topology_template', 'node_templates', 'web']. */
export type YamlPath = ReadonlyArray<string | number>;

export interface SourcePosition {
  /** 1-based. */
  line: number;
  /** 1-based. */
  column: number;
}

export interface TemplateLocator {
  /** The entry file, as diagnostics name it. */
  readonly file: string;
  /**
   * Where the node at `path` starts: its value, or with part 'key' its mapping key. When the path
   * does not exist as written (e.g. a property left to its default) it is the nearest ancestor.
   */
  position(path: YamlPath, part?: 'key' | 'value'): SourcePosition;
  /** Whether `path` exists as written. */
  has(path: YamlPath): boolean;
  /** Index of policy `name` in `topology_template.policies` as written (policies are a list of single-key maps). */
  policyIndex(name: string): number | undefined;
  /** Index in node template `node`'s `requirements` list of the `nth` (0-based) requirement named `name`. */
  requirementIndex(node: string, name: string, nth: number): number | undefined;
}

/** `a.b[0].c`, the form the processor's diagnostics use. */
export function formatYamlPath(path: YamlPath): string {
  let out = '';
  for (const segment of path) out = joinPath(out, segment);
  return out;
}

// A non-enumerable symbol property of the template, not a WeakMap: V8's young-generation GC keeps
// the values of a WeakMap alive while their keys are young, so a WeakMap made every processed tree
// survive (and be copied by) several collections — processing took twice as long with 5x pauses.
const LOCATOR = Symbol('stratum.tosca.locator');
type WithLocator = ServiceTemplate & { [LOCATOR]?: TemplateLocator };

/** Called by processTemplate: keeps the entry file's tree beside the model built from it. */
export function attachLocator(template: ServiceTemplate, unit: FileUnit): void {
  Object.defineProperty(template, LOCATOR, {
    value: unitLocator(unit),
    enumerable: false,
    configurable: true,
    writable: true,
  });
}

/**
 * The positions of a template returned by processTemplate. A template built otherwise (or copied)
 * has none: every position is then 1:1 of its file, the YAML path still says where.
 */
export function locatorOf(template: ServiceTemplate): TemplateLocator {
  return (template as WithLocator)[LOCATOR] ?? noLocator(template.file);
}

function noLocator(file: string): TemplateLocator {
  return {
    file,
    position: () => ({ line: 1, column: 1 }),
    has: () => false,
    policyIndex: () => undefined,
    requirementIndex: () => undefined,
  };
}

interface Found {
  node: YNode;
  keyPos?: number;
  exact: boolean;
}

function unitLocator(unit: FileUnit): TemplateLocator {
  const root = unit.root;
  const toPosition = (pos: number): SourcePosition => {
    if (!unit.lineCounter || pos <= 0) return { line: 1, column: 1 };
    const lp = unit.lineCounter.linePos(pos);
    return { line: Math.max(1, lp.line), column: Math.max(1, lp.col) };
  };
  const find = (path: YamlPath): Found | undefined => {
    if (!root) return undefined;
    let found: Found = { node: root, exact: true };
    for (const segment of path) {
      const node = found.node;
      if (typeof segment === 'number') {
        const item = node.kind === 'seq' ? node.items[segment] : undefined;
        if (!item) return { ...found, exact: false };
        found = { node: item, exact: true };
      } else {
        const entry = node.kind === 'map' ? node.byKey.get(segment) : undefined;
        if (!entry) return { ...found, exact: false };
        found = { node: entry.value, keyPos: entry.keyPos, exact: true };
      }
    }
    return found;
  };
  const listItems = (path: YamlPath): YNode[] => {
    const found = find(path);
    return found?.exact && found.node.kind === 'seq' ? found.node.items : [];
  };
  return {
    file: unit.name,
    position(path, part = 'value') {
      const found = find(path);
      if (!found) return { line: 1, column: 1 };
      const pos = part === 'key' && found.keyPos !== undefined && found.exact ? found.keyPos : found.node.pos;
      // A value-less key (`name:`) has no node of its own: point at the key.
      return toPosition(pos || found.keyPos || 0);
    },
    has: (path) => find(path)?.exact === true,
    policyIndex(name) {
      const items = listItems(['topology_template', 'policies']);
      const i = items.findIndex((item) => item.kind === 'map' && item.entries[0]?.key === name);
      return i < 0 ? undefined : i;
    },
    requirementIndex(node, name, nth) {
      const items = listItems(['topology_template', 'node_templates', node, 'requirements']);
      let seen = 0;
      for (const [i, item] of items.entries()) {
        if (item.kind !== 'map' || item.entries[0]?.key !== name) continue;
        if (seen === nth) return i;
        seen++;
      }
      return undefined;
    },
  };
}
