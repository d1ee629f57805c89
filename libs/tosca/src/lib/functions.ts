// Intrinsic functions of TOSCA 1.3 (§4.3-4.8): argument and reference checks at validation time,
// and evaluate() for the translator at deploy time.
import { type FileUnit, joinPath, Reporter } from './context';
import { FunctionCall, type NodeTemplate, type ServiceTemplate, type Value } from './model';
import type { NodeInfo } from './topology';
import {
  derivesFrom,
  mergedAttributes,
  mergedCapabilities,
  mergedProperties,
  mergedRequirements,
  resolveType,
  type TypeDef,
} from './types';
import type { FunctionSite } from './values';
import type { YMap, YNode } from './yaml-tree';

export interface TopologyIndex {
  unit: FileUnit;
  template: ServiceTemplate;
  nodes: Map<string, NodeInfo>;
  relTemplates: Map<string, { type?: TypeDef }>;
  hostedOn?: TypeDef;
}

const isStr = (n: YNode | undefined) => n?.kind === 'scalar' && typeof n.value === 'string';
const isFn = (n: YNode | undefined) =>
  n?.kind === 'map' && n.entries.length === 1 && FUNCTION_KEYS.has(n.entries[0].key);
const FUNCTION_KEYS = new Set([
  'get_input',
  'get_property',
  'get_attribute',
  'get_operation_output',
  'get_nodes_of_type',
  'get_artifact',
  'concat',
  'join',
  'token',
]);

export function checkFunctions(r: Reporter, sites: FunctionSite[], index: TopologyIndex): void {
  for (const site of sites) checkFunction(r, site, index);
}

function checkFunction(r: Reporter, site: FunctionSite, index: TopologyIndex): void {
  const { name, unit, scope } = site;
  const argNode = (site.node as YMap).entries[0].value;
  const path = joinPath(site.path, name);
  const args = argNode.kind === 'seq' ? argNode.items : [argNode];
  const bad = (msg: string, at: YNode = argNode) =>
    r.error('TOSCA_FUNCTION_ARGS', unit, at.pos, path, `${name} in ${scope.owner}: ${msg}`);
  const unknown = (msg: string, at: YNode = argNode) =>
    r.error('TOSCA_UNKNOWN_REFERENCE', unit, at.pos, path, `${name} in ${scope.owner}: ${msg}`);
  switch (name) {
    case 'get_input': {
      if (args.length < 1 || !isStr(args[0]))
        return bad('expects an input name (or [input_name, nested...])');
      const input = String((args[0] as { value: string }).value);
      if (!index.template.inputs[input]) {
        const known = Object.keys(index.template.inputs);
        r.error(
          'TOSCA_UNKNOWN_INPUT',
          unit,
          args[0].pos,
          path,
          `get_input in ${scope.owner}: the template declares no input '${input}'${known.length ? `; inputs are ${known.join(', ')}` : ''}`,
        );
      }
      return;
    }
    case 'get_property':
    case 'get_attribute': {
      if (argNode.kind !== 'seq' || args.length < 2)
        return bad('expects [ entity, (capability|requirement,) name, nested... ]');
      if (!args.every((a, i) => isStr(a) || (i >= 2 && a.kind === 'scalar' && typeof a.value === 'number')))
        return bad('arguments must be names (and list indexes)');
      const entity = entityOf(args[0], site, index, bad, unknown);
      if (entity === undefined) return;
      if (entity === null) return; // not resolvable statically (abstract target, HOST without host)
      const names = args.slice(1).map((a) => (a.kind === 'scalar' ? String(a.value) : ''));
      checkPropertyPath(name, entity, names, args, unknown);
      return;
    }
    case 'get_operation_output': {
      if (argNode.kind !== 'seq' || args.length !== 4 || !args.every(isStr))
        return bad('expects [ entity, interface, operation, output ]');
      entityOf(args[0], site, index, bad, unknown);
      return;
    }
    case 'get_nodes_of_type': {
      if (args.length !== 1 || !isStr(args[0])) return bad('expects a node type name');
      const tn = String((args[0] as { value: string }).value);
      if (!resolveType('node', tn, unit)) unknown(`unknown node type '${tn}'`, args[0]);
      return;
    }
    case 'get_artifact': {
      if (
        argNode.kind !== 'seq' ||
        args.length < 2 ||
        args.length > 4 ||
        !isStr(args[0]) ||
        !isStr(args[1])
      ) {
        return bad('expects [ entity, artifact_name, location?, remove? ]');
      }
      const entity = entityOf(args[0], site, index, bad, unknown);
      if (!entity || entity.kind !== 'node') return;
      const art = String((args[1] as { value: string }).value);
      if (!entity.model.artifacts[art])
        unknown(`node template '${entity.model.name}' has no artifact '${art}'`, args[1]);
      return;
    }
    case 'concat': {
      if (argNode.kind !== 'seq' || args.length < 1)
        return bad('expects a list of strings or function calls');
      for (const a of args)
        if (!(a.kind === 'scalar' || isFn(a)))
          bad(
            `arguments must be scalars or function calls; got ${a.kind === 'map' ? 'a mapping' : 'a list'}`,
            a,
          );
      return;
    }
    case 'join': {
      if (argNode.kind !== 'seq' || args.length < 1 || args.length > 2)
        return bad('expects [ [ strings... ], delimiter? ]');
      const list = args[0];
      if (
        !(
          list.kind === 'seq' &&
          list.items.length >= 1 &&
          list.items.every((i) => i.kind === 'scalar' || isFn(i))
        ) &&
        !isFn(list)
      ) {
        bad('the first argument must be a non-empty list of strings or function calls', list);
      }
      if (args[1] && !isStr(args[1])) bad('the delimiter must be a string', args[1]);
      return;
    }
    case 'token': {
      if (argNode.kind !== 'seq' || args.length !== 3)
        return bad('expects [ string, separator characters, index ]');
      const [s, chars, idx] = args;
      if (!(isStr(s) || isFn(s))) bad('the first argument must be a string or a function call', s);
      if (!isStr(chars)) bad('the separator characters must be a string', chars);
      if (!(
        idx.kind === 'scalar' &&
        typeof idx.value === 'number' &&
        Number.isInteger(idx.value) &&
        idx.value >= 0
      ))
        bad('the index must be a non-negative integer', idx);
      return;
    }
  }
}

