// Value checking against TOSCA types (§3.3 primitives, §3.6 constraints, §3.7.6 data types) and
// conversion into the model's Value (defaults applied, function calls kept as FunctionCall).
import { type FileUnit, joinPath, Reporter } from './context';
import { FUNCTION_NAMES, FunctionCall, type FunctionName, type Value } from './model';
import {
  compare,
  comparable,
  isTimestamp,
  parseScalarUnit,
  parseVersion,
  SCALAR_UNITS,
  VERSION_RE,
} from './scalars';
import { type EffectiveParam, type Located, schemaOfParam, type Schema } from './types';
import { describeNode, type YMap, type YNode } from './yaml-tree';

const FUNCTION_SET = new Set<string>(FUNCTION_NAMES);

export function functionNameOf(node: YNode): FunctionName | undefined {
  if (node.kind !== 'map' || node.entries.length !== 1) return undefined;
  const key = node.entries[0].key;
  return FUNCTION_SET.has(key) ? (key as FunctionName) : undefined;
}

/** A function call found in a value; its arguments are checked once the topology is known. */
export interface FunctionSite {
  node: YMap;
  name: FunctionName;
  unit: FileUnit;
  path: string;
  /** Where the value sits: SELF/SOURCE/TARGET meaning. */
  scope: FunctionScope;
}

export interface FunctionScope {
  /** Node template the value belongs to (SELF), if any. */
  self?: string;
  /** Relationship context: source and target node templates. */
  source?: string;
  target?: string;
  /** Description for messages, e.g. "node template 'web'". */
  owner: string;
  /** True in outputs/groups/policies where SELF has no meaning. */
  noSelf?: boolean;
}

export interface ValueContext {
  r: Reporter;
  unit: FileUnit;
  functions: FunctionSite[];
  scope: FunctionScope;
  /** Where a missing required property is reported when there is no properties mapping. */
  anchor?: number;
}

/** Converts a value tree, recording function calls; no type checks. */
export function toValue(node: YNode, ctx: ValueContext, path: string): Value {
  const fn = functionNameOf(node);
  if (fn) return functionCall(node as YMap, fn, ctx, path);
  switch (node.kind) {
    case 'scalar':
      return node.value;
    case 'seq':
      return node.items.map((item, i) => toValue(item, ctx, joinPath(path, i)));
    case 'map': {
      const out: Record<string, Value> = {};
      for (const e of node.entries) out[e.key] = toValue(e.value, ctx, joinPath(path, e.key));
      return out;
    }
  }
}

function functionCall(node: YMap, name: FunctionName, ctx: ValueContext, path: string): FunctionCall {
  ctx.functions.push({ node, name, unit: ctx.unit, path, scope: ctx.scope });
  const argNode = node.entries[0].value;
  const fpath = joinPath(path, name);
  const args =
    argNode.kind === 'seq'
      ? argNode.items.map((a, i) => toValue(a, ctx, joinPath(fpath, i)))
      : [toValue(argNode, ctx, fpath)];
  return new FunctionCall(name, args);
}

/**
 * Checks `node` against `schema` and returns its model value. `what` names the value in messages,
 * e.g. "property 'port' of node template 'web'".
 */
