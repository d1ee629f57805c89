// The topology template (TOSCA 1.3 §3.9): inputs, node and relationship templates, requirements
// (targets, capabilities, relationships, occurrences, node filters), requirement cycles, groups,
// policies, outputs and substitution mappings, into the resolved ServiceTemplate model.
import { type FileUnit, joinPath, Reporter } from './context';
import { checkFunctions, type TopologyIndex } from './functions';
import type {
  Artifact,
  Capability,
  Group,
  InputParameter,
  NodeTemplate,
  Output,
  Policy,
  Relationship,
  RelationshipTemplate,
  Requirement,
  ServiceTemplate,
  SubstitutionMappings,
  Value,
} from './model';
import { FunctionCall } from './model';
import { PRIMITIVE_TYPES } from './scalars';
import { createRegistry } from './registry';
import {
  type CapabilityDef,
  chainOf,
  checkKeys,
  derivesFrom,
  type EffectiveParam,
  expectMap,
  expectSeq,
  mergedAttributes,
  mergedCapabilities,
  mergedProperties,
  mergedRequirements,
  mergeParams,
  parseParamDef,
  type RequirementDef,
  resolveType,
  resolveTypeReported,
  schemaOfParam,
  type TypeDef,
  UNBOUNDED,
} from './types';
import {
  checkConstraintClause,
  checkProperties,
  checkValue,
  type FunctionScope,
  toValue,
  type ValueContext,
  violation,
} from './values';
import { describeNode, fromJs, toJs, type YMap, type YNode, scalarString } from './yaml-tree';

const TOPOLOGY_KEYS = new Set([
  'description',
  'inputs',
  'node_templates',
  'relationship_templates',
  'groups',
  'policies',
  'outputs',
  'substitution_mappings',
  'workflows',
]);
const NODE_TEMPLATE_KEYS = new Set([
  'type',
  'description',
  'metadata',
  'directives',
  'properties',
  'attributes',
  'requirements',
  'capabilities',
  'interfaces',
  'artifacts',
  'node_filter',
  'copy',
]);
const PARAMETER_KEYS = new Set([
  'type',
  'description',
  'required',
  'default',
  'value',
  'status',
  'constraints',
  'key_schema',
  'entry_schema',
  'external_schema',
  'metadata',
]);
const REQUIREMENT_ASSIGNMENT_KEYS = new Set([
  'capability',
  'node',
  'relationship',
  'node_filter',
  'occurrences',
]);
const RELATIONSHIP_TEMPLATE_KEYS = new Set([
  'type',
  'description',
  'metadata',
  'properties',
  'attributes',
  'interfaces',
  'copy',
]);
const GROUP_KEYS = new Set([
  'type',
  'description',
  'metadata',
  'properties',
  'attributes',
  'members',
  'interfaces',
]);
const POLICY_KEYS = new Set(['type', 'description', 'metadata', 'properties', 'targets', 'triggers']);
const OUTPUT_KEYS = new Set([
  'description',
  'value',
  'type',
  'status',
  'metadata',
  'required',
  'constraints',
  'entry_schema',
  'key_schema',
]);
const SUBSTITUTION_KEYS = new Set([
  'node_type',
  'substitution_filter',
  'properties',
  'attributes',
  'capabilities',
  'requirements',
  'interfaces',
]);
const CAPABILITY_ASSIGNMENT_KEYS = new Set(['properties', 'attributes', 'occurrences']);

export interface NodeInfo {
  name: string;
  node: YMap;
  path: string;
  type?: TypeDef;
  model: NodeTemplate;
  /** Effective capability definitions (type resolved). */
  caps: Map<string, { def: CapabilityDef; type?: TypeDef }>;
  requirementSites: { name: string; node: YNode; path: string; target?: string; dependency: boolean }[];
}

export interface TopologyOptions {
  inputs?: Record<string, unknown>;
}

