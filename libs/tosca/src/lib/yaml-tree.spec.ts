// The fast YAML path (fast-yaml.ts) against the `yaml` package: whatever the fast parser accepts must
// be well-formed for `yaml` too and give the same tree — same values, source text, quoting, keys and
// positions — so that diagnostics keep their file:line:column whichever parser read the file.
import { readdirSync, readFileSync, statSync } from 'node:fs';
import * as path from 'node:path';
import { LineCounter, parseDocument, parse, stringify } from 'yaml';
import { parseFast } from './fast-yaml';
import { LineIndex, parseYaml, parseYamlFully, type YNode } from './yaml-tree';

const LIB = path.join(__dirname, '..', '..');

function yamlFiles(dir: string): string[] {
  return readdirSync(dir).flatMap((f) => {
    const p = path.join(dir, f);
    return statSync(p).isDirectory() ? yamlFiles(p) : /\.ya?ml$/.test(f) ? [p] : [];
  });
}

/** A difference between two trees, or undefined. */
function difference(a: YNode | undefined, b: YNode | undefined, at = '$'): string | undefined {
  if (!a || !b) return a === b ? undefined : `${at}: only one tree has a node`;
  if (a.kind !== b.kind || a.pos !== b.pos) return `${at}: ${a.kind}@${a.pos} vs ${b.kind}@${b.pos}`;
  if (a.kind === 'scalar' && b.kind === 'scalar') {
    return Object.is(a.value, b.value) && a.raw === b.raw && a.quoted === b.quoted
      ? undefined
      : `${at}: ${JSON.stringify([a.value, a.raw, a.quoted])} vs ${JSON.stringify([b.value, b.raw, b.quoted])}`;
  }
  if (a.kind === 'seq' && b.kind === 'seq') {
    if (a.items.length !== b.items.length) return `${at}: ${a.items.length} vs ${b.items.length} items`;
    for (let i = 0; i < a.items.length; i++) {
      const d = difference(a.items[i], b.items[i], `${at}[${i}]`);
      if (d) return d;
    }
    return undefined;
  }
  if (a.kind === 'map' && b.kind === 'map') {
    if (a.entries.length !== b.entries.length)
      return `${at}: ${a.entries.length} vs ${b.entries.length} keys`;
    for (let i = 0; i < a.entries.length; i++) {
      const [x, y] = [a.entries[i], b.entries[i]];
      if (x.key !== y.key || x.keyPos !== y.keyPos)
        return `${at}: key ${x.key}@${x.keyPos} vs ${y.key}@${y.keyPos}`;
      if (a.byKey.get(x.key) !== x || b.byKey.get(y.key) !== y) return `${at}.${x.key}: byKey`;
      const d = difference(x.value, y.value, `${at}.${x.key}`);
      if (d) return d;
    }
  }
  return undefined;
}

/** undefined when the fast path declined or agrees with `yaml`; else what went wrong. */
function disagreement(text: string): string | undefined {
  const fast = parseFast(text);
  if (!fast) return undefined;
  const full = parseYamlFully(text);
  if (full.problems.length)
    return `the fast path accepted a file with YAML problems: ${full.problems.map((p) => `${p.code}@${p.pos} ${p.message}`).join('; ')}`;
  return difference(fast.root, full.root);
}

/** mulberry32 */
function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const INSERTS = [
  '{', '}', '[', ']', ':', '-', '#', '&a', '*a', '"', "'", '\t', '\n', ' ', '  ', '|', '>', '|-', '>-',
  '!!int', '%', '@', '\u00e9', '\0', '\r\n', '? ', ',', '- ', '...', '---', '\\', '\\n', "''", '0x1',
  '.5', '~', ': ', '#x', ' #',
]; // prettier-ignore

function mutate(text: string, rnd: () => number): string {
  const at = Math.floor(rnd() * (text.length + 1));
  const lines = text.split('\n');
  const line = Math.floor(rnd() * lines.length);
  switch (Math.floor(rnd() * 6)) {
    case 0:
      return text.slice(0, at);
    case 1:
      return text.slice(0, at) + INSERTS[Math.floor(rnd() * INSERTS.length)] + text.slice(at);
    case 2:
      lines.splice(line, 0, lines[Math.floor(rnd() * lines.length)]);
      return lines.join('\n');
    case 3:
      lines[line] = ' '.repeat(1 + Math.floor(rnd() * 2)) + lines[line];
      return lines.join('\n');
    case 4:
      lines[line] = lines[line].replace(/^ {1,2}/, '');
      return lines.join('\n');
    default:
      lines.splice(line, 1);
      return lines.join('\n');
  }
}

const corpus = yamlFiles(LIB).map((f) => ({ file: path.relative(LIB, f), text: readFileSync(f, 'utf8') }));

