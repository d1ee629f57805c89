// A light, position-carrying tree of a YAML file. Every node keeps its source offset so that any
// check can report file:line:column; parsing never throws. The everyday subset of YAML is read by
// the fast parser of fast-yaml.ts; everything else (and every malformed file) by the `yaml`
// package's document model, converted here, which reports YAML problems with their positions.
import { Document, isAlias, isMap, isScalar, isSeq, parseDocument, type Node } from 'yaml';
import { parseFast } from './fast-yaml';

export interface YScalar {
  kind: 'scalar';
  pos: number;
  value: string | number | boolean | null;
  /** The source text of a plain scalar (e.g. "1.0" for a version), else the string form. */
  raw: string;
  quoted: boolean;
}
export interface YEntry {
  key: string;
  keyPos: number;
  value: YNode;
}
export interface YMap {
  kind: 'map';
  pos: number;
  entries: YEntry[];
  byKey: Map<string, YEntry>;
}
export interface YSeq {
  kind: 'seq';
  pos: number;
  items: YNode[];
}
export type YNode = YScalar | YMap | YSeq;

export interface TreeProblem {
  code: 'TOSCA_YAML_SYNTAX' | 'TOSCA_DUPLICATE_KEY' | 'TOSCA_SYNTAX';
  pos: number;
  message: string;
  fatal: boolean;
}

/** Offset → 1-based line and column (as the `yaml` package's LineCounter). */
export interface LinePositions {
  linePos(offset: number): { line: number; col: number };
}

/** Line starts of a text, computed on the first question (valid templates never ask). */
export class LineIndex implements LinePositions {
  private starts?: number[];

  constructor(private readonly text: string) {}

  get lineStarts(): readonly number[] {
    if (!this.starts) {
      const starts = [0];
      for (let i = this.text.indexOf('\n'); i >= 0; i = this.text.indexOf('\n', i + 1)) starts.push(i + 1);
      this.starts = starts;
    }
    return this.starts;
  }

  linePos(offset: number): { line: number; col: number } {
    const starts = this.lineStarts;
    let low = 0;
    let high = starts.length;
    while (low < high) {
      const mid = (low + high) >> 1;
      if (starts[mid] < offset) low = mid + 1;
      else high = mid;
    }
    if (starts[low] === offset) return { line: low + 1, col: 1 };
    if (low === 0) return { line: 0, col: offset };
    return { line: low, col: offset - starts[low - 1] + 1 };
  }
}

export interface ParsedYaml {
  root?: YNode;
  lineCounter: LinePositions;
  problems: TreeProblem[];
}

const MAX_DEPTH = 200;
const MAX_ALIAS_EXPANSIONS = 10_000;

export function parseYaml(text: string): ParsedYaml {
  const lineCounter = new LineIndex(text);
  const fast = parseFast(text);
  if (fast) return { root: fast.root, lineCounter, problems: [] };
  return parseYamlFully(text, lineCounter);
}

/** The `yaml` package's parse: every YAML construct, every YAML problem with its position. */
export function parseYamlFully(text: string, lineCounter: LinePositions = new LineIndex(text)): ParsedYaml {
  const problems: TreeProblem[] = [];
  let doc: Document.Parsed;
  try {
    doc = parseDocument(text, {
      prettyErrors: false,
      uniqueKeys: true,
      keepSourceTokens: false,
    });
  } catch (e) {
    problems.push({
      code: 'TOSCA_YAML_SYNTAX',
      pos: 0,
      message: `YAML parser failed: ${String(e)}`,
      fatal: true,
    });
    return { lineCounter, problems };
  }
  let fatal = false;
  for (const err of doc.errors) {
    const duplicate = err.code === 'DUPLICATE_KEY';
    fatal ||= !duplicate;
    problems.push({
      code: duplicate ? 'TOSCA_DUPLICATE_KEY' : 'TOSCA_YAML_SYNTAX',
      pos: err.pos[0],
      message: firstLine(err.message),
      fatal: !duplicate,
    });
  }
  if (fatal) return { lineCounter, problems };
  const state = { aliases: 0, doc, problems };
  const root = doc.contents ? convert(doc.contents as Node, state, 0, new Set()) : undefined;
  return { root, lineCounter, problems };
}

function firstLine(message: string): string {
  const i = message.indexOf('\n');
  return (i < 0 ? message : message.slice(0, i)).trim();
}

interface ConvertState {
  aliases: number;
  doc: Document.Parsed;
  problems: TreeProblem[];
}

