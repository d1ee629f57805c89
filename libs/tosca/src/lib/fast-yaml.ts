// A fast parser for the everyday subset of YAML 1.2 that templates are written in: block mappings
// and sequences, single-line plain and quoted scalars, flow collections (also over several lines),
// literal and folded block scalars, comments. It builds the position-carrying tree of yaml-tree.ts
// directly, some 40 times faster than the `yaml` package's document model.
//
// It is only a fast path: on anything outside the subset (anchors, aliases, tags, directives,
// several documents, multi-line plain or quoted scalars, keep chomping, tabs, explicit keys,
// duplicate keys, anything malformed, ...) it gives up (returns undefined) and yaml-tree.ts parses
// the text with the `yaml` package, which reports every YAML problem with its position. Whatever it
// accepts it reads exactly as that package does (YAML 1.2 core schema, same values, source text and
// node positions); yaml-tree.spec.ts compares both on the library's files and on mutations of them.
import type { YMap, YNode, YScalar, YSeq } from './yaml-tree';

/** Thrown (one shared instance, no stack) to leave the fast path. */
const UNSUPPORTED: unknown = Object.freeze({ unsupported: true });

// Characters the fast path does not handle: tabs, C0/C1 controls, DEL, line/paragraph separators,
// BOM and non-characters, and a carriage return that does not end a line.
const FORBIDDEN = /[\t\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\u2028\u2029\ufeff\ufffe\uffff]|\r(?!\n)/;

const MAX_DEPTH = 100;
const MAX_KEY_LENGTH = 1000;

const SPACE = 0x20;
const LF = 0x0a;
const CR = 0x0d;
const HASH = 0x23;
const COLON = 0x3a;
const DASH = 0x2d;
const SQUOTE = 0x27;
const DQUOTE = 0x22;
const LBRACKET = 0x5b;
const RBRACKET = 0x5d;
const LBRACE = 0x7b;
const RBRACE = 0x7d;
const COMMA = 0x2c;
const PIPE = 0x7c;
const GT = 0x3e;

/** Characters a plain scalar may not start with (YAML c-indicator), '-' '?' ':' handled apart. */
const INDICATOR = new Set([',', '[', ']', '{', '}', '#', '&', '*', '!', '|', '>', "'", '"', '%', '@', '`']);

const ESCAPES: Record<string, string> = {
  '0': '\0',
  a: '\x07',
  b: '\b',
  e: '\x1b',
  f: '\f',
  n: '\n',
  r: '\r',
  t: '\t',
  v: '\v',
  N: '\u0085',
  _: '\u00a0',
  L: '\u2028',
  P: '\u2029',
  ' ': ' ',
  '"': '"',
  '/': '/',
  '\\': '\\',
};

/** The tree of `text`, or undefined when the text is outside the subset (or not well-formed). */
export function parseFast(text: string): { root: YNode | undefined } | undefined {
  if (FORBIDDEN.test(text)) return undefined;
  try {
    return { root: new FastParser(text).document() };
  } catch (e) {
    if (e === UNSUPPORTED) return undefined;
    throw e;
  }
}

/** The YAML 1.2 core schema resolution of a plain scalar, as the `yaml` package does it. */
export function resolvePlain(text: string): string | number | boolean | null {
  if (text === '') return null;
  const c = text.charCodeAt(0);
  if ((c >= 0x30 && c <= 0x39) || c === 0x2b || c === DASH || c === 0x2e) {
    if (/^0o[0-7]+$/.test(text)) return parseInt(text.substring(2), 8);
    if (/^[-+]?[0-9]+$/.test(text)) return parseInt(text, 10);
    if (/^0x[0-9a-fA-F]+$/.test(text)) return parseInt(text.substring(2), 16);
    if (/^(?:[-+]?\.(?:inf|Inf|INF)|\.nan|\.NaN|\.NAN)$/.test(text))
      return text.slice(-3).toLowerCase() === 'nan'
        ? NaN
        : text[0] === '-'
          ? Number.NEGATIVE_INFINITY
          : Number.POSITIVE_INFINITY;
    if (/^[-+]?(?:\.[0-9]+|[0-9]+(?:\.[0-9]*)?)[eE][-+]?[0-9]+$/.test(text)) return parseFloat(text);
    if (/^[-+]?(?:\.[0-9]+|[0-9]+\.[0-9]*)$/.test(text)) return parseFloat(text);
    return text;
  }
  switch (text) {
    case '~':
    case 'null':
    case 'Null':
    case 'NULL':
      return null;
    case 'true':
    case 'True':
    case 'TRUE':
      return true;
    case 'false':
    case 'False':
    case 'FALSE':
      return false;
  }
  return text;
}

