// Type definitions: parsing of the eight type kinds, name resolution (prefixes, normative short
// names), derivation chains and the merged (inherited + refined) property, capability and
// requirement definitions. Everything derived is computed once per TypeDef and cached on it, so the
// normative profile's types are parsed and merged once per process.
import { emptyTypeMaps, type FileUnit, joinPath, KIND_LABEL, Reporter, TYPE_KINDS } from './context';
import type { TypeKind } from './model';
import { PRIMITIVE_TYPES } from './scalars';
import { isYMap, isYSeq, type YMap, type YNode, type YScalar, scalarString } from './yaml-tree';

export interface Located {
  unit: FileUnit;
  node: YNode;
  path: string;
}

/** A property, attribute, parameter or schema definition as written. */
export interface ParamDef extends Located {
  name: string;
  typeName?: string;
  typeNode?: YNode;
  required?: boolean;
  defaultNode?: YNode;
  valueNode?: YNode;
  constraints: Located[];
  entrySchema?: ParamDef;
  keySchema?: ParamDef;
  description?: string;
}

/** A property definition after inheritance and refinement. */
export interface EffectiveParam {
  name: string;
  /** The most derived definition (positions, file scope of the type name). */
  def: ParamDef;
  typeName?: string;
  typeUnit: FileUnit;
  required: boolean;
  defaultNode?: YNode;
  defaultUnit?: FileUnit;
  constraints: Located[];
  entrySchema?: ParamDef;
  keySchema?: ParamDef;
  schema?: Schema;
}

export interface CapabilityDef extends Located {
  name: string;
  typeName?: string;
  typeNode?: YNode;
  properties: Map<string, ParamDef>;
  attributes: Map<string, ParamDef>;
  validSourceTypes?: YScalar[];
  occurrences: [number, number];
}

export interface RequirementDef extends Located {
  name: string;
  capability?: string;
  capabilityNode?: YNode;
  nodeType?: string;
  nodeTypeNode?: YNode;
  relationship?: string;
  relationshipNode?: YNode;
  occurrences: [number, number];
}

export interface TypeDef extends Located {
  kind: TypeKind;
  name: string;
  node: YMap;
  derivedFrom?: string;
  derivedFromNode?: YNode;
  description?: string;
  properties: Map<string, ParamDef>;
  attributes: Map<string, ParamDef>;
  capabilities: Map<string, CapabilityDef>;
  requirements: RequirementDef[];
  /** Data types: own constraints, entry/key schema. */
  constraints: Located[];
  entrySchema?: ParamDef;
  keySchema?: ParamDef;
  /** relationship valid_target_types, group members, policy targets, capability valid_source_types. */
  typeList?: YScalar[];
  interfaces?: YMap;
  artifacts?: YMap;
  // caches
  parentResolved?: boolean;
  parent?: TypeDef;
  /** Name of the primitive a data type derives from directly (derived_from: integer). */
  primitiveParent?: string;
  chainCache?: TypeDef[];
  cyclic?: boolean;
  mergedProps?: Map<string, EffectiveParam>;
  mergedAttrs?: Map<string, EffectiveParam>;
  mergedCaps?: Map<string, CapabilityDef>;
  mergedReqs?: RequirementDef[];
  schema?: Schema;
}

export interface Schema {
  /** Display name of the type, e.g. "integer", "tosca.datatypes.network.PortDef". */
  name: string;
  /** A primitive type name, 'complex' for data types with properties, 'unknown' when unresolved. */
  base: string;
  dataType?: TypeDef;
  constraints: Located[];
  entry?: Schema;
  key?: Schema;
  properties?: Map<string, EffectiveParam>;
}