export function checkValue(
  node: YNode,
  schema: Schema,
  ctx: ValueContext,
  path: string,
  what: string,
): Value {
  const fn = functionNameOf(node);
  if (fn) return functionCall(node as YMap, fn, ctx, path);
  const mismatch = (expected: string) => reportMismatch(ctx, node, path, what, expected);
  let value: Value;
  switch (schema.base) {
    case 'unknown':
      return toValue(node, ctx, path);
    case 'list': {
      if (node.kind !== 'seq') {
        mismatch(`a list${schema.entry ? ` of ${schema.entry.name}` : ''}`);
        return toValue(node, ctx, path);
      }
      value = node.items.map((item, i) =>
        schema.entry
          ? checkValue(item, schema.entry, ctx, joinPath(path, i), `entry ${i} of ${what}`)
          : toValue(item, ctx, joinPath(path, i)),
      );
      break;
    }
    case 'map': {
      if (node.kind !== 'map') {
        mismatch(`a map${schema.entry ? ` of ${schema.entry.name}` : ''}`);
        return toValue(node, ctx, path);
      }
      const out: Record<string, Value> = {};
      for (const e of node.entries) {
        const epath = joinPath(path, e.key);
        if (schema.key) {
          const keyNode: YNode = { kind: 'scalar', pos: e.keyPos, value: e.key, raw: e.key, quoted: true };
          checkValue(keyNode, schema.key, ctx, epath, `key '${e.key}' of ${what}`);
        }
        out[e.key] = schema.entry
          ? checkValue(e.value, schema.entry, ctx, epath, `entry '${e.key}' of ${what}`)
          : toValue(e.value, ctx, epath);
      }
      value = out;
      break;
    }
    case 'complex': {
      if (node.kind !== 'map') {
        mismatch(`a ${schema.name} (a mapping)`);
        return toValue(node, ctx, path);
      }
      value = checkProperties(
        node,
        schema.properties ?? new Map(),
        ctx,
        path,
        `${schema.name} value of ${what}`,
        'property',
      );
      break;
    }
    case 'range': {
      if (!checkRange(node)) {
        mismatch('a range [min, max] of integers (max may be UNBOUNDED)');
        return toValue(node, ctx, path);
      }
      value = toValue(node, ctx, path);
      break;
    }
    default: {
      if (node.kind !== 'scalar') {
        mismatch(article(schema));
        return toValue(node, ctx, path);
      }
      if (!primitiveOk(schema.base, node.value, node.raw)) {
        mismatch(article(schema));
        return node.value;
      }
      value = schema.base === 'version' ? node.raw : node.value;
    }
  }
  if (schema.constraints.length) checkConstraints(node, value, schema, ctx, path, what);
  return value;
}

function reportMismatch(ctx: ValueContext, node: YNode, path: string, what: string, expected: string): void {
  ctx.r.error(
    'TOSCA_TYPE_MISMATCH',
    ctx.unit,
    node.pos,
    path,
    `${what} must be ${expected}; got ${describeNode(node)}`,
  );
}

function article(schema: Schema): string {
  const base = schema.base;
  const hint = base.startsWith('scalar-unit.') ? ` (e.g. "${exampleOf(base)}")` : '';
  const name = schema.dataType ? `${schema.name} (${base})` : base;
  return `${/^[aeiou]/.test(name) ? 'an' : 'a'} ${name}${hint}`;
}

function exampleOf(base: string): string {
  return (
    { 'scalar-unit.size': '10 GiB', 'scalar-unit.time': '30 s', 'scalar-unit.frequency': '2 GHz' }[base] ??
    '100 Mbps'
  );
}

function primitiveOk(base: string, v: unknown, raw: string): boolean {
  switch (base) {
    case 'string':
      return typeof v === 'string';
    case 'integer':
      return typeof v === 'number' && Number.isInteger(v);
    case 'float':
      return typeof v === 'number';
    case 'boolean':
      return typeof v === 'boolean';
    case 'null':
      return v === null;
    case 'timestamp':
      return typeof v === 'string' && isTimestamp(v);
    case 'version':
      return (typeof v === 'string' || typeof v === 'number') && VERSION_RE.test(raw);
    case 'range':
      return false;
    default:
      if (SCALAR_UNITS[base]) return parseScalarUnit(base, v) !== undefined;
      return true;
  }
}