function fail(): never {
  throw UNSUPPORTED;
}

function nullAt(pos: number): YScalar {
  return { kind: 'scalar', pos, value: null, raw: '', quoted: false };
}

class FastParser {
  private readonly s: string;
  private readonly n: number;
  // The current content line: its start, indentation, first non-space character (-1 at the end of
  // the text), the end of its content (before \r\n or \n) and the start of the next line.
  private ls = 0;
  private ind = -1;
  private fc = -1;
  private le = 0;
  private next = 0;
  private started = false;
  /** A document start marker (---) was read. */
  private marker = false;

  constructor(text: string) {
    this.s = text;
    this.n = text.length;
  }

  document(): YNode | undefined {
    this.toContentLine(0);
    if (this.fc < 0) {
      if (this.marker) fail(); // `yaml` makes that an empty (null) scalar
      return undefined;
    }
    const c = this.s.charCodeAt(this.fc);
    let root: YNode;
    if (c === LBRACKET || c === LBRACE) {
      const flow = this.flow(this.fc, -1, 0);
      root = flow.node;
      this.endLine(flow.end);
    } else root = this.blockNode(this.ind, this.fc, 0);
    if (this.fc >= 0) fail();
    return root;
  }

  // ---- lines ----

  /** Moves to the first line at or after `from` that has content (not blank, not only a comment). */
  private toContentLine(from: number): void {
    const s = this.s;
    let ls = from;
    while (ls < this.n) {
      let i = ls;
      while (s.charCodeAt(i) === SPACE) i++;
      let nl = s.indexOf('\n', i);
      if (nl < 0) nl = this.n;
      const c = s.charCodeAt(i);
      if (i >= this.n || c === LF || c === CR || c === HASH) {
        ls = nl + 1;
        continue;
      }
      if (i === ls && (s.startsWith('---', i) || s.startsWith('...', i))) {
        const after = s.charCodeAt(i + 3);
        if (i + 3 >= this.n || after === SPACE || after === LF || after === CR) {
          // A document start marker alone on the first line is allowed; anything else is not.
          if (this.started || c !== DASH) fail();
          let j = i + 3;
          while (s.charCodeAt(j) === SPACE) j++;
          const d = s.charCodeAt(j);
          if (!(j >= this.n || d === LF || d === CR || (d === HASH && j > i + 3))) fail();
          this.started = true;
          this.marker = true;
          ls = nl + 1;
          continue;
        }
      }
      this.started = true;
      this.ls = ls;
      this.ind = i - ls;
      this.fc = i;
      this.le = nl > i && s.charCodeAt(nl - 1) === CR ? nl - 1 : nl;
      this.next = nl + 1;
      return;
    }
    this.started = true;
    this.ls = this.n;
    this.ind = -1;
    this.fc = -1;
    this.le = this.n;
    this.next = this.n + 1;
  }

  /** After a node that ends at `q` on the current line: only spaces and a comment may follow. */
  private endLine(q: number): void {
    const s = this.s;
    let i = q;
    while (i < this.le && s.charCodeAt(i) === SPACE) i++;
    if (i < this.le && !(s.charCodeAt(i) === HASH && i > q)) fail();
    this.toContentLine(this.next);
  }

