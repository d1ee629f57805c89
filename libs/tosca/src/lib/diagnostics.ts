// Diagnostic codes of the TOSCA processor (issue #5 §1). Codes are stable: translators, the API and
// tests match on them; the messages may change.

export const DIAGNOSTIC_CODES = {
  TOSCA_YAML_SYNTAX: 'The file is not well-formed YAML.',
  TOSCA_DUPLICATE_KEY: 'A mapping repeats a key.',
  TOSCA_NOT_A_MAPPING: 'The document root is not a YAML mapping.',
  TOSCA_SYNTAX: 'A TOSCA element has the wrong shape (e.g. a list where a mapping is expected).',
  TOSCA_UNKNOWN_KEY: 'A keyname that the TOSCA 1.3 grammar does not define at this place.',
  TOSCA_MISSING_KEY: 'A keyname the grammar requires is absent (e.g. a node template without type).',
  TOSCA_VERSION: 'tosca_definitions_version is missing or not tosca_simple_yaml_1_3.',
  TOSCA_IMPORT_NOT_FOUND: 'An imported file (or the entry file) cannot be read.',
  TOSCA_IMPORT_INVALID: 'An import definition is malformed or names an unknown repository or prefix.',
  TOSCA_CSAR: 'A CSAR archive is not a readable ZIP or has no entry definitions.',
  TOSCA_UNKNOWN_TYPE: 'A type name does not resolve to a type of the expected kind.',
  TOSCA_WRONG_TYPE_KIND:
    'A type name resolves to a type of another kind (e.g. a data type used as a node type).',
  TOSCA_DERIVATION_CYCLE: 'Types derive from each other in a cycle.',
  TOSCA_DUPLICATE_TYPE: 'Two files in the same scope define a type of the same kind and name.',
  TOSCA_REFINEMENT: 'A derived type redefines a property, attribute or capability incompatibly.',
  TOSCA_TYPE_MISMATCH: 'A value does not have the type its definition declares.',
  TOSCA_CONSTRAINT_VIOLATED: 'A value violates a constraint of its definition.',
  TOSCA_INVALID_CONSTRAINT: 'A constraint clause is unknown or its argument is malformed.',
  TOSCA_REQUIRED_PROPERTY: 'A required property has neither a value nor a default.',
  TOSCA_UNKNOWN_PROPERTY: 'A property or attribute that the type does not define.',
  TOSCA_UNKNOWN_CAPABILITY: 'A capability that the node type does not define.',
  TOSCA_UNKNOWN_REQUIREMENT: 'A requirement that the node type does not define.',
  TOSCA_DANGLING_REQUIREMENT: 'A requirement names a node template (or node type) that does not exist.',
  TOSCA_CAPABILITY_MISMATCH: 'A requirement target offers no capability of the required type.',
  TOSCA_TARGET_TYPE_MISMATCH: 'A requirement target node is not of the node type the requirement accepts.',
  TOSCA_RELATIONSHIP_MISMATCH:
    'A requirement uses a relationship not derived from the one its definition declares.',
  TOSCA_OCCURRENCES: 'A requirement or capability is used fewer or more times than its occurrences allow.',
  TOSCA_NODE_FILTER: "A requirement target does not satisfy the requirement's node_filter.",
  TOSCA_REQUIREMENT_CYCLE: 'Node templates depend on each other in a cycle (deployment needs a DAG).',
  TOSCA_GROUP_MEMBER: "A group member does not exist or is not of a type the group type's members allow.",
  TOSCA_POLICY_TARGET: "A policy target does not exist or is not of a type the policy type's targets allow.",
  TOSCA_SUBSTITUTION: 'substitution_mappings name an unknown node type, property, capability or requirement.',
  TOSCA_FUNCTION_ARGS: 'An intrinsic function has the wrong number or kind of arguments.',
  TOSCA_UNKNOWN_INPUT: 'get_input (or a supplied value) names an input the template does not declare.',
  TOSCA_MISSING_INPUT: 'A required input without default has no supplied value.',
  TOSCA_UNKNOWN_REFERENCE:
    'A function or mapping refers to an entity, property or artifact that does not exist.',
  TOSCA_INTERNAL: 'The processor failed unexpectedly (a bug): the template could not be fully checked.',
} as const;

export type DiagnosticCode = keyof typeof DIAGNOSTIC_CODES;

export interface Diagnostic {
  code: DiagnosticCode;
  severity: 'error' | 'warning';
  message: string;
  file: string;
  /** 1-based. */
  line: number;
  /** 1-based. */
  column: number;
  /** YAML path, e.g. topology_template.node_templates.web.properties.port */
  path: string;
}

export function compareDiagnostics(a: Diagnostic, b: Diagnostic): number {
  if (a.file !== b.file) return a.file < b.file ? -1 : 1;
  return a.line - b.line || a.column - b.column || (a.code < b.code ? -1 : a.code > b.code ? 1 : 0);
}