const COMMON_TYPE_KEYS = ['derived_from', 'version', 'metadata', 'description'];
export const TYPE_KEYS: Record<TypeKind, Set<string> | undefined> = {
  data: new Set([...COMMON_TYPE_KEYS, 'constraints', 'properties', 'key_schema', 'entry_schema']),
  artifact: new Set([...COMMON_TYPE_KEYS, 'mime_type', 'file_ext', 'properties']),
  capability: new Set([...COMMON_TYPE_KEYS, 'properties', 'attributes', 'valid_source_types']),
  // 1.0-1.2 style operations directly under the interface type are still common: accept any key.
  interface: undefined,
  relationship: new Set([
    ...COMMON_TYPE_KEYS,
    'properties',
    'attributes',
    'interfaces',
    'valid_target_types',
  ]),
  node: new Set([
    ...COMMON_TYPE_KEYS,
    'properties',
    'attributes',
    'requirements',
    'capabilities',
    'interfaces',
    'artifacts',
  ]),
  group: new Set([
    ...COMMON_TYPE_KEYS,
    'properties',
    'attributes',
    'members',
    'requirements',
    'capabilities',
    'interfaces',
  ]),
  policy: new Set([...COMMON_TYPE_KEYS, 'properties', 'targets', 'triggers']),
};