  private isBlank(i: number): boolean {
    if (i >= this.le) return true;
    return this.s.charCodeAt(i) === SPACE;
  }

  // ---- block collections ----

  /** A block collection starting on its own line at `p` (indentation `indent`). */
  private blockNode(indent: number, p: number, depth: number): YNode {
    if (depth > MAX_DEPTH) fail();
    if (this.s.charCodeAt(p) === DASH && this.isBlank(p + 1)) return this.sequence(indent, p, depth);
    return this.mapping(indent, p, depth);
  }

  private mapping(indent: number, p: number, depth: number): YMap {
    const s = this.s;
    const map: YMap = { kind: 'map', pos: p, entries: [], byKey: new Map() };
    for (;;) {
      let key: string;
      let colon: number;
      const c = s.charCodeAt(p);
      if (c === SQUOTE || c === DQUOTE) {
        const q = this.quoted(p);
        key = q.value;
        colon = q.end;
        while (colon < this.le && s.charCodeAt(colon) === SPACE) colon++;
        if (s.charCodeAt(colon) !== COLON || colon >= this.le || !this.isBlank(colon + 1)) fail();
      } else {
        const plain = this.blockPlain(p);
        if (plain.colon < 0 || plain.end - p > MAX_KEY_LENGTH) fail();
        key = String(resolvePlain(s.slice(p, plain.end)));
        colon = plain.colon;
      }
      if (map.byKey.has(key)) fail();
      const value = this.valueAfter(indent, colon + 1, depth + 1, true);
      const entry = { key, keyPos: p, value };
      map.entries.push(entry);
      map.byKey.set(key, entry);
      if (this.fc < 0 || this.ind < indent) return map;
      if (this.ind > indent) fail();
      p = this.fc;
      if (s.charCodeAt(p) === DASH && this.isBlank(p + 1)) fail();
    }
  }

  private sequence(indent: number, p: number, depth: number): YSeq {
    const seq: YSeq = { kind: 'seq', pos: p, items: [] };
    for (;;) {
      seq.items.push(this.valueAfter(indent, p + 1, depth + 1, false));
      if (this.fc < 0 || this.ind < indent) return seq;
      if (this.ind > indent) fail();
      p = this.fc;
      if (!(this.s.charCodeAt(p) === DASH && this.isBlank(p + 1))) return seq;
    }
  }

  /**
   * The value after a mapping's ':' or a sequence's '-' at `q` on the current line, in a collection
   * of indentation `parent`. Leaves the cursor on the next content line after the value.
   */
  private valueAfter(parent: number, q: number, depth: number, mapValue: boolean): YNode {
    if (depth > MAX_DEPTH) fail();
    const s = this.s;
    let r = q;
    while (r < this.le && s.charCodeAt(r) === SPACE) r++;
    if (r >= this.le || s.charCodeAt(r) === HASH) {
      // Nothing more on this line: a collection on the next lines, or an empty (null) value.
      this.toContentLine(this.next);
      const f = this.fc >= 0 && this.ind > parent ? this.s.charCodeAt(this.fc) : 0;
      if (f === LBRACKET || f === LBRACE) {
        // A flow collection on its own line.
        const flow = this.flow(this.fc, parent, depth);
        this.endLine(flow.end);
        if (this.fc >= 0 && this.ind > parent) fail();
        return flow.node;
      }
      if (
        this.fc >= 0 &&
        (this.ind > parent ||
          (mapValue && this.ind === parent && s.charCodeAt(this.fc) === DASH && this.isBlank(this.fc + 1)))
      )
        return this.blockNode(this.ind, this.fc, depth);
      return nullAt(r);
    }
    const c = s.charCodeAt(r);
    let node: YNode;
    if (c === LBRACKET || c === LBRACE) {
      const flow = this.flow(r, parent, depth);
      node = flow.node;
      this.endLine(flow.end);
    } else if (c === PIPE || c === GT) {
      return this.blockScalar(parent, r);
    } else if (c === SQUOTE || c === DQUOTE) {
      const q2 = this.quoted(r);
      let after = q2.end;
      while (after < this.le && s.charCodeAt(after) === SPACE) after++;
      if (after < this.le && s.charCodeAt(after) === COLON && this.isBlank(after + 1)) {
        if (mapValue) fail();
        return this.mapping(r - this.ls, r, depth);
      }
      node = { kind: 'scalar', pos: r, value: q2.value, raw: q2.value, quoted: true };
      this.endLine(q2.end);
    } else {
      const plain = this.blockPlain(r);
      if (plain.colon >= 0) {
        if (mapValue) fail();
        return this.mapping(r - this.ls, r, depth);
      }
      const raw = s.slice(r, plain.end);
      node = { kind: 'scalar', pos: r, value: resolvePlain(raw), raw, quoted: false };
      this.endLine(plain.end);
    }
    // A more indented line after a single-line value continues a multi-line scalar (or is an error).
    if (this.fc >= 0 && this.ind > parent) fail();
    return node;
  }