export function buildTopology(
  r: Reporter,
  unit: FileUnit,
  units: FileUnit[],
  options: TopologyOptions,
): ServiceTemplate {
  const root = unit.root;
  const functions: ValueContext['functions'] = [];
  const ctxFor = (scope: FunctionScope, anchor?: number): ValueContext => ({
    r,
    unit,
    functions,
    scope,
    anchor,
  });
  const template: ServiceTemplate = {
    file: unit.name,
    toscaDefinitionsVersion: scalarString(root?.byKey.get('tosca_definitions_version')?.value) ?? '',
    description: scalarString(root?.byKey.get('description')?.value),
    metadata: metadataOf(root?.byKey.get('metadata')?.value),
    inputs: {},
    nodeTemplates: {},
    relationshipTemplates: {},
    groups: {},
    policies: [],
    outputs: {},
    types: createRegistry(unit, units),
  };
  const tt = expectMap(
    r,
    unit,
    root?.byKey.get('topology_template')?.value,
    'topology_template',
    'topology_template',
  );
  if (!tt) return template;
  checkKeys(r, unit, tt, TOPOLOGY_KEYS, 'topology_template', 'topology_template');
  const section = (key: string) => tt.byKey.get(key)?.value;
  const P = (key: string) => joinPath('topology_template', key);

  // ---- inputs ----
  const inputsMap = expectMap(r, unit, section('inputs'), P('inputs'), 'inputs');
  const supplied = options.inputs;
  for (const e of inputsMap?.entries ?? []) {
    const ipath = joinPath(P('inputs'), e.key);
    if (e.value.kind === 'map') checkKeys(r, unit, e.value, PARAMETER_KEYS, ipath, `input '${e.key}'`);
    const def = parseParamDef(r, unit, e.key, e.value, ipath, 'parameter');
    if (def.typeName !== undefined && def.typeNode && !PRIMITIVE_TYPES.has(def.typeName)) {
      resolveTypeReported(
        r,
        'data',
        def.typeName,
        unit,
        def.typeNode,
        joinPath(ipath, 'type'),
        `input '${e.key}'`,
      );
    }
    const eff = mergeParams(undefined, new Map([[e.key, def]]), true).get(e.key) as EffectiveParam;
    const schema = schemaOfParam(eff);
    for (const c of def.constraints) checkConstraintClause(r, c, schema.base);
    const scope: FunctionScope = { owner: `input '${e.key}'`, noSelf: true };
    const param: InputParameter = {
      name: e.key,
      type: def.typeName ?? 'string',
      required: def.required ?? true,
      description: def.description,
      constraints: def.constraints.map((c) => toJs(c.node)),
    };
    if (def.defaultNode) {
      param.default = checkValue(
        def.defaultNode,
        schema,
        ctxFor(scope),
        joinPath(ipath, 'default'),
        `the default of input '${e.key}'`,
      );
      param.value = param.default;
    }
    if (def.valueNode) param.value = toValue(def.valueNode, ctxFor(scope), joinPath(ipath, 'value'));
    if (supplied && Object.prototype.hasOwnProperty.call(supplied, e.key)) {
      const node = fromJs(supplied[e.key], e.value.pos);
      param.value = checkValue(
        node,
        schema,
        { ...ctxFor(scope), functions: [] },
        ipath,
        `the supplied value of input '${e.key}'`,
      );
    } else if (supplied && param.required && !def.defaultNode && !def.valueNode) {
      r.error(
        'TOSCA_MISSING_INPUT',
        unit,
        e.value.pos,
        ipath,
        `input '${e.key}' is required and has no default; supply a value`,
      );
    }
    template.inputs[e.key] = param;
  }
  if (supplied) {
    for (const name of Object.keys(supplied)) {
      if (!template.inputs[name]) {
        r.error(
          'TOSCA_UNKNOWN_INPUT',
          unit,
          inputsMap?.pos ?? tt.pos,
          P('inputs'),
          `a value is supplied for input '${name}', which the template does not declare`,
        );
      }
    }
  }

  // ---- node templates: index and types ----
  const nodes = new Map<string, NodeInfo>();
  const ntMap = expectMap(r, unit, section('node_templates'), P('node_templates'), 'node_templates');
  for (const e of ntMap?.entries ?? []) {
    const path = joinPath(P('node_templates'), e.key);
    const map = expectMap(r, unit, e.value, path, `node template '${e.key}'`);
    if (!map) {
      if (e.value.kind === 'scalar' && e.value.value === null) {
        r.error('TOSCA_MISSING_KEY', unit, e.keyPos, path, `node template '${e.key}' needs a type`);
      }
      continue;
    }
    checkKeys(r, unit, map, NODE_TEMPLATE_KEYS, path, `node template '${e.key}'`);
    const typeNode = map.byKey.get('type')?.value;
    let type: TypeDef | undefined;
    if (!typeNode)
      r.error('TOSCA_MISSING_KEY', unit, e.keyPos, path, `node template '${e.key}' needs a type`);
    else if (typeNode.kind !== 'scalar' || typeof typeNode.value !== 'string') {
      r.error(
        'TOSCA_SYNTAX',
        unit,
        typeNode.pos,
        joinPath(path, 'type'),
        `the type of node template '${e.key}' must be a node type name`,
      );
    } else
      type = resolveTypeReported(
        r,
        'node',
        typeNode.value,
        unit,
        typeNode,
        joinPath(path, 'type'),
        `node template '${e.key}'`,
      );
    const chain = type ? chainOf(type).map((t) => t.name) : [];
    const dirs = map.byKey.get('directives')?.value;
    const model: NodeTemplate = {
      name: e.key,
      type: type?.name ?? scalarString(typeNode) ?? '',
      typeChain: chain,
      description: scalarString(map.byKey.get('description')?.value),
      metadata: metadataOf(map.byKey.get('metadata')?.value),
      directives: dirs?.kind === 'seq' ? dirs.items.map((d) => String(scalarString(d))) : [],
      properties: {},
      attributes: {},
      capabilities: {},
      requirements: [],
      interfaces: {},
      artifacts: {},
    };
    nodes.set(e.key, { name: e.key, node: map, path, type, model, caps: new Map(), requirementSites: [] });
    template.nodeTemplates[e.key] = model;
  }

  // ---- relationship templates ----
  const relTemplates = new Map<string, { type?: TypeDef; node: YMap; path: string }>();
  const rtMap = expectMap(
    r,
    unit,
    section('relationship_templates'),
    P('relationship_templates'),
    'relationship_templates',
  );
  for (const e of rtMap?.entries ?? []) {
    const path = joinPath(P('relationship_templates'), e.key);
    const map = expectMap(r, unit, e.value, path, `relationship template '${e.key}'`);
    if (!map) continue;
    checkKeys(r, unit, map, RELATIONSHIP_TEMPLATE_KEYS, path, `relationship template '${e.key}'`);
    const typeNode = map.byKey.get('type')?.value;
    const typeName = scalarString(typeNode);
    let type: TypeDef | undefined;
    if (!typeNode || typeName === undefined)
      r.error('TOSCA_MISSING_KEY', unit, e.keyPos, path, `relationship template '${e.key}' needs a type`);
    else
      type = resolveTypeReported(
        r,
        'relationship',
        typeName,
        unit,
        typeNode,
        joinPath(path, 'type'),
        `relationship template '${e.key}'`,
      );
    relTemplates.set(e.key, { type, node: map, path });
    const owner = `relationship template '${e.key}'`;
    const ctx = ctxFor({ owner }, map.pos);
    const rt: RelationshipTemplate = {
      name: e.key,
      type: type?.name ?? typeName ?? '',
      typeChain: type ? chainOf(type).map((t) => t.name) : [],
      properties: type
        ? checkProperties(
            expectMap(
              r,
              unit,
              map.byKey.get('properties')?.value,
              joinPath(path, 'properties'),
              'properties',
            ),
            mergedProperties(type),
            ctx,
            joinPath(path, 'properties'),
            owner,
            'property',
          )
        : rawMap(map.byKey.get('properties')?.value, ctx, joinPath(path, 'properties')),
      attributes: type
        ? checkProperties(
            expectMap(
              r,
              unit,
              map.byKey.get('attributes')?.value,
              joinPath(path, 'attributes'),
              'attributes',
            ),
            mergedAttributes(type),
            ctx,
            joinPath(path, 'attributes'),
            owner,
            'attribute',
          )
        : {},
      interfaces: rawObject(map.byKey.get('interfaces')?.value, ctx, joinPath(path, 'interfaces')),
    };
    template.relationshipTemplates[e.key] = rt;
  }

  // ---- node templates: properties, attributes, capabilities, artifacts, interfaces ----
  for (const info of nodes.values()) {
    const { node: map, path, type, model } = info;
    const owner = `node template '${info.name}'`;
    const ctx = ctxFor({ self: info.name, owner }, map.byKey.get('type') ? map.entries[0].keyPos : map.pos);
    const propsNode = expectMap(
      r,
      unit,
      map.byKey.get('properties')?.value,
      joinPath(path, 'properties'),
      'properties',
    );
    const attrsNode = expectMap(
      r,
      unit,
      map.byKey.get('attributes')?.value,
      joinPath(path, 'attributes'),
      'attributes',
    );
    if (type) {
      model.properties = checkProperties(
        propsNode,
        mergedProperties(type),
        { ...ctx, anchor: propsNode?.pos ?? ctx.anchor },
        joinPath(path, 'properties'),
        owner,
        'property',
      );
      model.attributes = checkProperties(
        attrsNode,
        mergedAttributes(type),
        ctx,
        joinPath(path, 'attributes'),
        owner,
        'attribute',
      );
    } else {
      model.properties = rawMap(propsNode, ctx, joinPath(path, 'properties'));
      model.attributes = rawMap(attrsNode, ctx, joinPath(path, 'attributes'));
    }
    // capabilities
    const capsNode = expectMap(
      r,
      unit,
      map.byKey.get('capabilities')?.value,
      joinPath(path, 'capabilities'),
      'capabilities',
    );
    const capDefs = type ? mergedCapabilities(type) : new Map<string, CapabilityDef>();
    for (const [name, def] of capDefs) {
      const ct = def.typeName ? resolveType('capability', def.typeName, def.unit) : undefined;
      info.caps.set(name, { def, type: ct });
    }
    for (const e of capsNode?.entries ?? []) {
      if (type && !capDefs.has(e.key)) {
        r.error(
          'TOSCA_UNKNOWN_CAPABILITY',
          unit,
          e.keyPos,
          joinPath(joinPath(path, 'capabilities'), e.key),
          `${owner} (${type.name}) has no capability '${e.key}'${capDefs.size ? `; it has ${[...capDefs.keys()].join(', ')}` : ''}`,
        );
      }
    }
    for (const [name, { def, type: ct }] of info.caps) {
      const cpath = joinPath(joinPath(path, 'capabilities'), name);
      const assigned = capsNode?.byKey.get(name)?.value;
      const amap = expectMap(r, unit, assigned, cpath, `capability '${name}'`);
      if (amap)
        checkKeys(r, unit, amap, CAPABILITY_ASSIGNMENT_KEYS, cpath, `capability '${name}' of ${owner}`);
      const cowner = `capability '${name}' of ${owner}`;
      const propDefs = ct
        ? mergeParams(mergedProperties(ct), def.properties, true)
        : new Map<string, EffectiveParam>();
      const attrDefs = ct
        ? mergeParams(mergedAttributes(ct), def.attributes, false)
        : new Map<string, EffectiveParam>();
      const pnode = expectMap(
        r,
        unit,
        amap?.byKey.get('properties')?.value,
        joinPath(cpath, 'properties'),
        'properties',
      );
      const anode = expectMap(
        r,
        unit,
        amap?.byKey.get('attributes')?.value,
        joinPath(cpath, 'attributes'),
        'attributes',
      );
      const cap: Capability = {
        name,
        type: ct?.name ?? def.typeName ?? '',
        typeChain: ct ? chainOf(ct).map((t) => t.name) : [],
        properties: checkProperties(
          pnode,
          propDefs,
          { ...ctx, anchor: amap?.pos ?? ctx.anchor },
          joinPath(cpath, 'properties'),
          cowner,
          'property',
        ),
        attributes: checkProperties(anode, attrDefs, ctx, joinPath(cpath, 'attributes'), cowner, 'attribute'),
      };
      model.capabilities[name] = cap;
    }
    // artifacts
    const artsNode = expectMap(
      r,
      unit,
      map.byKey.get('artifacts')?.value,
      joinPath(path, 'artifacts'),
      'artifacts',
    );
    for (const e of [...(type?.artifacts?.entries ?? []), ...(artsNode?.entries ?? [])]) {
      const apath = joinPath(joinPath(path, 'artifacts'), e.key);
      const v = e.value;
      const art: Artifact = { name: e.key, type: '', file: '', properties: {} };
      if (v.kind === 'scalar') art.file = String(v.value ?? '');
      else if (v.kind === 'map') {
        const tnode = v.byKey.get('type')?.value;
        const tname = scalarString(tnode);
        if (tnode && tname !== undefined && artsNode?.byKey.get(e.key)?.value === v) {
          const at = resolveTypeReported(
            r,
            'artifact',
            tname,
            unit,
            tnode,
            joinPath(apath, 'type'),
            `artifact '${e.key}' of ${owner}`,
          );
          art.type = at?.name ?? tname;
        } else art.type = tname ?? '';
        art.file = scalarString(v.byKey.get('file')?.value) ?? '';
        art.repository = scalarString(v.byKey.get('repository')?.value);
        art.deployPath = scalarString(v.byKey.get('deploy_path')?.value);
        art.properties = rawMap(v.byKey.get('properties')?.value, ctx, joinPath(apath, 'properties'));
        if (!v.byKey.has('file') && artsNode?.byKey.get(e.key)?.value === v) {
          r.error('TOSCA_MISSING_KEY', unit, v.pos, apath, `artifact '${e.key}' of ${owner} needs a file`);
        }
      }
      model.artifacts[e.key] = art;
    }
    // interfaces: kept as written, with function calls parsed (and checked later)
    model.interfaces = rawObject(map.byKey.get('interfaces')?.value, ctx, joinPath(path, 'interfaces'));
    const copy = map.byKey.get('copy')?.value;
    if (copy && !nodes.has(String(scalarString(copy)))) {
      r.error(
        'TOSCA_UNKNOWN_REFERENCE',
        unit,
        copy.pos,
        joinPath(path, 'copy'),
        `${owner} copies '${scalarString(copy)}', which is not a node template`,
      );
    }
  }

  // ---- requirements ----
  const dependsOn = relType(units, 'tosca.relationships.DependsOn');
  const hostedOn = relType(units, 'tosca.relationships.HostedOn');
  const connectsTo = relType(units, 'tosca.relationships.ConnectsTo');
  for (const info of nodes.values()) {
    resolveRequirements(info);
  }

  function resolveRequirements(info: NodeInfo): void {
    const { node: map, path, type, model } = info;
    const owner = `node template '${info.name}'`;
    const reqsNode = expectSeq(
      r,
      unit,
      map.byKey.get('requirements')?.value,
      joinPath(path, 'requirements'),
      'requirements',
    );
    const defs = type ? mergedRequirements(type) : [];
    const counts = new Map<string, number>();
    for (const [i, item] of (reqsNode?.items ?? []).entries()) {
      const ipath = joinPath(joinPath(path, 'requirements'), i);
      if (item.kind !== 'map' || item.entries.length !== 1) {
        r.error(
          'TOSCA_SYNTAX',
          unit,
          item.pos,
          ipath,
          `a requirement assignment of ${owner} must be a single-key mapping (name: target)`,
        );
        continue;
      }
      const { key: name, value, keyPos } = item.entries[0];
      const rpath = joinPath(ipath, name);
      const def = defs.find((d) => d.name === name);
      if (type && !def) {
        r.error(
          'TOSCA_UNKNOWN_REQUIREMENT',
          unit,
          keyPos,
          rpath,
          `${owner} (${type.name}) has no requirement '${name}'${defs.length ? `; it has ${[...new Set(defs.map((d) => d.name))].join(', ')}` : ''}`,
        );
      }
      counts.set(name, (counts.get(name) ?? 0) + 1);
      const req = resolveRequirement(info, name, value, rpath, def);
      model.requirements.push(req);
    }
    // occurrences (TOSCA 1.3 §3.7.3: default [1, 1])
    const seen = new Set<string>();
    for (const def of defs) {
      if (seen.has(def.name)) continue;
      seen.add(def.name);
      const n = counts.get(def.name) ?? 0;
      const [min, max] = def.occurrences;
      if (n < min || n > max) {
        const anchor = reqsNode ?? map;
        r.error(
          'TOSCA_OCCURRENCES',
          unit,
          n > max
            ? (findRequirementPos(reqsNode, def.name, max) ?? anchor.pos)
            : reqsNode
              ? reqsNode.pos
              : (map.entries[0]?.keyPos ?? map.pos),
          joinPath(path, 'requirements'),
          `${owner} has ${n} '${def.name}' requirement${n === 1 ? '' : 's'}; ${type?.name} allows ${min === max ? min : `${min} to ${max === UNBOUNDED ? 'UNBOUNDED' : max}`}`,
        );
      }
    }
  }

  function resolveRequirement(
    info: NodeInfo,
    name: string,
    value: YNode,
    rpath: string,
    def: RequirementDef | undefined,
  ): Requirement {
    const owner = `requirement '${name}' of node template '${info.name}'`;
    let nodeNode: YNode | undefined;
    let capNode: YNode | undefined;
    let relNode: YNode | undefined;
    let filterNode: YNode | undefined;
    if (value.kind === 'scalar') nodeNode = value.value === null ? undefined : value;
    else if (value.kind === 'map') {
      checkKeys(r, unit, value, REQUIREMENT_ASSIGNMENT_KEYS, rpath, owner);
      nodeNode = value.byKey.get('node')?.value;
      capNode = value.byKey.get('capability')?.value;
      relNode = value.byKey.get('relationship')?.value;
      filterNode = value.byKey.get('node_filter')?.value;
    } else
      r.error('TOSCA_SYNTAX', unit, value.pos, rpath, `${owner} must be a node template name or a mapping`);
    const rel: Relationship = { type: '', typeChain: [], properties: {}, interfaces: {} };
    const req: Requirement = { name, relationship: rel };
    // target node
    let target: NodeInfo | undefined;
    let targetType: TypeDef | undefined;
    const defNodeType = def?.nodeType ? resolveType('node', def.nodeType, def.unit) : undefined;
    if (nodeNode) {
      const nodeName = scalarString(nodeNode);
      if (nodeName === undefined)
        r.error(
          'TOSCA_SYNTAX',
          unit,
          nodeNode.pos,
          joinPath(rpath, 'node'),
          `${owner}: node must be a node template or node type name`,
        );
      else if (nodes.has(nodeName)) {
        target = nodes.get(nodeName);
        targetType = target?.type;
        req.target = nodeName;
      } else {
        const nt = resolveType('node', nodeName, unit);
        if (nt) {
          targetType = nt;
          req.nodeType = nt.name;
        } else {
          r.error(
            'TOSCA_DANGLING_REQUIREMENT',
            unit,
            nodeNode.pos,
            value.kind === 'map' ? joinPath(rpath, 'node') : rpath,
            `${owner} targets '${nodeName}', which is neither a node template nor a node type${suggestName(nodeName, nodes.keys())}`,
          );
        }
      }
    }
    req.nodeType ??= targetType?.name ?? defNodeType?.name;
    if (targetType && defNodeType && !derivesFrom(targetType, defNodeType)) {
      r.error(
        'TOSCA_TARGET_TYPE_MISMATCH',
        unit,
        (nodeNode ?? value).pos,
        value.kind === 'map' ? joinPath(rpath, 'node') : rpath,
        `${owner} needs a ${defNodeType.name}; '${scalarString(nodeNode)}' is a ${targetType.name}`,
      );
    }
    // capability
    const capName = capNode ? scalarString(capNode) : undefined;
    let capType: TypeDef | undefined;
    let capByName: string | undefined;
    if (capName !== undefined) {
      if (target?.caps.has(capName)) capByName = capName;
      else {
        capType = resolveType('capability', capName, unit);
        if (!capType && capNode) {
          if (target || !targetType || !mergedCapabilities(targetType).has(capName)) {
            r.error(
              'TOSCA_CAPABILITY_MISMATCH',
              unit,
              capNode.pos,
              joinPath(rpath, 'capability'),
              `${owner}: '${capName}' is neither a capability of the target nor a capability type`,
            );
          }
        }
      }
    } else if (def?.capability) {
      capType = resolveType('capability', def.capability, def.unit);
      if (!capType && target?.caps.has(def.capability)) capByName = def.capability;
    }
    req.capabilityType = capType?.name;
    if (target && target.type) {
      let chosen: string | undefined = capByName;
      if (!chosen && capType) {
        for (const [cname, c] of target.caps) {
          if (derivesFrom(c.type, capType)) {
            chosen = cname;
            break;
          }
        }
        if (!chosen) {
          r.error(
            'TOSCA_CAPABILITY_MISMATCH',
            unit,
            (capNode ?? nodeNode ?? value).pos,
            rpath,
            `${owner}: node template '${target.name}' (${target.type.name}) has no capability of type ${capType.name}`,
          );
        }
      }
      if (chosen) {
        req.targetCapability = chosen;
        const c = target.caps.get(chosen);
        req.capabilityType = c?.type?.name ?? req.capabilityType;
        const valid = c?.def.validSourceTypes;
        if (valid && valid.length && info.type) {
          const ok = valid.some((v) =>
            derivesFrom(info.type, resolveType('node', String(v.value), c.def.unit)),
          );
          if (!ok) {
            r.error(
              'TOSCA_CAPABILITY_MISMATCH',
              unit,
              (nodeNode ?? value).pos,
              rpath,
              `${owner}: capability '${chosen}' of '${target.name}' accepts only ${valid.map((v) => v.value).join(', ')} as source; '${info.name}' is a ${info.type.name}`,
            );
          }
        }
      }
    }
    // relationship
    let relTypeDef: TypeDef | undefined;
    let relProps: YMap | undefined;
    let relTypeNode: YNode | undefined;
    if (relNode) {
      if (relNode.kind === 'scalar') {
        const rn = String(relNode.value);
        const rt = relTemplates.get(rn);
        if (rt) {
          rel.template = rn;
          relTypeDef = rt.type;
          const model = template.relationshipTemplates[rn];
          if (model) {
            rel.properties = model.properties;
            rel.interfaces = model.interfaces;
          }
        } else
          relTypeDef = resolveTypeReported(
            r,
            'relationship',
            rn,
            unit,
            relNode,
            joinPath(rpath, 'relationship'),
            owner,
          );
        relTypeNode = relNode;
      } else if (relNode.kind === 'map') {
        checkKeys(
          r,
          unit,
          relNode,
          new Set(['type', 'properties', 'interfaces']),
          joinPath(rpath, 'relationship'),
          `relationship of ${owner}`,
        );
        relTypeNode = relNode.byKey.get('type')?.value;
        const tn = scalarString(relTypeNode);
        if (relTypeNode && tn !== undefined)
          relTypeDef = resolveTypeReported(
            r,
            'relationship',
            tn,
            unit,
            relTypeNode,
            joinPath(joinPath(rpath, 'relationship'), 'type'),
            owner,
          );
        relProps = expectMap(
          r,
          unit,
          relNode.byKey.get('properties')?.value,
          joinPath(joinPath(rpath, 'relationship'), 'properties'),
          'properties',
        );
        rel.interfaces = rawObject(
          relNode.byKey.get('interfaces')?.value,
          ctxFor({ self: info.name, source: info.name, target: target?.name, owner }),
          joinPath(joinPath(rpath, 'relationship'), 'interfaces'),
        );
      }
    }
    const defRel = def?.relationship ? resolveType('relationship', def.relationship, def.unit) : undefined;
    if (relTypeDef && defRel && !derivesFrom(relTypeDef, defRel)) {
      r.error(
        'TOSCA_RELATIONSHIP_MISMATCH',
        unit,
        (relTypeNode ?? value).pos,
        joinPath(rpath, 'relationship'),
        `${owner} needs a ${defRel.name} relationship; ${relTypeDef.name} does not derive from it`,
      );
    }
    relTypeDef ??= defRel ?? dependsOn;
    if (relTypeDef) {
      rel.type = relTypeDef.name;
      rel.typeChain = chainOf(relTypeDef).map((t) => t.name);
      if (!rel.template) {
        const scope: FunctionScope = {
          self: info.name,
          source: info.name,
          target: target?.name,
          owner: `relationship of ${owner}`,
        };
        rel.properties = checkProperties(
          relProps,
          mergedProperties(relTypeDef),
          ctxFor(scope, (relNode ?? value).pos),
          joinPath(joinPath(rpath, 'relationship'), 'properties'),
          `the ${relTypeDef.name} relationship of ${owner}`,
          'property',
        );
      }
      // valid_target_types of the relationship (nearest definition in its chain)
      const vtt = chainOf(relTypeDef).find((t) => t.typeList && t.typeList.length)?.typeList;
      const chosenCap =
        target && req.targetCapability ? target.caps.get(req.targetCapability)?.type : capType;
      if (vtt && chosenCap) {
        const ok = vtt.some((v) => {
          const name = String(v.value);
          return (
            derivesFrom(chosenCap, resolveType('capability', name, relTypeDef!.unit)) ||
            (target?.type !== undefined &&
              derivesFrom(target.type, resolveType('node', name, relTypeDef!.unit)))
          );
        });
        if (!ok) {
          r.error(
            'TOSCA_CAPABILITY_MISMATCH',
            unit,
            (relTypeNode ?? nodeNode ?? value).pos,
            rpath,
            `${owner}: relationship ${relTypeDef.name} can target only ${vtt.map((v) => v.value).join(', ')}, not capability type ${chosenCap.name}`,
          );
        }
      }
    }
    // node filter (TOSCA 1.3 §3.6.5), evaluated when the target is a node template
    if (filterNode) checkNodeFilter(filterNode, joinPath(rpath, 'node_filter'), owner, target);
    // dependency edge for the cycle check (DependsOn, HostedOn, ConnectsTo and their subtypes)
    if (target && relTypeDef) {
      const dependency = [dependsOn, hostedOn, connectsTo].some((d) => d && derivesFrom(relTypeDef, d));
      info.requirementSites.push({ name, node: value, path: rpath, target: target.name, dependency });
    }
    return req;
  }

  function checkNodeFilter(filter: YNode, fpath: string, owner: string, target: NodeInfo | undefined): void {
    const fmap = expectMap(r, unit, filter, fpath, 'node_filter');
    if (!fmap) return;
    checkKeys(r, unit, fmap, new Set(['properties', 'capabilities']), fpath, `node_filter of ${owner}`);
    const checkPropFilters = (
      list: YNode | undefined,
      lpath: string,
      values: Record<string, Value> | undefined,
      defs: Map<string, EffectiveParam> | undefined,
      where: string,
    ) => {
      const seq = expectSeq(r, unit, list, lpath, 'property filters');
      for (const [i, item] of (seq?.items ?? []).entries()) {
        const ipath = joinPath(lpath, i);
        if (item.kind !== 'map' || item.entries.length !== 1) {
          r.error(
            'TOSCA_SYNTAX',
            unit,
            item.pos,
            ipath,
            'a property filter must be a single-key mapping: { property: constraint | [constraints] }',
          );
          continue;
        }
        const { key: prop, value: cons } = item.entries[0];
        const clauses = cons.kind === 'seq' ? cons.items : [cons];
        const def = defs?.get(prop);
        const base = def ? schemaOfParam(def).base : 'unknown';
        for (const [j, clause] of clauses.entries()) {
          checkConstraintClause(r, { unit, node: clause, path: joinPath(ipath, j) }, base);
        }
        if (!values || !defs) continue;
        if (!def) {
          r.error(
            'TOSCA_NODE_FILTER',
            unit,
            item.entries[0].keyPos,
            joinPath(ipath, prop),
            `${owner}: the node_filter tests property '${prop}', which ${where} does not have`,
          );
          continue;
        }
        const v = values[prop];
        if (v === undefined || v instanceof FunctionCall) continue;
        const vnode = fromJs(v, item.pos);
        for (const clause of clauses) {
          const failed = violation({ unit, node: clause, path: ipath }, vnode, v, base);
          if (failed) {
            r.error(
              'TOSCA_NODE_FILTER',
              unit,
              clause.pos,
              joinPath(ipath, prop),
              `${owner}: property '${prop}' of ${where} ${failed}; got ${describeNode(vnode)}`,
            );
          }
        }
      }
    };
    const tdefs = target?.type ? mergedProperties(target.type) : undefined;
    checkPropFilters(
      fmap.byKey.get('properties')?.value,
      joinPath(fpath, 'properties'),
      target?.model.properties,
      tdefs,
      `node template '${target?.name}'`,
    );
    const caps = expectSeq(
      r,
      unit,
      fmap.byKey.get('capabilities')?.value,
      joinPath(fpath, 'capabilities'),
      'capability filters',
    );
    for (const [i, item] of (caps?.items ?? []).entries()) {
      const ipath = joinPath(joinPath(fpath, 'capabilities'), i);
      if (item.kind !== 'map' || item.entries.length !== 1) {
        r.error(
          'TOSCA_SYNTAX',
          unit,
          item.pos,
          ipath,
          'a capability filter must be a single-key mapping: { capability: { properties: [...] } }',
        );
        continue;
      }
      const { key: cname, value: cfilter, keyPos } = item.entries[0];
      let capName: string | undefined;
      if (target?.type) {
        if (target.caps.has(cname)) capName = cname;
        else {
          const ct = resolveType('capability', cname, unit);
          for (const [n, c] of target.caps) if (ct && derivesFrom(c.type, ct)) capName ??= n;
        }
        if (!capName) {
          r.error(
            'TOSCA_NODE_FILTER',
            unit,
            keyPos,
            joinPath(ipath, cname),
            `${owner}: node template '${target.name}' has no capability '${cname}' that the node_filter requires`,
          );
          continue;
        }
      }
      const cmap = expectMap(r, unit, cfilter, joinPath(ipath, cname), 'capability filter');
      const capDefs = capName && target ? target.caps.get(capName) : undefined;
      const cdefs = capDefs?.type
        ? mergeParams(mergedProperties(capDefs.type), capDefs.def.properties, true)
        : undefined;
      checkPropFilters(
        cmap?.byKey.get('properties')?.value,
        joinPath(joinPath(ipath, cname), 'properties'),
        capName ? target?.model.capabilities[capName]?.properties : undefined,
        cdefs,
        `capability '${capName}' of node template '${target?.name}'`,
      );
    }
  }

  // ---- requirement cycles ----
  reportCycles(r, unit, nodes);

  // ---- groups ----
  const groupsMap = expectMap(r, unit, section('groups'), P('groups'), 'groups');
  const groupTypes = new Map<string, TypeDef | undefined>();
  for (const e of groupsMap?.entries ?? []) {
    const path = joinPath(P('groups'), e.key);
    const map = expectMap(r, unit, e.value, path, `group '${e.key}'`);
    if (!map) continue;
    checkKeys(r, unit, map, GROUP_KEYS, path, `group '${e.key}'`);
    const owner = `group '${e.key}'`;
    const typeNode = map.byKey.get('type')?.value;
    const tn = scalarString(typeNode);
    let type: TypeDef | undefined;
    if (!typeNode || tn === undefined)
      r.error('TOSCA_MISSING_KEY', unit, e.keyPos, path, `${owner} needs a type`);
    else type = resolveTypeReported(r, 'group', tn, unit, typeNode, joinPath(path, 'type'), owner);
    groupTypes.set(e.key, type);
    const ctx = ctxFor({ owner, noSelf: true }, map.pos);
    const group: Group = {
      name: e.key,
      type: type?.name ?? tn ?? '',
      typeChain: type ? chainOf(type).map((t) => t.name) : [],
      description: scalarString(map.byKey.get('description')?.value),
      metadata: metadataOf(map.byKey.get('metadata')?.value),
      members: [],
      properties: type
        ? checkProperties(
            expectMap(
              r,
              unit,
              map.byKey.get('properties')?.value,
              joinPath(path, 'properties'),
              'properties',
            ),
            mergedProperties(type),
            ctx,
            joinPath(path, 'properties'),
            owner,
            'property',
          )
        : {},
    };
    const allowed = type ? chainOf(type).find((t) => t.typeList && t.typeList.length)?.typeList : undefined;
    const members = expectSeq(r, unit, map.byKey.get('members')?.value, joinPath(path, 'members'), 'members');
    for (const [i, m] of (members?.items ?? []).entries()) {
      const mname = scalarString(m);
      const mpath = joinPath(joinPath(path, 'members'), i);
      const target = mname !== undefined ? nodes.get(mname) : undefined;
      if (!target) {
        r.error(
          'TOSCA_GROUP_MEMBER',
          unit,
          m.pos,
          mpath,
          `${owner}: member '${mname}' is not a node template${suggestName(mname ?? '', nodes.keys())}`,
        );
        continue;
      }
      group.members.push(target.name);
      if (
        allowed &&
        type &&
        target.type &&
        !allowed.some((a) => derivesFrom(target.type, resolveType('node', String(a.value), type!.unit)))
      ) {
        r.error(
          'TOSCA_GROUP_MEMBER',
          unit,
          m.pos,
          mpath,
          `${owner}: member '${target.name}' is a ${target.type.name}; ${type.name} accepts only ${allowed.map((a) => a.value).join(', ')}`,
        );
      }
    }
    template.groups[e.key] = group;
  }

  // ---- policies (a list of single-key mappings in 1.3) ----
  const policiesSeq = expectSeq(r, unit, section('policies'), P('policies'), 'policies');
  for (const [i, item] of (policiesSeq?.items ?? []).entries()) {
    const ipath = joinPath(P('policies'), i);
    if (item.kind !== 'map' || item.entries.length !== 1) {
      r.error(
        'TOSCA_SYNTAX',
        unit,
        item.pos,
        ipath,
        'a policy must be a single-key mapping (name: definition)',
      );
      continue;
    }
    const { key: name, value, keyPos } = item.entries[0];
    const path = joinPath(ipath, name);
    const map = expectMap(r, unit, value, path, `policy '${name}'`);
    if (!map) continue;
    checkKeys(r, unit, map, POLICY_KEYS, path, `policy '${name}'`);
    const owner = `policy '${name}'`;
    const typeNode = map.byKey.get('type')?.value;
    const tn = scalarString(typeNode);
    let type: TypeDef | undefined;
    if (!typeNode || tn === undefined)
      r.error('TOSCA_MISSING_KEY', unit, keyPos, path, `${owner} needs a type`);
    else type = resolveTypeReported(r, 'policy', tn, unit, typeNode, joinPath(path, 'type'), owner);
    const ctx = ctxFor({ owner, noSelf: true }, map.pos);
    const policy: Policy = {
      name,
      type: type?.name ?? tn ?? '',
      typeChain: type ? chainOf(type).map((t) => t.name) : [],
      description: scalarString(map.byKey.get('description')?.value),
      metadata: metadataOf(map.byKey.get('metadata')?.value),
      targets: [],
      properties: type
        ? checkProperties(
            expectMap(
              r,
              unit,
              map.byKey.get('properties')?.value,
              joinPath(path, 'properties'),
              'properties',
            ),
            mergedProperties(type),
            ctx,
            joinPath(path, 'properties'),
            owner,
            'property',
          )
        : {},
      triggers: rawObject(map.byKey.get('triggers')?.value, ctx, joinPath(path, 'triggers')),
    };
    const allowed = type ? chainOf(type).find((t) => t.typeList && t.typeList.length)?.typeList : undefined;
    const targets = expectSeq(r, unit, map.byKey.get('targets')?.value, joinPath(path, 'targets'), 'targets');
    for (const [j, t] of (targets?.items ?? []).entries()) {
      const tname = scalarString(t);
      const tpath = joinPath(joinPath(path, 'targets'), j);
      const node = tname !== undefined ? nodes.get(tname) : undefined;
      const isGroup = tname !== undefined && groupTypes.has(tname);
      if (!node && !isGroup) {
        r.error(
          'TOSCA_POLICY_TARGET',
          unit,
          t.pos,
          tpath,
          `${owner}: target '${tname}' is neither a node template nor a group${suggestName(tname ?? '', nodes.keys())}`,
        );
        continue;
      }
      policy.targets.push(tname as string);
      if (!allowed || !type) continue;
      const targetType = node ? node.type : groupTypes.get(tname as string);
      const kind = node ? 'node' : 'group';
      if (
        targetType &&
        !allowed.some((a) => derivesFrom(targetType, resolveType(kind, String(a.value), type!.unit)))
      ) {
        r.error(
          'TOSCA_POLICY_TARGET',
          unit,
          t.pos,
          tpath,
          `${owner}: target '${tname}' is a ${targetType.name}; ${type.name} accepts only ${allowed.map((a) => a.value).join(', ')}`,
        );
      }
    }
    template.policies.push(policy);
  }

  // ---- outputs ----
  const outputsMap = expectMap(r, unit, section('outputs'), P('outputs'), 'outputs');
  for (const e of outputsMap?.entries ?? []) {
    const path = joinPath(P('outputs'), e.key);
    const map = expectMap(r, unit, e.value, path, `output '${e.key}'`);
    if (!map) continue;
    checkKeys(r, unit, map, OUTPUT_KEYS, path, `output '${e.key}'`);
    const valueNode = map.byKey.get('value')?.value;
    const ctx = ctxFor({ owner: `output '${e.key}'`, noSelf: true });
    let value: Value = null;
    if (!valueNode) r.error('TOSCA_MISSING_KEY', unit, e.keyPos, path, `output '${e.key}' needs a value`);
    else {
      const def = parseParamDef(new Reporter(), unit, e.key, map, path, 'parameter');
      if (def.typeName !== undefined && def.typeNode && !PRIMITIVE_TYPES.has(def.typeName)) {
        resolveTypeReported(
          r,
          'data',
          def.typeName,
          unit,
          def.typeNode,
          joinPath(path, 'type'),
          `output '${e.key}'`,
        );
      }
      const eff = mergeParams(
        undefined,
        new Map([[e.key, { ...def, defaultNode: undefined, valueNode: undefined }]]),
        true,
      ).get(e.key) as EffectiveParam;
      value = checkValue(valueNode, schemaOfParam(eff), ctx, joinPath(path, 'value'), `output '${e.key}'`);
    }
    const out: Output = {
      name: e.key,
      description: scalarString(map.byKey.get('description')?.value),
      type: scalarString(map.byKey.get('type')?.value),
      value,
    };
    template.outputs[e.key] = out;
  }

  // ---- substitution mappings ----
  const sm = section('substitution_mappings');
  if (sm) template.substitutionMappings = substitution(sm);

  function substitution(node: YNode): SubstitutionMappings | undefined {
    const path = P('substitution_mappings');
    const map = expectMap(r, unit, node, path, 'substitution_mappings');
    if (!map) return undefined;
    checkKeys(r, unit, map, SUBSTITUTION_KEYS, path, 'substitution_mappings');
    const ntNode = map.byKey.get('node_type')?.value;
    const ntName = scalarString(ntNode);
    const out: SubstitutionMappings = {
      nodeType: ntName ?? '',
      properties: {},
      capabilities: {},
      requirements: {},
    };
    if (!ntNode || ntName === undefined) {
      r.error('TOSCA_SUBSTITUTION', unit, map.pos, path, 'substitution_mappings need a node_type');
      return out;
    }
    const nt = resolveType('node', ntName, unit);
    if (!nt) {
      r.error(
        'TOSCA_SUBSTITUTION',
        unit,
        ntNode.pos,
        joinPath(path, 'node_type'),
        `substitution_mappings: unknown node type '${ntName}'`,
      );
      return out;
    }
    out.nodeType = nt.name;
    const props = mergedProperties(nt);
    const pmap = expectMap(
      r,
      unit,
      map.byKey.get('properties')?.value,
      joinPath(path, 'properties'),
      'properties',
    );
    for (const e of pmap?.entries ?? []) {
      const ppath = joinPath(joinPath(path, 'properties'), e.key);
      if (!props.has(e.key)) {
        r.error(
          'TOSCA_SUBSTITUTION',
          unit,
          e.keyPos,
          ppath,
          `substitution_mappings: node type ${nt.name} has no property '${e.key}'`,
        );
        continue;
      }
      if (e.value.kind === 'seq') {
        const input = scalarString(e.value.items[0]);
        if (e.value.items.length !== 1 || input === undefined) {
          r.error(
            'TOSCA_SUBSTITUTION',
            unit,
            e.value.pos,
            ppath,
            `substitution_mappings: property '${e.key}' maps to [ input_name ]`,
          );
        } else if (!template.inputs[input]) {
          r.error(
            'TOSCA_SUBSTITUTION',
            unit,
            e.value.items[0].pos,
            ppath,
            `substitution_mappings: property '${e.key}' maps to input '${input}', which the template does not declare`,
          );
        } else out.properties[e.key] = { input };
      } else
        out.properties[e.key] = {
          value: toValue(e.value, ctxFor({ owner: 'substitution_mappings', noSelf: true }), ppath),
        };
    }
    const mapPairs = (key: 'capabilities' | 'requirements') => {
      const m = expectMap(r, unit, map.byKey.get(key)?.value, joinPath(path, key), key);
      const own =
        key === 'capabilities'
          ? new Set(mergedCapabilities(nt).keys())
          : new Set(mergedRequirements(nt).map((d) => d.name));
      for (const e of m?.entries ?? []) {
        const epath = joinPath(joinPath(path, key), e.key);
        const what = key === 'capabilities' ? 'capability' : 'requirement';
        if (!own.has(e.key)) {
          r.error(
            'TOSCA_SUBSTITUTION',
            unit,
            e.keyPos,
            epath,
            `substitution_mappings: node type ${nt!.name} has no ${what} '${e.key}'`,
          );
          continue;
        }
        const v = e.value;
        const tname = v.kind === 'seq' ? scalarString(v.items[0]) : undefined;
        const iname = v.kind === 'seq' ? scalarString(v.items[1]) : undefined;
        if (v.kind !== 'seq' || v.items.length !== 2 || tname === undefined || iname === undefined) {
          r.error(
            'TOSCA_SUBSTITUTION',
            unit,
            v.pos,
            epath,
            `substitution_mappings: ${what} '${e.key}' maps to [ node_template, ${what} ]`,
          );
          continue;
        }
        const target = nodes.get(tname);
        if (!target) {
          r.error(
            'TOSCA_SUBSTITUTION',
            unit,
            v.items[0].pos,
            epath,
            `substitution_mappings: ${what} '${e.key}' maps to '${tname}', which is not a node template`,
          );
          continue;
        }
        const has =
          key === 'capabilities'
            ? target.caps.has(iname)
            : target.type
              ? mergedRequirements(target.type).some((d) => d.name === iname)
              : true;
        if (target.type && !has) {
          r.error(
            'TOSCA_SUBSTITUTION',
            unit,
            v.items[1].pos,
            epath,
            `substitution_mappings: node template '${tname}' has no ${what} '${iname}'`,
          );
          continue;
        }
        if (key === 'capabilities') out.capabilities[e.key] = { nodeTemplate: tname, capability: iname };
        else out.requirements[e.key] = { nodeTemplate: tname, requirement: iname };
      }
    };
    mapPairs('capabilities');
    mapPairs('requirements');
    return out;
  }

  // ---- intrinsic functions, now that every entity is known ----
  const index: TopologyIndex = { unit, template, nodes, relTemplates, hostedOn };
  checkFunctions(r, functions, index);
  return template;
}