function convert(node: Node, state: ConvertState, depth: number, visiting: Set<Node>): YNode {
  const pos = node.range?.[0] ?? 0;
  if (depth > MAX_DEPTH) {
    state.problems.push({ code: 'TOSCA_SYNTAX', pos, message: 'YAML nesting is too deep', fatal: false });
    return nullScalar(pos);
  }
  if (isAlias(node)) {
    const target = node.resolve(state.doc);
    if (!target || visiting.has(target) || ++state.aliases > MAX_ALIAS_EXPANSIONS) {
      state.problems.push({
        code: 'TOSCA_SYNTAX',
        pos,
        message: `alias *${node.source} is recursive, unresolved or expanded too often`,
        fatal: false,
      });
      return nullScalar(pos);
    }
    visiting.add(target);
    const out = convert(target, state, depth + 1, visiting);
    visiting.delete(target);
    return out;
  }
  if (isMap(node)) {
    const map: YMap = { kind: 'map', pos, entries: [], byKey: new Map() };
    for (const pair of node.items) {
      const keyNode = pair.key as Node | null;
      const keyPos = keyNode?.range?.[0] ?? pos;
      let key: string;
      if (keyNode === null || keyNode === undefined) key = '';
      else if (isScalar(keyNode)) key = String(keyNode.value);
      else {
        state.problems.push({
          code: 'TOSCA_SYNTAX',
          pos: keyPos,
          message: 'mapping keys must be scalars',
          fatal: false,
        });
        continue;
      }
      const value = pair.value ? convert(pair.value as Node, state, depth + 1, visiting) : nullScalar(keyPos);
      const entry: YEntry = { key, keyPos, value };
      if (!map.byKey.has(key)) map.byKey.set(key, entry);
      map.entries.push(entry);
    }
    return map;
  }
  if (isSeq(node)) {
    const items: YNode[] = [];
    for (const item of node.items) {
      items.push(item ? convert(item as Node, state, depth + 1, visiting) : nullScalar(pos));
    }
    return { kind: 'seq', pos, items };
  }
  if (isScalar(node)) {
    const v = node.value;
    let value: YScalar['value'];
    if (v === null || v === undefined) value = null;
    else if (typeof v === 'string' || typeof v === 'number' || typeof v === 'boolean') value = v;
    else if (typeof v === 'bigint') value = Number(v);
    else value = String(v);
    const quoted = node.type === 'QUOTE_DOUBLE' || node.type === 'QUOTE_SINGLE';
    const source = (node as { source?: unknown }).source;
    const raw = typeof source === 'string' && !quoted ? source : value === null ? '' : String(value);
    return { kind: 'scalar', pos, value, raw, quoted };
  }
  return nullScalar(pos);
}

export function nullScalar(pos: number): YScalar {
  return { kind: 'scalar', pos, value: null, raw: '', quoted: false };
}

/** Wraps a plain JS value (a supplied input) as a tree positioned at `pos`. */
export function fromJs(value: unknown, pos: number, depth = 0): YNode {
  if (depth > MAX_DEPTH) return nullScalar(pos);
  if (Array.isArray(value)) return { kind: 'seq', pos, items: value.map((v) => fromJs(v, pos, depth + 1)) };
  if (value !== null && typeof value === 'object') {
    const map: YMap = { kind: 'map', pos, entries: [], byKey: new Map() };
    for (const [key, v] of Object.entries(value as Record<string, unknown>)) {
      const entry = { key, keyPos: pos, value: fromJs(v, pos, depth + 1) };
      map.entries.push(entry);
      map.byKey.set(key, entry);
    }
    return map;
  }
  if (value === undefined || value === null) return nullScalar(pos);
  if (typeof value === 'string' || typeof value === 'number' || typeof value === 'boolean') {
    return { kind: 'scalar', pos, value, raw: String(value), quoted: typeof value === 'string' };
  }
  return { kind: 'scalar', pos, value: String(value), raw: String(value), quoted: true };
}

/** Plain JS value of a tree (functions are not interpreted here). */
export function toJs(node: YNode): unknown {
  switch (node.kind) {
    case 'scalar':
      return node.value;
    case 'seq':
      return node.items.map(toJs);
    case 'map': {
      const out: Record<string, unknown> = {};
      for (const e of node.entries) out[e.key] = toJs(e.value);
      return out;
    }
  }
}

export function isYMap(node: YNode | undefined): node is YMap {
  return node?.kind === 'map';
}
export function isYSeq(node: YNode | undefined): node is YSeq {
  return node?.kind === 'seq';
}
export function isYScalar(node: YNode | undefined): node is YScalar {
  return node?.kind === 'scalar';
}
export function scalarString(node: YNode | undefined): string | undefined {
  return node?.kind === 'scalar' && node.value !== null ? String(node.value) : undefined;
}
export function describeNode(node: YNode): string {
  if (node.kind === 'map') return 'a mapping';
  if (node.kind === 'seq') return 'a list';
  if (node.value === null) return 'null';
  return typeof node.value === 'string' ? JSON.stringify(node.value) : String(node.raw || node.value);
}