  // ---- scalars ----

  /**
   * A plain scalar in block context starting at `p`: where its text ends (trailing spaces
   * excluded) and the position of the ':' that makes it a mapping key (-1 if none).
   */
  private blockPlain(p: number): { end: number; colon: number } {
    const s = this.s;
    const le = this.le;
    const c = s[p];
    if (INDICATOR.has(c) || c === '?' || c === ':') fail();
    if (c === '-' && this.isBlank(p + 1)) fail();
    let i = p + 1;
    let end = p + 1;
    let colon = -1;
    for (; i < le; i++) {
      const ch = s.charCodeAt(i);
      if (ch === SPACE) continue;
      if (ch === COLON && (i + 1 >= le || s.charCodeAt(i + 1) === SPACE)) {
        colon = i;
        break;
      }
      if (ch === HASH && s.charCodeAt(i - 1) === SPACE) break;
      end = i + 1;
    }
    return { end, colon };
  }

  /** A single-line quoted scalar at `p`: its value and the position after the closing quote. */
  private quoted(p: number): { value: string; end: number } {
    const s = this.s;
    const le = this.le;
    if (s.charCodeAt(p) === SQUOTE) {
      let value = '';
      let from = p + 1;
      for (;;) {
        const i = s.indexOf("'", from);
        if (i < 0 || i >= le) fail();
        value += s.slice(from, i);
        if (s.charCodeAt(i + 1) === SQUOTE && i + 1 < le) {
          value += "'";
          from = i + 2;
        } else return { value, end: i + 1 };
      }
    }
    let value = '';
    let from = p + 1;
    for (let i = from; ; i++) {
      if (i >= le) fail();
      const ch = s.charCodeAt(i);
      if (ch === DQUOTE) return { value: value + s.slice(from, i), end: i + 1 };
      if (ch !== 0x5c) continue;
      value += s.slice(from, i);
      const e = s[i + 1];
      if (i + 1 >= le) fail();
      const simple = ESCAPES[e];
      if (simple !== undefined) {
        value += simple;
        i += 1;
      } else if (e === 'x' || e === 'u' || e === 'U') {
        const length = e === 'x' ? 2 : e === 'u' ? 4 : 8;
        const hex = s.substr(i + 2, length);
        if (i + 2 + length > le || !/^[0-9a-fA-F]+$/.test(hex) || hex.length !== length) fail();
        const code = parseInt(hex, 16);
        if (code > 0x10ffff) fail();
        value += String.fromCodePoint(code);
        i += 1 + length;
      } else fail();
      from = i + 1;
    }
  }