type Entity =
  { kind: 'node'; type?: TypeDef; model: NodeTemplate } | { kind: 'relationship'; type?: TypeDef };

/** Resolves SELF / SOURCE / TARGET / HOST / a template name; undefined = reported, null = not checkable. */
function entityOf(
  node: YNode,
  site: FunctionSite,
  index: TopologyIndex,
  bad: (m: string, at?: YNode) => void,
  unknown: (m: string, at?: YNode) => void,
): Entity | null | undefined {
  if (!isStr(node)) {
    bad('the entity must be SELF, SOURCE, TARGET, HOST or a template name', node);
    return undefined;
  }
  const name = String((node as { value: string }).value);
  const { scope } = site;
  const nodeEntity = (n: string | undefined): Entity | null => {
    const info = n !== undefined ? index.nodes.get(n) : undefined;
    return info ? { kind: 'node', type: info.type, model: info.model } : null;
  };
  switch (name) {
    case 'SELF':
      if (scope.noSelf || scope.self === undefined) {
        bad(`SELF has no meaning in ${scope.owner}; name a node template`, node);
        return undefined;
      }
      if (scope.source !== undefined && scope.owner.startsWith('relationship')) return null;
      return nodeEntity(scope.self);
    case 'SOURCE':
    case 'TARGET':
      if (!scope.owner.startsWith('relationship')) {
        bad(`${name} is only meaningful in a relationship`, node);
        return undefined;
      }
      return nodeEntity(name === 'SOURCE' ? scope.source : scope.target);
    case 'HOST': {
      if (scope.noSelf || scope.self === undefined) {
        bad(`HOST has no meaning in ${scope.owner}`, node);
        return undefined;
      }
      const host = hostOf(scope.self, index);
      if (host === undefined) {
        unknown(
          `HOST: node template '${scope.self}' is not hosted on a node template (no HostedOn requirement)`,
          node,
        );
        return undefined;
      }
      return nodeEntity(host);
    }
    default: {
      if (index.nodes.has(name)) return nodeEntity(name);
      const rt = index.relTemplates.get(name);
      if (rt) return { kind: 'relationship', type: rt.type };
      unknown(`'${name}' is not a node or relationship template`, node);
      return undefined;
    }
  }
}

function hostOf(name: string, index: TopologyIndex): string | undefined {
  const info = index.nodes.get(name);
  for (const req of info?.model.requirements ?? []) {
    if (req.target && index.hostedOn && req.relationship.typeChain.includes(index.hostedOn.name))
      return req.target;
  }
  return undefined;
}