const PROPERTY_KEYS = new Set([
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
const SCHEMA_KEYS = new Set(['type', 'description', 'constraints', 'key_schema', 'entry_schema']);
const CAPABILITY_DEF_KEYS = new Set([
  'type',
  'description',
  'properties',
  'attributes',
  'valid_source_types',
  'occurrences',
]);
const REQUIREMENT_DEF_KEYS = new Set([
  'capability',
  'node',
  'relationship',
  'occurrences',
  'description',
  'node_filter',
]);

export const UNBOUNDED = Number.POSITIVE_INFINITY;

/** Reports keys of `map` not in `allowed`. */
export function checkKeys(
  r: Reporter,
  unit: FileUnit,
  map: YMap,
  allowed: Set<string>,
  path: string,
  what: string,
): void {
  for (const e of map.entries) {
    if (!allowed.has(e.key)) {
      r.error(
        'TOSCA_UNKNOWN_KEY',
        unit,
        e.keyPos,
        joinPath(path, e.key),
        `unknown keyname '${e.key}' in ${what}`,
      );
    }
  }
}

export function expectMap(
  r: Reporter,
  unit: FileUnit,
  node: YNode | undefined,
  path: string,
  what: string,
): YMap | undefined {
  if (node === undefined) return undefined;
  if (node.kind === 'map') return node;
  if (node.kind === 'scalar' && node.value === null) return undefined;
  r.error('TOSCA_SYNTAX', unit, node.pos, path, `${what} must be a mapping`);
  return undefined;
}

export function expectSeq(r: Reporter, unit: FileUnit, node: YNode | undefined, path: string, what: string) {
  if (node === undefined) return undefined;
  if (node.kind === 'seq') return node;
  if (node.kind === 'scalar' && node.value === null) return undefined;
  r.error('TOSCA_SYNTAX', unit, node.pos, path, `${what} must be a list`);
  return undefined;
}

export function expectString(
  r: Reporter,
  unit: FileUnit,
  node: YNode | undefined,
  path: string,
  what: string,
) {
  if (node === undefined) return undefined;
  if (node.kind === 'scalar' && node.value !== null && typeof node.value !== 'boolean')
    return String(node.value);
  r.error('TOSCA_SYNTAX', unit, node.pos, path, `${what} must be a string`);
  return undefined;
}

export function parseOccurrences(
  r: Reporter,
  unit: FileUnit,
  node: YNode | undefined,
  path: string,
  fallback: [number, number],
): [number, number] {
  if (!node) return fallback;
  if (node.kind === 'seq' && node.items.length === 2) {
    const [a, b] = node.items;
    const min =
      a.kind === 'scalar' && typeof a.value === 'number' && Number.isInteger(a.value) ? a.value : NaN;
    const max =
      b.kind === 'scalar' && b.value === 'UNBOUNDED'
        ? UNBOUNDED
        : b.kind === 'scalar' && typeof b.value === 'number' && Number.isInteger(b.value)
          ? b.value
          : NaN;
    if (min >= 0 && max >= min && max > 0) return [min, max];
  }
  r.error(
    'TOSCA_SYNTAX',
    unit,
    node.pos,
    path,
    'occurrences must be [min, max] with 0 <= min <= max (max may be UNBOUNDED)',
  );
  return fallback;
}

export function parseParamDef(
  r: Reporter,
  unit: FileUnit,
  name: string,
  node: YNode,
  path: string,
  what: 'property' | 'attribute' | 'parameter' | 'schema',
): ParamDef {
  const def: ParamDef = { unit, node, path, name, constraints: [] };
  if (node.kind === 'scalar' && node.value !== null && (what === 'schema' || what === 'attribute')) {
    // entry_schema: string (short form)
    def.typeName = String(node.value);
    def.typeNode = node;
    return def;
  }
  const map = expectMap(r, unit, node, path, `${what} definition '${name}'`);
  if (!map) return def;
  if (what !== 'parameter') {
    checkKeys(
      r,
      unit,
      map,
      what === 'schema' ? SCHEMA_KEYS : PROPERTY_KEYS,
      path,
      `${what} definition '${name}'`,
    );
  }
  const typeNode = map.byKey.get('type')?.value;
  if (typeNode) {
    def.typeName = expectString(r, unit, typeNode, joinPath(path, 'type'), 'type');
    def.typeNode = typeNode;
  }
  const req = map.byKey.get('required')?.value;
  if (req) {
    if (req.kind === 'scalar' && typeof req.value === 'boolean') def.required = req.value;
    else r.error('TOSCA_SYNTAX', unit, req.pos, joinPath(path, 'required'), 'required must be true or false');
  }
  def.defaultNode = map.byKey.get('default')?.value;
  def.valueNode = map.byKey.get('value')?.value;
  def.description = scalarString(map.byKey.get('description')?.value);
  const cs = expectSeq(
    r,
    unit,
    map.byKey.get('constraints')?.value,
    joinPath(path, 'constraints'),
    'constraints',
  );
  if (cs)
    cs.items.forEach((c, i) =>
      def.constraints.push({ unit, node: c, path: joinPath(joinPath(path, 'constraints'), i) }),
    );
  const es = map.byKey.get('entry_schema')?.value;
  if (es)
    def.entrySchema = parseParamDef(r, unit, `${name} entry`, es, joinPath(path, 'entry_schema'), 'schema');
  const ks = map.byKey.get('key_schema')?.value;
  if (ks) def.keySchema = parseParamDef(r, unit, `${name} key`, ks, joinPath(path, 'key_schema'), 'schema');
  return def;
}

function parseParamMap(
  r: Reporter,
  unit: FileUnit,
  node: YNode | undefined,
  path: string,
  what: 'property' | 'attribute' | 'parameter',
): Map<string, ParamDef> {
  const out = new Map<string, ParamDef>();
  const map = expectMap(r, unit, node, path, `${what} definitions`);
  if (!map) return out;
  for (const e of map.entries)
    out.set(e.key, parseParamDef(r, unit, e.key, e.value, joinPath(path, e.key), what));
  return out;
}

function parseTypeList(
  r: Reporter,
  unit: FileUnit,
  node: YNode | undefined,
  path: string,
): YScalar[] | undefined {
  const seq = expectSeq(r, unit, node, path, path.slice(path.lastIndexOf('.') + 1));
  if (!seq) return undefined;
  const out: YScalar[] = [];
  for (const [i, item] of seq.items.entries()) {
    if (item.kind === 'scalar' && typeof item.value === 'string') out.push(item);
    else r.error('TOSCA_SYNTAX', unit, item.pos, joinPath(path, i), 'expected a type name');
  }
  return out;
}

function parseCapabilityDef(
  r: Reporter,
  unit: FileUnit,
  name: string,
  node: YNode,
  path: string,
): CapabilityDef {
  const def: CapabilityDef = {
    unit,
    node,
    path,
    name,
    properties: new Map(),
    attributes: new Map(),
    occurrences: [1, UNBOUNDED],
  };
  if (node.kind === 'scalar' && typeof node.value === 'string') {
    def.typeName = node.value;
    def.typeNode = node;
    return def;
  }
  const map = expectMap(r, unit, node, path, `capability definition '${name}'`);
  if (!map) return def;
  checkKeys(r, unit, map, CAPABILITY_DEF_KEYS, path, `capability definition '${name}'`);
  def.typeNode = map.byKey.get('type')?.value;
  def.typeName = expectString(r, unit, def.typeNode, joinPath(path, 'type'), 'type');
  def.properties = parseParamMap(
    r,
    unit,
    map.byKey.get('properties')?.value,
    joinPath(path, 'properties'),
    'property',
  );
  def.attributes = parseParamMap(
    r,
    unit,
    map.byKey.get('attributes')?.value,
    joinPath(path, 'attributes'),
    'attribute',
  );
  def.validSourceTypes = parseTypeList(
    r,
    unit,
    map.byKey.get('valid_source_types')?.value,
    joinPath(path, 'valid_source_types'),
  );
  def.occurrences = parseOccurrences(
    r,
    unit,
    map.byKey.get('occurrences')?.value,
    joinPath(path, 'occurrences'),
    [1, UNBOUNDED],
  );
  return def;
}

function parseRequirementDefs(
  r: Reporter,
  unit: FileUnit,
  node: YNode | undefined,
  path: string,
): RequirementDef[] {
  const out: RequirementDef[] = [];
  const seq = expectSeq(r, unit, node, path, 'requirements');
  if (!seq) return out;
  for (const [i, item] of seq.items.entries()) {
    const ipath = joinPath(path, i);
    if (item.kind !== 'map' || item.entries.length !== 1) {
      r.error('TOSCA_SYNTAX', unit, item.pos, ipath, 'a requirement definition must be a single-key mapping');
      continue;
    }
    const { key: name, value } = item.entries[0];
    const rpath = joinPath(ipath, name);
    const def: RequirementDef = { unit, node: value, path: rpath, name, occurrences: [1, 1] };
    if (value.kind === 'scalar' && typeof value.value === 'string') {
      def.capability = value.value;
      def.capabilityNode = value;
    } else {
      const map = expectMap(r, unit, value, rpath, `requirement definition '${name}'`);
      if (map) {
        checkKeys(r, unit, map, REQUIREMENT_DEF_KEYS, rpath, `requirement definition '${name}'`);
        def.capabilityNode = map.byKey.get('capability')?.value;
        def.capability = expectString(
          r,
          unit,
          def.capabilityNode,
          joinPath(rpath, 'capability'),
          'capability',
        );
        if (!def.capabilityNode) {
          r.error(
            'TOSCA_MISSING_KEY',
            unit,
            value.pos,
            rpath,
            `requirement definition '${name}' needs a capability`,
          );
        }
        def.nodeTypeNode = map.byKey.get('node')?.value;
        def.nodeType = expectString(r, unit, def.nodeTypeNode, joinPath(rpath, 'node'), 'node');
        let rel = map.byKey.get('relationship')?.value;
        if (rel?.kind === 'map') rel = rel.byKey.get('type')?.value;
        def.relationshipNode = rel;
        def.relationship = expectString(r, unit, rel, joinPath(rpath, 'relationship'), 'relationship');
        def.occurrences = parseOccurrences(
          r,
          unit,
          map.byKey.get('occurrences')?.value,
          joinPath(rpath, 'occurrences'),
          [1, 1],
        );
      }
    }
    out.push(def);
  }
  return out;
}

/** Parses one entry of a *_types section. */
export function parseTypeDef(
  r: Reporter,
  unit: FileUnit,
  kind: TypeKind,
  name: string,
  node: YNode,
  path: string,
): TypeDef {
  const map: YMap =
    node.kind === 'map' ? node : { kind: 'map', pos: node.pos, entries: [], byKey: new Map() };
  const def: TypeDef = {
    unit,
    node: map,
    path,
    kind,
    name,
    properties: new Map(),
    attributes: new Map(),
    capabilities: new Map(),
    requirements: [],
    constraints: [],
  };
  if (node.kind !== 'map' && !(node.kind === 'scalar' && node.value === null)) {
    r.error('TOSCA_SYNTAX', unit, node.pos, path, `${KIND_LABEL[kind]} '${name}' must be a mapping`);
    return def;
  }
  const keys = TYPE_KEYS[kind];
  if (keys) checkKeys(r, unit, map, keys, path, `${KIND_LABEL[kind]} '${name}'`);
  const get = (k: string) => map.byKey.get(k)?.value;
  def.derivedFromNode = get('derived_from');
  def.derivedFrom = expectString(
    r,
    unit,
    def.derivedFromNode,
    joinPath(path, 'derived_from'),
    'derived_from',
  );
  def.description = scalarString(get('description'));
  def.properties = parseParamMap(r, unit, get('properties'), joinPath(path, 'properties'), 'property');
  if (kind === 'capability' || kind === 'relationship' || kind === 'node' || kind === 'group') {
    def.attributes = parseParamMap(r, unit, get('attributes'), joinPath(path, 'attributes'), 'attribute');
  }
  if (kind === 'node' || kind === 'group') {
    const caps = expectMap(r, unit, get('capabilities'), joinPath(path, 'capabilities'), 'capabilities');
    for (const e of caps?.entries ?? []) {
      def.capabilities.set(
        e.key,
        parseCapabilityDef(r, unit, e.key, e.value, joinPath(joinPath(path, 'capabilities'), e.key)),
      );
    }
    def.requirements = parseRequirementDefs(r, unit, get('requirements'), joinPath(path, 'requirements'));
    def.interfaces = expectMap(r, unit, get('interfaces'), joinPath(path, 'interfaces'), 'interfaces');
    if (kind === 'node')
      def.artifacts = expectMap(r, unit, get('artifacts'), joinPath(path, 'artifacts'), 'artifacts');
  }
  if (kind === 'relationship') {
    def.typeList = parseTypeList(r, unit, get('valid_target_types'), joinPath(path, 'valid_target_types'));
    def.interfaces = expectMap(r, unit, get('interfaces'), joinPath(path, 'interfaces'), 'interfaces');
  }
  if (kind === 'capability')
    def.typeList = parseTypeList(r, unit, get('valid_source_types'), joinPath(path, 'valid_source_types'));
  if (kind === 'group') def.typeList = parseTypeList(r, unit, get('members'), joinPath(path, 'members'));
  if (kind === 'policy') def.typeList = parseTypeList(r, unit, get('targets'), joinPath(path, 'targets'));
  if (kind === 'data') {
    const cs = expectSeq(r, unit, get('constraints'), joinPath(path, 'constraints'), 'constraints');
    cs?.items.forEach((c, i) =>
      def.constraints.push({ unit, node: c, path: joinPath(joinPath(path, 'constraints'), i) }),
    );
    const es = get('entry_schema');
    if (es)
      def.entrySchema = parseParamDef(r, unit, `${name} entry`, es, joinPath(path, 'entry_schema'), 'schema');
    const ks = get('key_schema');
    if (ks) def.keySchema = parseParamDef(r, unit, `${name} key`, ks, joinPath(path, 'key_schema'), 'schema');
  }
  return def;
}

/** Registers the *_types sections of a file. */
export function registerTypes(r: Reporter, unit: FileUnit): void {
  const root = unit.root;
  if (!root) return;
  for (const kind of TYPE_KINDS) {
    const section = SECTION[kind];
    const entry = root.byKey.get(section);
    if (!entry) continue;
    const map = expectMap(r, unit, entry.value, section, section);
    for (const e of map?.entries ?? []) {
      const def = parseTypeDef(r, unit, kind, e.key, e.value, joinPath(section, e.key));
      if (!unit.types[kind].has(e.key)) unit.types[kind].set(e.key, def);
    }
  }
}

const SECTION: Record<TypeKind, string> = {
  data: 'data_types',
  artifact: 'artifact_types',
  capability: 'capability_types',
  interface: 'interface_types',
  relationship: 'relationship_types',
  node: 'node_types',
  group: 'group_types',
  policy: 'policy_types',
};

const KIND_SEGMENT: Record<TypeKind, string> = {
  data: 'tosca.datatypes.',
  artifact: 'tosca.artifacts.',
  capability: 'tosca.capabilities.',
  interface: 'tosca.interfaces.',
  relationship: 'tosca.relationships.',
  node: 'tosca.nodes.',
  group: 'tosca.groups.',
  policy: 'tosca.policies.',
};

/** Short names of the normative types: tosca.nodes.Container.Runtime → Container.Runtime, Runtime. */
export function buildAliases(unit: FileUnit): void {
  const aliases = emptyTypeMaps();
  for (const kind of TYPE_KINDS) {
    const prefix = KIND_SEGMENT[kind];
    const long: [string, TypeDef][] = [];
    for (const [name, def] of unit.types[kind]) {
      if (!name.startsWith(prefix)) continue;
      const rest = name.slice(prefix.length);
      aliases[kind].set(rest, def);
      long.push([rest, def]);
    }
    for (const [rest, def] of long) {
      const last = rest.slice(rest.lastIndexOf('.') + 1);
      if (!aliases[kind].has(last)) aliases[kind].set(last, def);
    }
  }
  unit.aliases = aliases;
}

function searchScope(kind: TypeKind, name: string, start: FileUnit): TypeDef | undefined {
  const seen = new Set<FileUnit>([start]);
  const queue = [start];
  for (let i = 0; i < queue.length; i++) {
    const u = queue[i];
    const found = u.types[kind].get(name);
    if (found) return found;
    for (const link of u.imports) {
      if (!link.prefix && !seen.has(link.unit)) {
        seen.add(link.unit);
        queue.push(link.unit);
      }
    }
  }
  return undefined;
}

/** Resolves a type name as written in `unit` (TOSCA 1.3 §3.1.3: namespaces; §5 short names). */
export function resolveType(kind: TypeKind, name: string, unit: FileUnit): TypeDef | undefined {
  const key = `${kind}\0${name}`;
  const cached = unit.resolveCache.get(key);
  if (cached !== undefined) return cached ?? undefined;
  let found: TypeDef | undefined;
  const colon = name.indexOf(':');
  if (colon > 0) {
    const prefix = name.slice(0, colon);
    const rest = name.slice(colon + 1);
    if (prefix === 'tosca') {
      for (const p of unit.isProfile ? [unit, ...unit.implicit] : unit.implicit) {
        found = p.aliases?.[kind].get(rest) ?? (p.aliases ? p.types[kind].get(rest) : undefined);
        if (found) break;
      }
    } else {
      for (const link of unit.imports) {
        if (link.prefix === prefix) {
          found = searchScope(kind, rest, link.unit);
          if (found) break;
        }
      }
    }
  }
  found ??= searchScope(kind, name, unit);
  if (!found) {
    for (const p of unit.implicit) {
      found = searchScope(kind, name, p) ?? p.aliases?.[kind].get(name);
      if (found) break;
    }
    if (!found && unit.aliases) found = unit.aliases[kind].get(name);
  }
  unit.resolveCache.set(key, found ?? null);
  return found;
}

export function findOtherKind(kind: TypeKind, name: string, unit: FileUnit): TypeKind | undefined {
  for (const k of TYPE_KINDS) if (k !== kind && resolveType(k, name, unit)) return k;
  return undefined;
}

/** Resolves and reports: TOSCA_UNKNOWN_TYPE / TOSCA_WRONG_TYPE_KIND. */
export function resolveTypeReported(
  r: Reporter,
  kind: TypeKind,
  name: string,
  unit: FileUnit,
  node: YNode,
  path: string,
  what: string,
): TypeDef | undefined {
  const def = resolveType(kind, name, unit);
  if (def) return def;
  const other = findOtherKind(kind, name, unit);
  if (other) {
    r.error(
      'TOSCA_WRONG_TYPE_KIND',
      unit,
      node.pos,
      path,
      `${what}: '${name}' is a ${KIND_LABEL[other]}, not a ${KIND_LABEL[kind]}`,
    );
  } else {
    r.error('TOSCA_UNKNOWN_TYPE', unit, node.pos, path, `${what}: unknown ${KIND_LABEL[kind]} '${name}'`);
  }
  return undefined;
}

export function parentOf(t: TypeDef): TypeDef | undefined {
  if (!t.parentResolved) {
    t.parentResolved = true;
    if (t.derivedFrom !== undefined) {
      if (t.kind === 'data' && PRIMITIVE_TYPES.has(t.derivedFrom)) t.primitiveParent = t.derivedFrom;
      else t.parent = resolveType(t.kind, t.derivedFrom, t.unit);
    }
  }
  return t.parent;
}

/** The type and its ancestors; a cycle is cut where it closes (and the types are marked cyclic). */
export function chainOf(t: TypeDef): TypeDef[] {
  if (t.chainCache) return t.chainCache;
  const chain: TypeDef[] = [];
  const seen = new Set<TypeDef>();
  let cur: TypeDef | undefined = t;
  while (cur && !seen.has(cur)) {
    seen.add(cur);
    chain.push(cur);
    cur = parentOf(cur);
  }
  if (cur) {
    // cur closes a cycle: every type from cur onwards is in it
    for (let i = chain.indexOf(cur); i < chain.length; i++) chain[i].cyclic = true;
  }
  t.chainCache = chain;
  return chain;
}

export function derivesFrom(t: TypeDef | undefined, ancestor: TypeDef | undefined): boolean {
  if (!t || !ancestor) return false;
  if (t === ancestor) return true;
  return chainOf(t).includes(ancestor);
}

function refine(parent: EffectiveParam | undefined, def: ParamDef, isProperty: boolean): EffectiveParam {
  if (!parent) {
    return {
      name: def.name,
      def,
      typeName: def.typeName,
      typeUnit: def.unit,
      required: def.required ?? isProperty,
      defaultNode: def.defaultNode ?? def.valueNode,
      defaultUnit: def.defaultNode || def.valueNode ? def.unit : undefined,
      constraints: def.constraints,
      entrySchema: def.entrySchema,
      keySchema: def.keySchema,
    };
  }
  const hasDefault = def.defaultNode ?? def.valueNode;
  return {
    name: def.name,
    def,
    typeName: def.typeName ?? parent.typeName,
    typeUnit: def.typeName ? def.unit : parent.typeUnit,
    required: def.required ?? parent.required,
    defaultNode: hasDefault ?? parent.defaultNode,
    defaultUnit: hasDefault ? def.unit : parent.defaultUnit,
    constraints: def.constraints.length ? [...parent.constraints, ...def.constraints] : parent.constraints,
    entrySchema: def.entrySchema ?? parent.entrySchema,
    keySchema: def.keySchema ?? parent.keySchema,
  };
}

export function mergeParams(
  parentMap: Map<string, EffectiveParam> | undefined,
  own: Map<string, ParamDef>,
  isProperty: boolean,
): Map<string, EffectiveParam> {
  if (own.size === 0 && parentMap) return parentMap;
  const out = new Map(parentMap ?? []);
  for (const [name, def] of own) out.set(name, refine(out.get(name), def, isProperty));
  return out;
}

export function mergedProperties(t: TypeDef): Map<string, EffectiveParam> {
  if (!t.mergedProps) {
    const chain = chainOf(t);
    const parent = chain[1] && !t.cyclic ? mergedProperties(chain[1]) : undefined;
    t.mergedProps = mergeParams(parent, t.properties, true);
  }
  return t.mergedProps;
}

export function mergedAttributes(t: TypeDef): Map<string, EffectiveParam> {
  if (!t.mergedAttrs) {
    const chain = chainOf(t);
    const parent = chain[1] && !t.cyclic ? mergedAttributes(chain[1]) : undefined;
    t.mergedAttrs = mergeParams(parent, t.attributes, false);
  }
  return t.mergedAttrs;
}

export function mergedCapabilities(t: TypeDef): Map<string, CapabilityDef> {
  if (!t.mergedCaps) {
    const chain = chainOf(t);
    const parent = chain[1] && !t.cyclic ? mergedCapabilities(chain[1]) : undefined;
    if (t.capabilities.size === 0 && parent) t.mergedCaps = parent;
    else {
      const out = new Map(parent ?? []);
      for (const [name, def] of t.capabilities) {
        const prev = out.get(name);
        out.set(
          name,
          prev && !def.typeName
            ? { ...def, typeName: prev.typeName, typeNode: prev.typeNode, unit: def.unit }
            : def,
        );
      }
      t.mergedCaps = out;
    }
  }
  return t.mergedCaps;
}

export function mergedRequirements(t: TypeDef): RequirementDef[] {
  if (!t.mergedReqs) {
    const chain = chainOf(t);
    const parent = chain[1] && !t.cyclic ? mergedRequirements(chain[1]) : [];
    if (t.requirements.length === 0) t.mergedReqs = parent;
    else {
      const out = [...parent];
      for (const def of t.requirements) {
        const i = out.findIndex((d) => d.name === def.name);
        if (i >= 0) out[i] = def;
        else out.push(def);
      }
      t.mergedReqs = out;
    }
  }
  return t.mergedReqs;
}

/** The schema of a data type (TOSCA 1.3 §3.7.6): base primitive or complex, inherited constraints. */
export function dataTypeSchema(t: TypeDef): Schema {
  if (t.schema) return t.schema;
  const chain = chainOf(t);
  const schema: Schema = { name: t.name, base: 'complex', dataType: t, constraints: [] };
  t.schema = schema; // set early: recursive data types terminate
  const top = chain[chain.length - 1];
  parentOf(top);
  if (top.primitiveParent) schema.base = top.primitiveParent;
  else if (top.derivedFrom !== undefined && top.derivedFrom !== top.name && !top.cyclic && !top.parent)
    schema.base = 'unknown';
  for (let i = chain.length - 1; i >= 0; i--) schema.constraints.push(...chain[i].constraints);
  const withEntry = chain.find((c) => c.entrySchema);
  if (withEntry?.entrySchema) schema.entry = schemaOfDef(withEntry.entrySchema);
  const withKey = chain.find((c) => c.keySchema);
  if (withKey?.keySchema) schema.key = schemaOfDef(withKey.keySchema);
  if (schema.base === 'complex') schema.properties = mergedProperties(t);
  return schema;
}

const UNKNOWN_SCHEMA: Schema = { name: 'unknown', base: 'unknown', constraints: [] };

function schemaOf(
  typeName: string | undefined,
  unit: FileUnit,
  constraints: Located[],
  entry?: ParamDef,
  key?: ParamDef,
): Schema {
  if (typeName === undefined) return UNKNOWN_SCHEMA;
  let schema: Schema;
  if (PRIMITIVE_TYPES.has(typeName)) schema = { name: typeName, base: typeName, constraints: [] };
  else {
    const dt = resolveType('data', typeName, unit);
    schema = dt ? dataTypeSchema(dt) : { name: typeName, base: 'unknown', constraints: [] };
  }
  if (constraints.length === 0 && !entry && !key) return schema;
  return {
    ...schema,
    constraints: constraints.length ? [...schema.constraints, ...constraints] : schema.constraints,
    entry: entry ? schemaOfDef(entry) : schema.entry,
    key: key ? schemaOfDef(key) : schema.key,
  };
}

export function schemaOfDef(def: ParamDef): Schema {
  return schemaOf(def.typeName, def.unit, def.constraints, def.entrySchema, def.keySchema);
}

export function schemaOfParam(p: EffectiveParam): Schema {
  p.schema ??= schemaOf(p.typeName, p.typeUnit, p.constraints, p.entrySchema, p.keySchema);
  return p.schema;
}

/** Name check for a property/parameter type: a primitive or a data type. */
export function isKnownDataType(name: string, unit: FileUnit): boolean {
  return PRIMITIVE_TYPES.has(name) || resolveType('data', name, unit) !== undefined;
}

export function asYScalarName(node: YNode | undefined): string | undefined {
  return node && node.kind === 'scalar' && typeof node.value === 'string' ? node.value : undefined;
}

export { isYMap, isYSeq };