  /** A literal (|) or folded (>) block scalar whose header is at `h`. */
  private blockScalar(parent: number, h: number): YScalar {
    const s = this.s;
    const folded = s.charCodeAt(h) === GT;
    let i = h + 1;
    let strip = false;
    if (s.charCodeAt(i) === DASH) {
      strip = true;
      i++;
    }
    // Keep chomping (+) and explicit indentation indicators are left to the `yaml` package.
    const headerEnd = i;
    while (i < this.le && s.charCodeAt(i) === SPACE) i++;
    if (i < this.le && !(s.charCodeAt(i) === HASH && i > headerEnd)) fail();

    // Lines of the block: [indentation, content start, content end]; content start = end if blank.
    const lines: number[] = [];
    let indent = -1;
    let ls = this.next;
    let endOfBlock = this.n;
    while (ls < this.n) {
      let j = ls;
      while (s.charCodeAt(j) === SPACE) j++;
      let nl = s.indexOf('\n', j);
      if (nl < 0) nl = this.n;
      const ce = nl > j && s.charCodeAt(nl - 1) === CR ? nl - 1 : nl;
      const k = j - ls;
      if (j >= ce) {
        lines.push(k, ce, ce);
      } else {
        if (indent < 0) {
          if (k <= parent) {
            endOfBlock = ls;
            break;
          }
          indent = k;
        } else if (k < indent) {
          endOfBlock = ls;
          break;
        }
        lines.push(k, j, ce);
      }
      ls = nl + 1;
    }
    if (indent < 0) fail(); // an empty block scalar
    // Blank lines with more spaces than the indentation are content in YAML: leave them to `yaml`.
    for (let l = 0; l < lines.length; l += 3) if (lines[l + 1] === lines[l + 2] && lines[l] > indent) fail();

    let last = lines.length - 3;
    while (lines[last + 1] === lines[last + 2]) last -= 3;
    let value = '';
    let first = 0;
    while (lines[first + 1] === lines[first + 2]) {
      value += '\n';
      first += 3;
    }
    let sep = '';
    let prevMoreIndented = false;
    for (let l = first; l <= last; l += 3) {
      const k = lines[l];
      const content = s.slice(lines[l + 1], lines[l + 2]);
      const extra = k > indent ? ' '.repeat(k - indent) : '';
      if (!folded) {
        value += sep + extra + content;
        sep = '\n';
      } else if (k > indent && content !== '') {
        if (sep === ' ') sep = '\n';
        else if (!prevMoreIndented && sep === '\n') sep = '\n\n';
        value += sep + extra + content;
        sep = '\n';
        prevMoreIndented = true;
      } else if (content === '') {
        if (sep === '\n') value += '\n';
        else sep = '\n';
      } else {
        value += sep + content;
        sep = ' ';
        prevMoreIndented = false;
      }
    }
    if (!strip) value += '\n';
    this.toContentLine(endOfBlock);
    return { kind: 'scalar', pos: h, value, raw: value, quoted: false };
  }

  // ---- flow collections ----

  /** Makes the line starting at `ls` the current line (inside a flow collection). */
  private setLine(ls: number): void {
    let nl = this.s.indexOf('\n', ls);
    if (nl < 0) nl = this.n;
    this.ls = ls;
    this.le = nl > ls && this.s.charCodeAt(nl - 1) === CR ? nl - 1 : nl;
    this.next = nl + 1;
  }

  /**
   * Skips spaces, comments and line breaks inside a flow collection (of a block collection of
   * indentation `parent`); returns the position of the next token. Sets `crossed` on a line break.
   */
  private flowSpace(i: number, parent: number): number {
    const s = this.s;
    for (;;) {
      while (i < this.le && s.charCodeAt(i) === SPACE) i++;
      if (i < this.le) {
        if (s.charCodeAt(i) !== HASH || !(i === this.ls || s.charCodeAt(i - 1) === SPACE)) return i;
      }
      if (this.next > this.n) fail(); // the text ends inside the collection
      this.crossed = true;
      this.setLine(this.next);
      i = this.ls;
      let j = i;
      while (j < this.le && s.charCodeAt(j) === SPACE) j++;
      if (j < this.le && s.charCodeAt(j) !== HASH) {
        // Continuation lines are indented more than the block collection the flow is in.
        if (j - i <= parent) fail();
        if (j === i && (s.startsWith('---', j) || s.startsWith('...', j))) fail();
      }
    }
  }