describe('fast YAML path', () => {
  it('reads every valid file of the library (profiles, valid and golden templates) itself', () => {
    const valid = corpus.filter(({ text }) => parseYamlFully(text).problems.length === 0);
    expect(valid.length).toBeGreaterThan(20);
    for (const { file, text } of valid) {
      expect([file, parseFast(text) !== undefined]).toEqual([file, true]);
      expect([file, disagreement(text)]).toEqual([file, undefined]);
    }
  });

  it('leaves files with YAML problems to the `yaml` package, which reports them', () => {
    for (const name of ['yaml-syntax.yaml', 'duplicate-key.yaml']) {
      const text = readFileSync(path.join(LIB, 'test', 'invalid', name), 'utf8');
      expect(parseFast(text)).toBeUndefined();
      expect(parseYaml(text).problems.length).toBeGreaterThan(0);
    }
  });

  it.each([
    // scalars: YAML 1.2 core schema (yes/on and dates stay strings), source text kept
    'a: 1.0\nb: 0o17\nc: 0x1F\nd: .inf\ne: -.Inf\nf: .NaN\ng: 1e3\nh: -0\ni: +1\nj: 1.\nk: .5\nl: 1_0\nm: 0b1\nn: 012',
    'a: ~\nb: Null\nc: TRUE\nd: yes\ne: on\nf: 2020-01-01\ng: 08:00\nh: 123456789012345678901234567890',
    '1.0: a\n.inf: b\n0x10: c\nnull: d\ntrue: e\n<<: f',
    "a : 1\n'b': 2\n\"c\" : 3\nd: 'it''s'\ne: \"\\x41\\u00e9\\U0001F600\\t\\n\\\\\"\nf: x:y\ng: -x\nh: b#c\ni: b #c",
    // empty values and their positions
    'a:\nb:   # c\nc:\n  # c\nd:',
    'x:\n  - \n  -\n  - # c\n  -   \n',
    '- a: \n  b:',
    // collections and indentation
    'a:\n- b\n- c\nd: 1',
    '- a:\n  - x\n  c: 1',
    '- a: 1\n  b: 2\n- c',
    '-\n  a: 1\n- \n- x',
    'a:\n# c\n  b: 1\n\n  c: [1, 2]\n',
    '  a: 1\n  b: 2',
    '--- # doc\na: 1',
    'a: 1\r\nb: |\r\n  x\r\n  y\r\nc: [1,\r\n  2]\r\n',
    // flow collections, also over several lines
    'a: [b, c, ]\nd: {"e":1, f: [g, {h: i}], \'j\': k}\nl: []\nm: {}',
    'a:\n  {\n    b:\n      [1, 2],\n  }',
    '{\n"a": 1,\n"b": [\n1, # one\n2\n]\n}',
    '- [1,\n  2]\n- a: [1,\n   2]',
    // block scalars
    'a: |\n  x\n  y\nb: |-\n  x\n\n  y\n\n',
    'a: >\n  x\n  y\n\n  z\n    w\n  v\nb: >-\n  x\n   y\n  z',
    'a: |\n\n  x\n  # not a comment\nb: 1',
    '- |\n x\n- a: |\n   t\n  b: 1',
  ])('agrees with `yaml` on %j', (text) => {
    expect(parseFast(text)).toBeDefined();
    expect(disagreement(text)).toBeUndefined();
  });

  it.each([
    ['anchors and aliases', 'a: &x 1\nb: *x'],
    ['tags', 'a: !!str 1'],
    ['directives', '%YAML 1.2\n---\na: 1'],
    ['several documents', 'a: 1\n---\nb: 2'],
    ['a multi-line plain scalar', 'a: b\n  c'],
    ['a multi-line quoted scalar', 'a: "b\n  c"'],
    ['keep chomping', 'a: |+\n  x\n\n'],
    ['an indentation indicator', 'a: |2\n   x'],
    ['tabs', 'a:\tb'],
    ['explicit keys', '? a\n: b'],
    ['a duplicate key', 'a: 1\na: 2'],
    ['keys that read the same', '1: a\n"1": b'],
    ['a nested mapping on one line', 'a: b: c'],
    ['bad indentation', 'a: 1\n b: 2'],
    ['a flow collection not indented enough', 'a: [1,\n2]'],
  ])('leaves %s to `yaml`', (_what, text) => {
    expect(parseFast(text)).toBeUndefined();
  });

  it('agrees with `yaml` on 4,000 mutations of the library files and of re-serialised trees', () => {
    const rnd = prng(0xfa57);
    const texts = corpus.map((c) => c.text);
    let accepted = 0;
    for (let i = 0; i < 4000; i++) {
      let text = texts[i % texts.length];
      if (i % 4 === 3) {
        // the same data in other styles: JSON (flow) and `yaml`'s own block style
        let tree: unknown;
        try {
          tree = parse(text);
        } catch {
          continue; // several documents
        }
        text =
          rnd() < 0.5
            ? JSON.stringify(tree, null, 1)
            : stringify(tree, { lineWidth: 20 + Math.floor(rnd() * 80) });
      } else {
        for (let k = 1 + Math.floor(rnd() * 3); k > 0; k--) text = mutate(text, rnd);
      }
      const d = disagreement(text);
      if (d) throw new Error(`mutation ${i}: ${d}\n--- text ---\n${text}`);
      if (parseFast(text)) accepted++;
    }
    expect(accepted).toBeGreaterThan(1000);
  });

  it('maps offsets to lines and columns like `yaml`', () => {
    for (const { file, text } of corpus) {
      if (parseYamlFully(text).problems.length) continue;
      const counter = new LineCounter();
      parseDocument(text, { lineCounter: counter });
      const index = new LineIndex(text);
      expect([file, index.lineStarts]).toEqual([file, counter.lineStarts]);
      for (const offset of [0, 1, Math.floor(text.length / 3), text.length - 1, text.length])
        expect(index.linePos(offset)).toEqual(counter.linePos(offset));
    }
  });
});
