// Robustness (issue #5 §1): 10,000 seeded random mutations of valid templates. processTemplate must
// never throw, never fail internally, and every diagnostic must carry a valid position.
import { readFileSync } from 'node:fs';
import * as path from 'node:path';
import { parse, stringify } from 'yaml';
import { memorySource, processTemplate } from '../src';

const SEEDS = [
  path.join(__dirname, 'valid', 'webapp.yaml'),
  path.join(__dirname, 'valid', 'namespaced', 'main.yaml'),
  path.join(__dirname, 'golden', '02-three-services-two-networks.yaml'),
  path.join(__dirname, 'golden', '05-autoscaling-windows.yaml'),
];
const ITERATIONS = 10_000;

/** mulberry32: small, fast, seeded. */
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

const TYPE_NAMES = [
  'tosca.nodes.Compute',
  'Compute',
  'tosca.nodes.Nope',
  'tosca.datatypes.Root',
  'stratum.nodes.Microservice',
  'x:Y',
  '',
];
const CHARS = [
  '{',
  '}',
  '[',
  ']',
  ':',
  '-',
  '#',
  '&a',
  '*a',
  '"',
  "'",
  '\t',
  '\n',
  ' ',
  '|',
  '>',
  '!!int',
  '%',
  '@',
  '\u00e9',
  '\0',
];

type Json = null | boolean | number | string | Json[] | { [k: string]: Json };

function mutateTree(root: Json, rnd: () => number): Json {
  const pick = <T>(xs: T[]): T => xs[Math.floor(rnd() * xs.length)];
  // collect container paths
  const containers: (Json[] | Record<string, Json>)[] = [];
  const walk = (v: Json) => {
    if (v && typeof v === 'object') {
      containers.push(v);
      for (const c of Array.isArray(v) ? v : Object.values(v)) walk(c);
    }
  };
  walk(root);
  if (!containers.length) return root;
  const target = pick(containers);
  const keys: (string | number)[] = Array.isArray(target) ? target.map((_, i) => i) : Object.keys(target);
  if (!keys.length) return root;
  const key = pick(keys);
  const get = () => (target as Record<string | number, Json>)[key];
  const set = (v: Json) => ((target as Record<string | number, Json>)[key] = v);
  const replacement = (): Json =>
    pick<Json>([
      null,
      true,
      0,
      -1,
      3.5,
      'text',
      '',
      [],
      {},
      [1, 'a'],
      { a: 1 },
      'UNBOUNDED',
      '10 GB',
      { get_input: 'nope' },
      { concat: 5 },
      { get_property: ['SELF'] },
      pick(TYPE_NAMES),
    ]);
  switch (Math.floor(rnd() * 7)) {
    case 0: // delete
      if (Array.isArray(target)) target.splice(key as number, 1);
      else delete target[key as string];
      break;
    case 1: // duplicate under another key
      if (Array.isArray(target)) target.push(structuredClone(get()));
      else target[`${String(key)}_copy`] = structuredClone(get());
      break;
    case 2:
    case 3: // swap for another kind of value
      set(replacement());
      break;
    case 4: // change a type name
      set(pick(TYPE_NAMES));
      break;
    case 5: // reorder
      if (Array.isArray(target)) target.reverse();
      else {
        const entries = Object.entries(target).reverse();
        for (const k of Object.keys(target)) delete target[k];
        for (const [k, v] of entries) target[k] = v;
      }
      break;
    default: // rename a key
      if (!Array.isArray(target)) {
        const v = target[key as string];
        delete target[key as string];
        target[`${String(key)}${pick(['s', '_', 'X'])}`] = v;
      }
  }
  return root;
}

function mutateText(text: string, rnd: () => number): string {
  const at = Math.floor(rnd() * (text.length + 1));
  switch (Math.floor(rnd() * 4)) {
    case 0:
      return text.slice(0, at); // truncate
    case 1:
      return text.slice(0, at) + CHARS[Math.floor(rnd() * CHARS.length)] + text.slice(at); // random character
    case 2: {
      const lines = text.split('\n');
      const i = Math.floor(rnd() * lines.length);
      lines.splice(i, 0, lines[Math.floor(rnd() * lines.length)]); // duplicate a line
      return lines.join('\n');
    }
    default: {
      const lines = text.split('\n');
      lines.splice(Math.floor(rnd() * lines.length), 1); // delete a line
      return lines.join('\n');
    }
  }
}

describe('fuzz: processTemplate on mutated templates', () => {
  jest.setTimeout(60_000);

  it(`never throws and reports valid positions (${ITERATIONS} mutations)`, async () => {
    const rnd = prng(0x5eed);
    const seeds = SEEDS.map((f) => readFileSync(f, 'utf8'));
    const trees = seeds.map((t) => parse(t) as Json);
    const profiles = ['stratum-profile-1.0.yaml'];
    let notOk = 0;
    for (let i = 0; i < ITERATIONS; i++) {
      const seed = seeds[i % seeds.length];
      let text: string;
      if (rnd() < 0.5) {
        text = seed;
        const n = 1 + Math.floor(rnd() * 3);
        for (let k = 0; k < n; k++) text = mutateText(text, rnd);
      } else {
        let tree = structuredClone(trees[i % trees.length]);
        const n = 1 + Math.floor(rnd() * 4);
        for (let k = 0; k < n; k++) tree = mutateTree(tree, rnd);
        // JSON is YAML too (flow style) and far cheaper to produce; block style now and then
        text = rnd() < 0.1 ? stringify(tree) : JSON.stringify(tree, null, 1);
      }
      const result = await processTemplate('t.yaml', memorySource({ 't.yaml': text }), { profiles });
      const lineCount = text.split('\n').length;
      if (!result.ok) notOk++;
      for (const d of result.diagnostics) {
        if (
          d.code === 'TOSCA_INTERNAL' ||
          !(d.line >= 1 && d.line <= lineCount + 1 && d.column >= 1) ||
          d.file !== 't.yaml'
        ) {
          throw new Error(`iteration ${i}: bad diagnostic ${JSON.stringify(d)}\n--- template ---\n${text}`);
        }
      }
      if (result.ok === result.diagnostics.some((d) => d.severity === 'error'))
        throw new Error(`iteration ${i}: ok disagrees with diagnostics`);
    }
    expect(notOk).toBeGreaterThan(ITERATIONS / 4);
  });
});