  private crossed = false;

  /** A flow collection at `p` (may span lines); the position after its closing bracket. */
  private flow(p: number, parent: number, depth: number): { node: YNode; end: number } {
    if (depth > MAX_DEPTH) fail();
    const s = this.s;
    let i = this.flowSpace(p + 1, parent);
    if (s.charCodeAt(p) === LBRACKET) {
      const seq: YSeq = { kind: 'seq', pos: p, items: [] };
      for (;;) {
        if (s.charCodeAt(i) === RBRACKET) return { node: seq, end: i + 1 };
        const item = this.flowItem(i, parent, depth + 1);
        seq.items.push(item.node);
        i = this.flowSpace(item.end, parent);
        const c = s.charCodeAt(i);
        if (c === COMMA) i = this.flowSpace(i + 1, parent);
        else if (c !== RBRACKET) fail();
      }
    }
    const map: YMap = { kind: 'map', pos: p, entries: [], byKey: new Map() };
    for (;;) {
      if (s.charCodeAt(i) === RBRACE) return { node: map, end: i + 1 };
      const keyPos = i;
      const c = s.charCodeAt(i);
      if (c === LBRACKET || c === LBRACE) fail();
      const key = this.flowItem(i, parent, depth + 1);
      // An implicit key and its ':' on one line.
      this.crossed = false;
      i = this.flowSpace(key.end, parent);
      if (this.crossed || s.charCodeAt(i) !== COLON) fail();
      i++;
      const quotedKey = c === SQUOTE || c === DQUOTE;
      if (!quotedKey && i < this.le && s.charCodeAt(i) !== SPACE) fail();
      i = this.flowSpace(i, parent);
      const v = s.charCodeAt(i);
      if (v === COMMA || v === RBRACE) fail();
      const name = String((key.node as YScalar).value);
      if (map.byKey.has(name)) fail();
      const value = this.flowItem(i, parent, depth + 1);
      const entry = { key: name, keyPos, value: value.node };
      map.entries.push(entry);
      map.byKey.set(name, entry);
      i = this.flowSpace(value.end, parent);
      const d = s.charCodeAt(i);
      if (d === COMMA) i = this.flowSpace(i + 1, parent);
      else if (d !== RBRACE) fail();
    }
  }

  /** A scalar (on one line) or a nested collection inside a flow collection. */
  private flowItem(i: number, parent: number, depth: number): { node: YNode; end: number } {
    const s = this.s;
    const le = this.le;
    const c = s.charCodeAt(i);
    if (c === LBRACKET || c === LBRACE) return this.flow(i, parent, depth);
    if (c === SQUOTE || c === DQUOTE) {
      const q = this.quoted(i);
      return { node: { kind: 'scalar', pos: i, value: q.value, raw: q.value, quoted: true }, end: q.end };
    }
    const first = s[i];
    if (INDICATOR.has(first) || first === '?' || first === ':') fail();
    if (first === '-') {
      const d = s.charCodeAt(i + 1);
      if (i + 1 >= le || d === SPACE || d === COMMA || d === RBRACKET || d === RBRACE) fail();
    }
    let end = i + 1;
    for (let j = i + 1; j < le; j++) {
      const ch = s.charCodeAt(j);
      if (ch === SPACE) continue;
      if (ch === COMMA || ch === RBRACKET || ch === RBRACE || ch === LBRACKET || ch === LBRACE) break;
      if (ch === COLON) {
        const d = s.charCodeAt(j + 1);
        if (
          j + 1 >= le ||
          d === SPACE ||
          d === COMMA ||
          d === RBRACKET ||
          d === RBRACE ||
          d === LBRACKET ||
          d === LBRACE
        )
          break;
      }
      if (ch === HASH && s.charCodeAt(j - 1) === SPACE) break;
      end = j + 1;
    }
    const raw = s.slice(i, end);
    return { node: { kind: 'scalar', pos: i, value: resolvePlain(raw), raw, quoted: false }, end };
  }
}