function relType(units: FileUnit[], name: string): TypeDef | undefined {
  for (const u of units) {
    const t = u.types.relationship.get(name);
    if (t) return t;
    for (const p of u.implicit) {
      const pt = p.types.relationship.get(name);
      if (pt) return pt;
    }
  }
  return undefined;
}

function findRequirementPos(reqs: YNode | undefined, name: string, skip: number): number | undefined {
  if (reqs?.kind !== 'seq') return undefined;
  let n = 0;
  for (const item of reqs.items) {
    if (item.kind === 'map' && item.entries[0]?.key === name) {
      if (n === skip) return item.entries[0].keyPos;
      n++;
    }
  }
  return undefined;
}

/** Tarjan's strongly connected components over the dependency edges; one diagnostic per cycle. */
function reportCycles(r: Reporter, unit: FileUnit, nodes: Map<string, NodeInfo>): void {
  const names = [...nodes.keys()];
  const indexOf = new Map(names.map((n, i) => [n, i]));
  const adj: number[][] = names.map((n) =>
    (nodes.get(n)?.requirementSites ?? [])
      .filter((s) => s.dependency && s.target !== undefined)
      .map((s) => indexOf.get(s.target as string) as number),
  );
  const index = new Array<number>(names.length).fill(-1);
  const low = new Array<number>(names.length).fill(0);
  const onStack = new Array<boolean>(names.length).fill(false);
  const stack: number[] = [];
  let counter = 0;
  const sccs: number[][] = [];
  for (let s = 0; s < names.length; s++) {
    if (index[s] >= 0) continue;
    // iterative DFS: frames of [node, next edge]
    const frames: [number, number][] = [[s, 0]];
    index[s] = low[s] = counter++;
    stack.push(s);
    onStack[s] = true;
    while (frames.length) {
      const frame = frames[frames.length - 1];
      const [v, i] = frame;
      if (i < adj[v].length) {
        frame[1]++;
        const w = adj[v][i];
        if (index[w] < 0) {
          index[w] = low[w] = counter++;
          stack.push(w);
          onStack[w] = true;
          frames.push([w, 0]);
        } else if (onStack[w]) low[v] = Math.min(low[v], index[w]);
      } else {
        frames.pop();
        if (frames.length) {
          const u = frames[frames.length - 1][0];
          low[u] = Math.min(low[u], low[v]);
        }
        if (low[v] === index[v]) {
          const comp: number[] = [];
          let w: number;
          do {
            w = stack.pop() as number;
            onStack[w] = false;
            comp.push(w);
          } while (w !== v);
          if (comp.length > 1 || adj[v].includes(v)) sccs.push(comp);
        }
      }
    }
  }
  for (const comp of sccs) {
    const members = new Set(comp);
    const start = Math.min(...comp);
    // walk a cycle inside the component from its first node in document order
    const path = [start];
    const seen = new Set([start]);
    let cur = start;
    for (;;) {
      const next =
        adj[cur].find((w) => members.has(w) && (w === start || !seen.has(w))) ??
        adj[cur].find((w) => members.has(w)) ??
        start;
      if (next === start || seen.has(next)) {
        path.push(next);
        break;
      }
      path.push(next);
      seen.add(next);
      cur = next;
    }
    const first = nodes.get(names[start]) as NodeInfo;
    const site = first.requirementSites.find((s) => s.dependency && s.target === names[path[1]]);
    const cycle = path.map((i) => names[i]).join(' → ');
    r.error(
      'TOSCA_REQUIREMENT_CYCLE',
      unit,
      site ? site.node.pos : first.node.pos,
      site?.path ?? first.path,
      `node templates depend on each other in a cycle: ${cycle}; the deployment order needs a DAG`,
    );
  }
}

