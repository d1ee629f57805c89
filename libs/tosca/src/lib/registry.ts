// The merged type registry exposed in the model: every type visible from the entry file.
import { type FileUnit, TYPE_KINDS } from './context';
import type { PropertyDefinition, TypeInfo, TypeKind, TypeRegistry } from './model';
import {
  chainOf,
  type EffectiveParam,
  mergedAttributes,
  mergedCapabilities,
  mergedProperties,
  mergedRequirements,
  resolveType,
  type TypeDef,
} from './types';
import { toJs } from './yaml-tree';

export function createRegistry(entry: FileUnit, units: FileUnit[]): TypeRegistry {
  const infoCache = new Map<TypeDef, TypeInfo>();
  const lookup = (kind: TypeKind, name: string) => resolveType(kind, name, entry);
  const info = (t: TypeDef): TypeInfo => {
    let i = infoCache.get(t);
    if (!i) {
      i = toInfo(t);
      infoCache.set(t, i);
    }
    return i;
  };
  return {
    get: (kind, name) => {
      const t = lookup(kind, name);
      return t ? info(t) : undefined;
    },
    names: (kind) => {
      const names = new Set<string>();
      for (const u of [...entry.implicit, ...units]) for (const n of u.types[kind].keys()) names.add(n);
      return [...names].sort();
    },
    isDerivedFrom: (kind, name, ancestor) => {
      const t = lookup(kind, name);
      const a = lookup(kind, ancestor);
      return !!t && !!a && chainOf(t).includes(a);
    },
  };
}

function param(p: EffectiveParam): PropertyDefinition {
  return {
    name: p.name,
    type: p.typeName ?? 'string',
    required: p.required,
    default: p.defaultNode ? (toJs(p.defaultNode) as PropertyDefinition['default']) : undefined,
    entrySchema: p.entrySchema?.typeName,
    keySchema: p.keySchema?.typeName,
    constraints: p.constraints.map((c) => toJs(c.node)),
    description: p.def.description,
  };
}

function toInfo(t: TypeDef): TypeInfo {
  const chain = chainOf(t);
  const props: Record<string, PropertyDefinition> = {};
  for (const [n, p] of mergedProperties(t)) props[n] = param(p);
  const attrs: Record<string, PropertyDefinition> = {};
  for (const [n, p] of mergedAttributes(t)) attrs[n] = param(p);
  const caps: TypeInfo['capabilities'] = {};
  if (t.kind === 'node' || t.kind === 'group') {
    for (const [n, c] of mergedCapabilities(t)) {
      const ct = c.typeName ? resolveType('capability', c.typeName, c.unit) : undefined;
      caps[n] = { type: ct?.name ?? c.typeName ?? '', occurrences: c.occurrences };
    }
  }
  const list = chain.find((c) => c.typeList && c.typeList.length)?.typeList?.map((s) => String(s.value));
  return {
    kind: t.kind,
    name: t.name,
    derivedFrom: chain[1]?.name ?? t.derivedFrom,
    chain: chain.map((c) => c.name),
    description: t.description,
    metadata: t.node.byKey.get('metadata')
      ? (toJs(t.node.byKey.get('metadata')!.value) as Record<string, unknown>)
      : {},
    properties: props,
    attributes: attrs,
    capabilities: caps,
    requirements:
      t.kind === 'node' || t.kind === 'group'
        ? mergedRequirements(t).map((d) => ({
            name: d.name,
            capability: d.capability
              ? (resolveType('capability', d.capability, d.unit)?.name ?? d.capability)
              : undefined,
            node: d.nodeType ? (resolveType('node', d.nodeType, d.unit)?.name ?? d.nodeType) : undefined,
            relationship: d.relationship
              ? (resolveType('relationship', d.relationship, d.unit)?.name ?? d.relationship)
              : undefined,
            occurrences: d.occurrences,
          }))
        : [],
    validTargetTypes: t.kind === 'relationship' ? list : undefined,
    members: t.kind === 'group' ? list : undefined,
    targets: t.kind === 'policy' ? list : undefined,
  };
}

export { TYPE_KINDS };
