// Checks of type definitions (TOSCA 1.3 §3.7): derivation (existence, kind, cycles), property and
// attribute definitions and their refinement, capability/requirement definitions, type lists.
import { type FileUnit, joinPath, KIND_LABEL, Reporter, TYPE_KINDS } from './context';
import { PRIMITIVE_TYPES } from './scalars';
import {
  chainOf,
  type EffectiveParam,
  mergedAttributes,
  mergedCapabilities,
  mergedProperties,
  type ParamDef,
  resolveType,
  resolveTypeReported,
  schemaOfDef,
  schemaOfParam,
  type TypeDef,
} from './types';
import { checkConstraintClause, checkValue, type ValueContext } from './values';
import type { TypeKind } from './model';
import type { YNode } from './yaml-tree';

export function validateTypes(r: Reporter, units: Iterable<FileUnit>): void {
  for (const unit of units) {
    for (const kind of TYPE_KINDS) {
      for (const t of unit.types[kind].values()) validateType(r, t);
    }
  }
}

function checkTypeRef(
  r: Reporter,
  kind: TypeKind,
  node: YNode | undefined,
  name: string | undefined,
  unit: FileUnit,
  path: string,
  what: string,
) {
  if (!node || name === undefined) return undefined;
  return resolveTypeReported(r, kind, name, unit, node, path, what);
}

function validateType(r: Reporter, t: TypeDef): void {
  const label = `${KIND_LABEL[t.kind]} '${t.name}'`;
  if (t.derivedFrom !== undefined && t.derivedFromNode) {
    const dpath = joinPath(t.path, 'derived_from');
    if (!(t.kind === 'data' && PRIMITIVE_TYPES.has(t.derivedFrom))) {
      checkTypeRef(r, t.kind, t.derivedFromNode, t.derivedFrom, t.unit, dpath, label);
    }
    const chain = chainOf(t);
    if (t.cyclic) {
      const names = chain.map((c) => c.name);
      const start = chain.findIndex((c) => c.cyclic);
      const cycle = [...names.slice(start), names[start]].join(' → ');
      r.error(
        'TOSCA_DERIVATION_CYCLE',
        t.unit,
        t.derivedFromNode.pos,
        dpath,
        `${label} derives from itself: ${cycle}`,
      );
      return;
    }
  }
  const parent = chainOf(t)[1];
  const parentProps = parent ? mergedProperties(parent) : undefined;
  for (const def of t.properties.values()) {
    validateParamDef(
      r,
      def,
      'property',
      label,
      parentProps?.get(def.name),
      mergedProperties(t).get(def.name),
    );
  }
  if (t.attributes.size) {
    const parentAttrs = parent ? mergedAttributes(parent) : undefined;
    for (const def of t.attributes.values()) {
      validateParamDef(
        r,
        def,
        'attribute',
        label,
        parentAttrs?.get(def.name),
        mergedAttributes(t).get(def.name),
      );
    }
  }
  if (t.kind === 'data') {
    const base = t.derivedFrom && PRIMITIVE_TYPES.has(t.derivedFrom) ? t.derivedFrom : 'complex';
    for (const c of t.constraints) checkConstraintClause(r, c, base);
    if (t.entrySchema) validateSchemaDef(r, t.entrySchema, label);
    if (t.keySchema) validateSchemaDef(r, t.keySchema, label);
  }
  // capabilities
  const parentCaps = parent ? mergedCapabilities(parent) : undefined;
  for (const cap of t.capabilities.values()) {
    const cpath = cap.path;
    const inherited = parentCaps?.get(cap.name);
    if (!cap.typeName) {
      if (!inherited)
        r.error(
          'TOSCA_MISSING_KEY',
          t.unit,
          cap.node.pos,
          cpath,
          `capability '${cap.name}' of ${label} needs a type`,
        );
      continue;
    }
    const ct = checkTypeRef(
      r,
      'capability',
      cap.typeNode,
      cap.typeName,
      t.unit,
      joinPath(cpath, 'type'),
      `capability '${cap.name}' of ${label}`,
    );
    const pt = inherited?.typeName
      ? resolveType('capability', inherited.typeName, inherited.unit)
      : undefined;
    if (ct && pt && !chainOf(ct).includes(pt)) {
      r.error(
        'TOSCA_REFINEMENT',
        t.unit,
        (cap.typeNode ?? cap.node).pos,
        joinPath(cpath, 'type'),
        `capability '${cap.name}' of ${label} refines ${pt.name} with ${ct.name}, which does not derive from it`,
      );
    }
    for (const [i, vs] of (cap.validSourceTypes ?? []).entries()) {
      const name = String(vs.value);
      if (!resolveType('node', name, t.unit))
        checkTypeRef(
          r,
          'node',
          vs,
          name,
          t.unit,
          joinPath(joinPath(cpath, 'valid_source_types'), i),
          `capability '${cap.name}' of ${label}`,
        );
    }
    if (ct) {
      const capProps = mergedProperties(ct);
      for (const [pname, pdef] of cap.properties) {
        if (!capProps.has(pname)) {
          r.error(
            'TOSCA_UNKNOWN_PROPERTY',
            t.unit,
            pdef.node.pos,
            pdef.path,
            `capability type ${ct.name} has no property '${pname}'`,
          );
        }
      }
    }
  }
  for (const req of t.requirements) {
    const what = `requirement '${req.name}' of ${label}`;
    const nt = checkTypeRef(
      r,
      'node',
      req.nodeTypeNode,
      req.nodeType,
      t.unit,
      joinPath(req.path, 'node'),
      what,
    );
    if (req.capability !== undefined && req.capabilityNode) {
      const byName = nt && mergedCapabilities(nt).has(req.capability);
      if (!byName)
        checkTypeRef(
          r,
          'capability',
          req.capabilityNode,
          req.capability,
          t.unit,
          joinPath(req.path, 'capability'),
          what,
        );
    }
    checkTypeRef(
      r,
      'relationship',
      req.relationshipNode,
      req.relationship,
      t.unit,
      joinPath(req.path, 'relationship'),
      what,
    );
  }
  if (t.typeList) {
    const listKey = {
      relationship: 'valid_target_types',
      capability: 'valid_source_types',
      group: 'members',
      policy: 'targets',
    }[t.kind as 'relationship'];
    const kinds: TypeKind[] =
      t.kind === 'relationship'
        ? ['capability', 'node']
        : t.kind === 'capability'
          ? ['node']
          : t.kind === 'group'
            ? ['node', 'group']
            : ['node', 'group'];
    for (const [i, item] of t.typeList.entries()) {
      const name = String(item.value);
      if (kinds.some((k) => resolveType(k, name, t.unit))) continue;
      checkTypeRef(r, kinds[0], item, name, t.unit, joinPath(joinPath(t.path, listKey), i), label);
    }
  }
  for (const section of [t.interfaces, t.kind === 'node' ? t.artifacts : undefined]) {
    if (!section) continue;
    const kind: TypeKind = section === t.interfaces ? 'interface' : 'artifact';
    const key = kind === 'interface' ? 'interfaces' : 'artifacts';
    for (const e of section.entries) {
      const typeNode = e.value.kind === 'map' ? e.value.byKey.get('type')?.value : undefined;
      const name =
        typeNode?.kind === 'scalar' && typeof typeNode.value === 'string' ? typeNode.value : undefined;
      checkTypeRef(
        r,
        kind,
        typeNode,
        name,
        t.unit,
        joinPath(joinPath(joinPath(t.path, key), e.key), 'type'),
        `${kind === 'interface' ? 'interface' : 'artifact'} '${e.key}' of ${label}`,
      );
    }
  }
}