/** Checks a properties mapping against definitions; applies defaults; reports unknown/missing. */
export function checkProperties(
  map: YMap | undefined,
  defs: Map<string, EffectiveParam>,
  ctx: ValueContext,
  path: string,
  owner: string,
  kind: 'property' | 'attribute',
): Record<string, Value> {
  const out: Record<string, Value> = {};
  if (map) {
    for (const e of map.entries) {
      const def = defs.get(e.key);
      const epath = joinPath(path, e.key);
      if (!def) {
        ctx.r.error(
          'TOSCA_UNKNOWN_PROPERTY',
          ctx.unit,
          e.keyPos,
          epath,
          `${owner} has no ${kind} '${e.key}'${suggest(e.key, defs)}`,
        );
        out[e.key] = toValue(e.value, ctx, epath);
        continue;
      }
      out[e.key] = checkValue(e.value, schemaOfParam(def), ctx, epath, `${kind} '${e.key}' of ${owner}`);
    }
  }
  for (const [name, def] of defs) {
    if (name in out) continue;
    if (def.defaultNode && def.defaultUnit) {
      // Defaults were checked where they are defined; convert without reporting again.
      if (def.defaultNode.kind === 'scalar') out[name] = def.defaultNode.value;
      else
        out[name] = toValue(
          def.defaultNode,
          { ...ctx, unit: def.defaultUnit, r: new Reporter() },
          joinPath(path, name),
        );
    } else if (def.required && kind === 'property') {
      ctx.r.error(
        'TOSCA_REQUIRED_PROPERTY',
        ctx.unit,
        map?.pos ?? ctx.anchor ?? 0,
        joinPath(path, name),
        `${owner} is missing required ${kind} '${name}' (it has no default)`,
      );
    }
  }
  return out;
}

function suggest(name: string, defs: Map<string, EffectiveParam>): string {
  const lower = name.toLowerCase();
  for (const k of defs.keys())
    if (k.toLowerCase() === lower || k.replace(/_/g, '') === lower.replace(/[-_]/g, ''))
      return `; did you mean '${k}'?`;
  return defs.size
    ? `; it defines ${[...defs.keys()].slice(0, 8).join(', ')}${defs.size > 8 ? ', …' : ''}`
    : '';
}

// ---- constraints (TOSCA 1.3 §3.6.3) ----

const CONSTRAINT_OPS = new Set([
  'equal',
  'greater_than',
  'greater_or_equal',
  'less_than',
  'less_or_equal',
  'in_range',
  'valid_values',
  'length',
  'min_length',
  'max_length',
  'pattern',
  'schema',
]);

/**
 * Compiled patterns by text. Templates come from users, so the cache is bounded (cleared when full)
 * and a long-running orchestrator does not grow with every pattern it was ever sent.
 */
const patternCache = new Map<string, RegExp | null>();
const PATTERN_CACHE_LIMIT = 2_000;
export function compilePattern(p: string): RegExp | null {
  let re = patternCache.get(p);
  if (re === undefined) {
    try {
      // TOSCA patterns match the whole value.
      re = new RegExp(`^(?:${p})$`, 'u');
    } catch {
      re = null;
    }
    if (patternCache.size >= PATTERN_CACHE_LIMIT) patternCache.clear();
    patternCache.set(p, re);
  }
  return re;
}