function checkPropertyPath(
  fn: string,
  entity: Entity,
  names: string[],
  args: YNode[],
  unknown: (m: string, at?: YNode) => void,
): void {
  const t = entity.type;
  if (!t) return;
  const attrs = fn === 'get_attribute';
  const has = (type: TypeDef, n: string) =>
    mergedProperties(type).has(n) || (attrs && mergedAttributes(type).has(n));
  const [first, second] = names;
  if (has(t, first)) return;
  const label =
    entity.kind === 'node' ? `node template '${entity.model.name}'` : `relationship type ${t.name}`;
  const caps = mergedCapabilities(t);
  if (caps.has(first)) {
    if (second === undefined) return unknown(`${label}: name a property of capability '${first}'`, args[1]);
    const capType = caps.get(first)?.typeName;
    const ct = capType ? resolveType('capability', capType, caps.get(first)!.unit) : undefined;
    if (ct && !has(ct, second))
      unknown(
        `capability '${first}' of ${label} has no ${attrs ? 'attribute or property' : 'property'} '${second}'`,
        args[2],
      );
    return;
  }
  if (mergedRequirements(t).some((d) => d.name === first)) return;
  unknown(
    `${label} has no ${attrs ? 'attribute, property' : 'property'}, capability or requirement '${first}'`,
    args[1],
  );
}

// ---- evaluation ----

export class ToscaEvaluationError extends Error {}

export interface EvaluationContext {
  template: ServiceTemplate;
  /** Input values supplied at deploy time (override the template's values and defaults). */
  inputs?: Record<string, unknown>;
  /** Node template evaluated for SELF. */
  self?: string;
  source?: string;
  target?: string;
  /** Runtime attribute values; without it get_attribute falls back to a property of that name, else stays unevaluated. */
  getAttribute?: (entity: string, path: (string | number)[]) => Value | undefined;
  getOperationOutput?: (
    entity: string,
    iface: string,
    operation: string,
    output: string,
  ) => Value | undefined;
}

/** Resolves function calls in `value` (recursively). Throws ToscaEvaluationError on a dangling reference. */
export function evaluate(value: Value, context: EvaluationContext, depth = 0): Value {
  if (depth > 64)
    throw new ToscaEvaluationError('function evaluation is too deeply nested (a get_property cycle?)');
  if (value instanceof FunctionCall) return evaluateCall(value, context, depth);
  if (Array.isArray(value)) return value.map((v) => evaluate(v, context, depth + 1));
  if (value !== null && typeof value === 'object') {
    const out: Record<string, Value> = {};
    for (const [k, v] of Object.entries(value)) out[k] = evaluate(v, context, depth + 1);
    return out;
  }
  return value;
}

function walk(value: Value | undefined, path: (string | number)[], what: string): Value {
  let cur: Value | undefined = value;
  for (const p of path) {
    if (Array.isArray(cur) && typeof p === 'number') cur = cur[p];
    else if (cur !== null && typeof cur === 'object' && !Array.isArray(cur) && !(cur instanceof FunctionCall))
      cur = (cur as Record<string, Value>)[String(p)];
    else cur = undefined;
    if (cur === undefined) throw new ToscaEvaluationError(`${what}: no value at '${path.join('.')}'`);
  }
  return cur as Value;
}