function validateSchemaDef(r: Reporter, def: ParamDef, owner: string): void {
  if (def.typeName === undefined || !def.typeNode) {
    r.error(
      'TOSCA_MISSING_KEY',
      def.unit,
      def.node.pos,
      def.path,
      `entry_schema/key_schema of ${owner} needs a type`,
    );
    return;
  }
  if (!PRIMITIVE_TYPES.has(def.typeName))
    checkTypeRef(r, 'data', def.typeNode, def.typeName, def.unit, joinPath(def.path, 'type'), owner);
  const schema = schemaOfDef(def);
  for (const c of def.constraints) checkConstraintClause(r, c, schema.base);
  if (def.entrySchema) validateSchemaDef(r, def.entrySchema, owner);
  if (def.keySchema) validateSchemaDef(r, def.keySchema, owner);
}

/** Data types compatible for refinement: same type, or the child's type derives from the parent's. */
function compatibleTypes(
  childName: string,
  childUnit: FileUnit,
  parentName: string,
  parentUnit: FileUnit,
): boolean {
  if (childName === parentName) return true;
  const child = PRIMITIVE_TYPES.has(childName) ? undefined : resolveType('data', childName, childUnit);
  const parent = PRIMITIVE_TYPES.has(parentName) ? undefined : resolveType('data', parentName, parentUnit);
  if (child && parent) return chainOf(child).includes(parent);
  if (child && PRIMITIVE_TYPES.has(parentName)) {
    const top = chainOf(child)[chainOf(child).length - 1];
    return top.derivedFrom === parentName;
  }
  return false;
}

function validateParamDef(
  r: Reporter,
  def: ParamDef,
  what: 'property' | 'attribute',
  owner: string,
  inherited: EffectiveParam | undefined,
  effective: EffectiveParam | undefined,
): void {
  const label = `${what} '${def.name}' of ${owner}`;
  if (def.typeName === undefined || !def.typeNode) {
    if (!inherited && def.node.kind === 'map')
      r.error('TOSCA_MISSING_KEY', def.unit, def.node.pos, def.path, `${label} needs a type`);
  } else {
    if (!PRIMITIVE_TYPES.has(def.typeName))
      checkTypeRef(r, 'data', def.typeNode, def.typeName, def.unit, joinPath(def.path, 'type'), label);
    if (
      inherited?.typeName &&
      !compatibleTypes(def.typeName, def.unit, inherited.typeName, inherited.typeUnit)
    ) {
      r.error(
        'TOSCA_REFINEMENT',
        def.unit,
        def.typeNode.pos,
        joinPath(def.path, 'type'),
        `${label} refines the inherited type ${inherited.typeName} with ${def.typeName}, which does not derive from it`,
      );
    }
  }
  if (def.entrySchema) validateSchemaDef(r, def.entrySchema, label);
  if (def.keySchema) validateSchemaDef(r, def.keySchema, label);
  if (!effective) return;
  const schema = schemaOfParam(effective);
  for (const c of def.constraints) checkConstraintClause(r, c, schema.base);
  const dflt = def.defaultNode ?? def.valueNode;
  if (dflt) {
    const ctx: ValueContext = { r, unit: def.unit, functions: [], scope: { owner, noSelf: true } };
    checkValue(
      dflt,
      schema,
      ctx,
      joinPath(def.path, def.defaultNode ? 'default' : 'value'),
      `the default of ${label}`,
    );
  }
}