/** Validates a constraint clause where it is written (TOSCA_INVALID_CONSTRAINT). */
export function checkConstraintClause(r: Reporter, c: Located, base: string): void {
  const { node, unit, path } = c;
  if (node.kind !== 'map' || node.entries.length !== 1) {
    r.error(
      'TOSCA_INVALID_CONSTRAINT',
      unit,
      node.pos,
      path,
      'a constraint clause must be a single-key mapping, e.g. { greater_than: 0 }',
    );
    return;
  }
  const { key: op, value: arg } = node.entries[0];
  const bad = (msg: string) =>
    r.error('TOSCA_INVALID_CONSTRAINT', unit, arg.pos, joinPath(path, op), `${op}: ${msg}`);
  if (!CONSTRAINT_OPS.has(op)) {
    r.error(
      'TOSCA_INVALID_CONSTRAINT',
      unit,
      node.entries[0].keyPos,
      joinPath(path, op),
      `unknown constraint operator '${op}'`,
    );
    return;
  }
  const cmp = (n: YNode) =>
    n.kind === 'scalar' &&
    (base === 'unknown' ||
      base === 'complex' ||
      base === 'list' ||
      base === 'map' ||
      comparable(base, n.value, n.raw) !== undefined);
  switch (op) {
    case 'greater_than':
    case 'greater_or_equal':
    case 'less_than':
    case 'less_or_equal':
      if (!cmp(arg)) bad(`the argument must be a comparable ${base} value`);
      break;
    case 'in_range':
      if (
        arg.kind !== 'seq' ||
        arg.items.length !== 2 ||
        !arg.items.every((i) => cmp(i) || (i.kind === 'scalar' && i.value === 'UNBOUNDED'))
      ) {
        bad(`the argument must be a [min, max] pair of ${base} values`);
      }
      break;
    case 'valid_values':
      if (arg.kind !== 'seq') bad('the argument must be a list');
      break;
    case 'length':
    case 'min_length':
    case 'max_length':
      if (!(
        arg.kind === 'scalar' &&
        typeof arg.value === 'number' &&
        Number.isInteger(arg.value) &&
        arg.value >= 0
      )) {
        bad('the argument must be a non-negative integer');
      }
      break;
    case 'pattern':
      if (!(arg.kind === 'scalar' && typeof arg.value === 'string' && compilePattern(arg.value)))
        bad('the argument must be a valid regular expression');
      break;
  }
}

function sizeOf(v: Value): number | undefined {
  if (typeof v === 'string' || Array.isArray(v)) return v.length;
  if (v && typeof v === 'object' && !(v instanceof FunctionCall)) return Object.keys(v).length;
  return undefined;
}

function deepEqual(a: unknown, b: unknown): boolean {
  if (a === b) return true;
  return JSON.stringify(a) === JSON.stringify(b);
}

function checkConstraints(
  node: YNode,
  value: Value,
  schema: Schema,
  ctx: ValueContext,
  path: string,
  what: string,
): void {
  for (const c of schema.constraints) {
    const failure = violation(c, node, value, schema.base);
    if (failure) {
      ctx.r.error(
        'TOSCA_CONSTRAINT_VIOLATED',
        ctx.unit,
        node.pos,
        path,
        `${what} ${failure}; got ${describeNode(node)}`,
      );
    }
  }
}

