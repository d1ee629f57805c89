// The resolved service template a translator works from (issue #5 §1). Plain data: property values
// are JSON-like, with intrinsic function calls kept as FunctionCall nodes (see evaluate()).

export type TypeKind =
  'data' | 'artifact' | 'capability' | 'interface' | 'relationship' | 'node' | 'group' | 'policy';

export const FUNCTION_NAMES = [
  'get_input',
  'get_property',
  'get_attribute',
  'get_operation_output',
  'get_nodes_of_type',
  'get_artifact',
  'concat',
  'join',
  'token',
] as const;
export type FunctionName = (typeof FUNCTION_NAMES)[number];

/** An intrinsic function call, e.g. { function: 'get_input', args: ['port'] }. */
export class FunctionCall {
  readonly function: FunctionName;
  readonly args: Value[];
  constructor(name: FunctionName, args: Value[]) {
    this.function = name;
    this.args = args;
  }
}

export type Value = null | boolean | number | string | FunctionCall | Value[] | { [key: string]: Value };

export function isFunctionCall(value: unknown): value is FunctionCall {
  return value instanceof FunctionCall;
}

export interface PropertyDefinition {
  name: string;
  type: string;
  required: boolean;
  default?: Value;
  entrySchema?: string;
  keySchema?: string;
  /** Constraint clauses as written, e.g. [{ greater_or_equal: 1 }]. */
  constraints: unknown[];
  description?: string;
}

export interface TypeInfo {
  kind: TypeKind;
  name: string;
  derivedFrom?: string;
  /** The type itself first, then its ancestors up to the root. */
  chain: string[];
  description?: string;
  metadata: Record<string, unknown>;
  properties: Record<string, PropertyDefinition>;
  attributes: Record<string, PropertyDefinition>;
  /** Node types: capability definitions. */
  capabilities: Record<string, { type: string; occurrences: [number, number] }>;
  /** Node types: requirement definitions, in order. */
  requirements: {
    name: string;
    capability?: string;
    node?: string;
    relationship?: string;
    occurrences: [number, number];
  }[];
  /** Relationship types. */
  validTargetTypes?: string[];
  /** Group types. */
  members?: string[];
  /** Policy types. */
  targets?: string[];
}

/** Every type visible to the template (normative, profiles, imports), after derivation. */
export interface TypeRegistry {
  get(kind: TypeKind, name: string): TypeInfo | undefined;
  names(kind: TypeKind): string[];
  /** True when `name` is `ancestor` or derives from it (both canonical or alias names). */
  isDerivedFrom(kind: TypeKind, name: string, ancestor: string): boolean;
}

export interface InputParameter {
  name: string;
  type: string;
  required: boolean;
  description?: string;
  default?: Value;
  /** The supplied value, else the default. */
  value?: Value;
  constraints: unknown[];
}

export interface Capability {
  name: string;
  type: string;
  typeChain: string[];
  properties: Record<string, Value>;
  attributes: Record<string, Value>;
}

export interface Relationship {
  type: string;
  typeChain: string[];
  properties: Record<string, Value>;
  /** When the requirement names a relationship template. */
  template?: string;
  interfaces: Record<string, unknown>;
}

export interface Requirement {
  name: string;
  /** The target node template; undefined when the requirement is left to the orchestrator (a node type or a filter). */
  target?: string;
  /** The capability of the target that fulfils the requirement. */
  targetCapability?: string;
  capabilityType?: string;
  /** The node type the requirement asks for (from the assignment or definition). */
  nodeType?: string;
  relationship: Relationship;
}

export interface Artifact {
  name: string;
  type: string;
  file: string;
  repository?: string;
  deployPath?: string;
  properties: Record<string, Value>;
}

export interface NodeTemplate {
  name: string;
  type: string;
  /** The node type first, then all its ancestors. */
  typeChain: string[];
  description?: string;
  metadata: Record<string, unknown>;
  directives: string[];
  properties: Record<string, Value>;
  attributes: Record<string, Value>;
  capabilities: Record<string, Capability>;
  requirements: Requirement[];
  interfaces: Record<string, unknown>;
  artifacts: Record<string, Artifact>;
}

export interface RelationshipTemplate {
  name: string;
  type: string;
  typeChain: string[];
  properties: Record<string, Value>;
  attributes: Record<string, Value>;
  interfaces: Record<string, unknown>;
}

export interface Group {
  name: string;
  type: string;
  typeChain: string[];
  description?: string;
  metadata: Record<string, unknown>;
  members: string[];
  properties: Record<string, Value>;
}

export interface Policy {
  name: string;
  type: string;
  typeChain: string[];
  description?: string;
  metadata: Record<string, unknown>;
  /** Node template and group names. */
  targets: string[];
  properties: Record<string, Value>;
  triggers: Record<string, unknown>;
}

export interface Output {
  name: string;
  description?: string;
  type?: string;
  value: Value;
}

export interface SubstitutionMappings {
  nodeType: string;
  properties: Record<string, { input?: string; value?: Value }>;
  capabilities: Record<string, { nodeTemplate: string; capability: string }>;
  requirements: Record<string, { nodeTemplate: string; requirement: string }>;
}

export interface ServiceTemplate {
  /** The entry file (inside a CSAR: "<archive>!/<entry>"). */
  file: string;
  toscaDefinitionsVersion: string;
  description?: string;
  metadata: Record<string, unknown>;
  inputs: Record<string, InputParameter>;
  nodeTemplates: Record<string, NodeTemplate>;
  relationshipTemplates: Record<string, RelationshipTemplate>;
  groups: Record<string, Group>;
  policies: Policy[];
  outputs: Record<string, Output>;
  substitutionMappings?: SubstitutionMappings;
  types: TypeRegistry;
}