function metadataOf(node: YNode | undefined): Record<string, unknown> {
  return node?.kind === 'map' ? (toJs(node) as Record<string, unknown>) : {};
}

function rawMap(node: YNode | undefined, ctx: ValueContext, path: string): Record<string, Value> {
  if (node?.kind !== 'map') return {};
  const v = toValue(node, ctx, path);
  return v && typeof v === 'object' && !Array.isArray(v) && !(v instanceof FunctionCall)
    ? (v as Record<string, Value>)
    : {};
}

function rawObject(node: YNode | undefined, ctx: ValueContext, path: string): Record<string, unknown> {
  return rawMap(node, ctx, path);
}

function suggestName(name: string, names: Iterable<string>): string {
  const lower = name.toLowerCase();
  for (const n of names)
    if (
      n.toLowerCase() === lower ||
      (Math.abs(n.length - name.length) <= 1 && editDistanceAtMostOne(n, name))
    )
      return `; did you mean '${n}'?`;
  return '';
}

function editDistanceAtMostOne(a: string, b: string): boolean {
  if (a === b) return true;
  let i = 0;
  while (i < a.length && i < b.length && a[i] === b[i]) i++;
  return a.slice(i + 1) === b.slice(i + 1) || a.slice(i) === b.slice(i + 1) || a.slice(i + 1) === b.slice(i);
}