/** Returns a description of the violated constraint, or undefined when satisfied (or not evaluable). */
export function violation(c: Located, node: YNode, value: Value, base: string): string | undefined {
  const cn = c.node;
  if (cn.kind !== 'map' || cn.entries.length !== 1) return undefined;
  const { key: op, value: arg } = cn.entries[0];
  const raw = node.kind === 'scalar' ? node.raw : undefined;
  switch (op) {
    case 'equal': {
      const o = node.kind === 'scalar' && arg.kind === 'scalar' ? ordTo(base, value, raw, arg) : undefined;
      if (o !== undefined ? o !== 0 : !deepEqual(value, toPlain(arg)))
        return `must equal ${describeNode(arg)}`;
      return undefined;
    }
    case 'greater_than': {
      const o = ordTo(base, value, raw, arg);
      return o !== undefined && !(o > 0) ? `must be greater than ${describeNode(arg)}` : undefined;
    }
    case 'greater_or_equal': {
      const o = ordTo(base, value, raw, arg);
      return o !== undefined && !(o >= 0)
        ? `must be greater than or equal to ${describeNode(arg)}`
        : undefined;
    }
    case 'less_than': {
      const o = ordTo(base, value, raw, arg);
      return o !== undefined && !(o < 0) ? `must be less than ${describeNode(arg)}` : undefined;
    }
    case 'less_or_equal': {
      const o = ordTo(base, value, raw, arg);
      return o !== undefined && !(o <= 0) ? `must be less than or equal to ${describeNode(arg)}` : undefined;
    }
    case 'in_range': {
      if (arg.kind !== 'seq' || arg.items.length !== 2) return undefined;
      const [lo, hi] = arg.items;
      if (base === 'range' && Array.isArray(value)) return undefined;
      const a = ordTo(base, value, raw, lo);
      const b = hi.kind === 'scalar' && hi.value === 'UNBOUNDED' ? -1 : ordTo(base, value, raw, hi);
      if ((a !== undefined && a < 0) || (b !== undefined && b > 0))
        return `must be in the range [${describeNode(lo)}, ${describeNode(hi)}]`;
      return undefined;
    }
    case 'valid_values': {
      if (arg.kind !== 'seq') return undefined;
      for (const i of arg.items) {
        if (node.kind === 'scalar' && i.kind === 'scalar') {
          const o = ordTo(base, value, raw, i);
          if (o !== undefined ? o === 0 : i.value === value) return undefined;
        } else if (deepEqual(value, toPlain(i))) return undefined;
      }
      return `must be one of ${arg.items.map(describeNode).join(', ')}`;
    }
    case 'length':
    case 'min_length':
    case 'max_length': {
      const n = sizeOf(value);
      const want = arg.kind === 'scalar' && typeof arg.value === 'number' ? arg.value : undefined;
      if (n === undefined || want === undefined) return undefined;
      if (op === 'length' && n !== want) return `must have length ${want}`;
      if (op === 'min_length' && n < want) return `must have length at least ${want}`;
      if (op === 'max_length' && n > want) return `must have length at most ${want}`;
      return undefined;
    }
    case 'pattern': {
      if (typeof value !== 'string' || arg.kind !== 'scalar' || typeof arg.value !== 'string')
        return undefined;
      const re = compilePattern(arg.value);
      return re && !re.test(value) ? `must match the pattern ${JSON.stringify(arg.value)}` : undefined;
    }
    default:
      return undefined; // schema: not evaluated
  }
}

/** The order of `value` (raw source `raw`) against the constraint argument `n`, when comparable. */
function ordTo(base: string, value: Value, raw: string | undefined, n: YNode): number | undefined {
  if (n.kind !== 'scalar') return undefined;
  const a = comparable(base, value, raw);
  if (a === undefined) return undefined;
  const b = argumentComparable(base, n);
  return b === undefined ? undefined : compare(a, b);
}

type Comparable = ReturnType<typeof comparable>;
/**
 * Scalar-unit constraint arguments ('0 s', '1 GB') are parsed once: they are few and repeat for
 * every value checked against the same definition. (Keyed by text, not by node: a WeakMap keyed by
 * a template's young nodes would keep them alive through young-generation GCs.)
 */
const scalarUnitArguments = new Map<string, Comparable>();
function argumentComparable(base: string, n: YNode & { kind: 'scalar' }): Comparable {
  if (!base.startsWith('scalar-unit.') || typeof n.value !== 'string')
    return comparable(base, n.value, n.raw);
  const key = `${base}\0${n.value}`;
  if (scalarUnitArguments.has(key)) return scalarUnitArguments.get(key);
  const value = comparable(base, n.value, n.raw);
  if (scalarUnitArguments.size >= 10_000) scalarUnitArguments.clear();
  scalarUnitArguments.set(key, value);
  return value;
}

function toPlain(node: YNode): unknown {
  if (node.kind === 'scalar') return node.value;
  if (node.kind === 'seq') return node.items.map(toPlain);
  const out: Record<string, unknown> = {};
  for (const e of node.entries) out[e.key] = toPlain(e.value);
  return out;
}

/** A range value [min, max] (TOSCA 1.3 §3.3.3). */
export function checkRange(node: YNode): boolean {
  if (node.kind !== 'seq' || node.items.length !== 2) return false;
  const [a, b] = node.items;
  const isInt = (n: YNode) => n.kind === 'scalar' && typeof n.value === 'number' && Number.isInteger(n.value);
  if (!isInt(a)) return false;
  if (b.kind === 'scalar' && b.value === 'UNBOUNDED') return true;
  return isInt(b) && (b as { value: number }).value >= (a as { value: number }).value;
}

export { parseVersion };