function evaluateCall(call: FunctionCall, ctx: EvaluationContext, depth: number): Value {
  const args = call.args.map((a) =>
    a instanceof FunctionCall && call.function !== 'get_input' ? evaluate(a, ctx, depth + 1) : a,
  );
  const str = (v: Value) => (v === null ? '' : typeof v === 'object' ? JSON.stringify(v) : String(v));
  switch (call.function) {
    case 'get_input': {
      const [name, ...nested] = args as (string | number)[];
      const supplied = ctx.inputs && Object.prototype.hasOwnProperty.call(ctx.inputs, String(name));
      const value = supplied
        ? (ctx.inputs?.[String(name)] as Value)
        : ctx.template.inputs[String(name)]?.value;
      if (value === undefined) throw new ToscaEvaluationError(`get_input: input '${name}' has no value`);
      return walk(evaluate(value, ctx, depth + 1), nested, `get_input ${name}`);
    }
    case 'get_property':
    case 'get_attribute': {
      const [entityArg, ...rest] = args as (string | number)[];
      const entity = resolveEntity(String(entityArg), ctx);
      const node = ctx.template.nodeTemplates[entity];
      if (call.function === 'get_attribute' && ctx.getAttribute) {
        const v = ctx.getAttribute(entity, rest);
        if (v !== undefined) return v;
      }
      if (!node) {
        const rt = ctx.template.relationshipTemplates[entity];
        if (!rt) throw new ToscaEvaluationError(`${call.function}: '${entity}' is not a template`);
        return walk(rt.properties, rest, `${call.function} ${entity}`);
      }
      const [first, ...more] = rest;
      const inner = { ...ctx, self: entity };
      if (first in node.properties)
        return evaluate(
          walk(node.properties, [first, ...more], `${call.function} ${entity}`),
          inner,
          depth + 1,
        );
      if (call.function === 'get_attribute' && first in node.attributes)
        return evaluate(walk(node.attributes, rest, `get_attribute ${entity}`), inner, depth + 1);
      const cap = node.capabilities[String(first)];
      if (cap) {
        const source =
          call.function === 'get_attribute' && more[0] !== undefined && String(more[0]) in cap.attributes
            ? cap.attributes
            : cap.properties;
        return evaluate(walk(source, more, `${call.function} ${entity}.${first}`), inner, depth + 1);
      }
      const req = node.requirements.find((q) => q.name === first);
      if (req?.target)
        return evaluate(new FunctionCall(call.function, [req.target, ...more]), ctx, depth + 1);
      if (call.function === 'get_attribute') return new FunctionCall(call.function, [entity, ...rest]);
      throw new ToscaEvaluationError(`get_property: node template '${entity}' has no property '${first}'`);
    }
    case 'get_operation_output': {
      const [entity, iface, op, output] = args.map(str);
      const v = ctx.getOperationOutput?.(resolveEntity(entity, ctx), iface, op, output);
      return v === undefined ? call : v;
    }
    case 'get_nodes_of_type': {
      const typeName = str(args[0]);
      const canonical = ctx.template.types.get('node', typeName)?.name ?? typeName;
      return Object.values(ctx.template.nodeTemplates)
        .filter((n) => n.typeChain.includes(canonical))
        .map((n) => n.name);
    }
    case 'get_artifact': {
      const entity = resolveEntity(str(args[0]), ctx);
      const art = ctx.template.nodeTemplates[entity]?.artifacts[str(args[1])];
      if (!art)
        throw new ToscaEvaluationError(
          `get_artifact: node template '${entity}' has no artifact '${str(args[1])}'`,
        );
      return args[2] !== undefined && args[2] !== null ? str(args[2]) : (art.deployPath ?? art.file);
    }
    case 'concat':
      if (args.some((a) => a instanceof FunctionCall)) return new FunctionCall('concat', args);
      return args.map(str).join('');
    case 'join': {
      const list = args[0];
      if (!Array.isArray(list)) throw new ToscaEvaluationError('join: the first argument is not a list');
      const items = list.map((v) => evaluate(v, ctx, depth + 1));
      if (items.some((a) => a instanceof FunctionCall))
        return new FunctionCall('join', [items, ...args.slice(1)]);
      return items.map(str).join(args[1] === undefined ? '' : str(args[1]));
    }
    case 'token': {
      const [s, chars, idx] = args;
      if (s instanceof FunctionCall) return new FunctionCall('token', args);
      const text = str(s);
      const seps = new Set(str(chars));
      const parts: string[] = [];
      let cur = '';
      for (const ch of text) {
        if (seps.has(ch)) {
          parts.push(cur);
          cur = '';
        } else cur += ch;
      }
      parts.push(cur);
      const i = Number(idx);
      if (!(i >= 0 && i < parts.length))
        throw new ToscaEvaluationError(`token: no substring ${i} in "${text}"`);
      return parts[i];
    }
  }
  return call;
}

function resolveEntity(name: string, ctx: EvaluationContext): string {
  switch (name) {
    case 'SELF':
      if (!ctx.self) throw new ToscaEvaluationError('SELF: no node template in the evaluation context');
      return ctx.self;
    case 'SOURCE':
      if (!ctx.source)
        throw new ToscaEvaluationError('SOURCE: no relationship source in the evaluation context');
      return ctx.source;
    case 'TARGET':
      if (!ctx.target)
        throw new ToscaEvaluationError('TARGET: no relationship target in the evaluation context');
      return ctx.target;
    case 'HOST': {
      const node = ctx.self ? ctx.template.nodeTemplates[ctx.self] : undefined;
      const host = node?.requirements.find(
        (r) => r.target && r.relationship.typeChain.includes('tosca.relationships.HostedOn'),
      );
      if (!host?.target) throw new ToscaEvaluationError(`HOST: node template '${ctx.self}' has no host`);
      return host.target;
    }
    default:
      return name;
  }
}

export { derivesFrom };
