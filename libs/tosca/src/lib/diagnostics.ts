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
  // Stratum profile processor rules (docs/tosca-profile.md "Processor rules"; libs/tosca/src/stratum).
  // Rule 9 (no DependsOn/ConnectsTo cycle) is TOSCA_REQUIREMENT_CYCLE, which the processor reports.
  STRATUM_NOT_A_MICROSERVICE:
    'A node template is not a stratum.nodes.Microservice, the only node type Stratum 1.0 deploys.',
  STRATUM_EMPTY_STACK: 'The template has no microservice: a stack deploys at least one.',
  STRATUM_UNRESOLVED_VALUE:
    'A property value uses a function that cannot be evaluated when the stack is translated.',
  STRATUM_DUPLICATE:
    'Rule 1: env names, port names, (port, protocol) pairs, mount paths or log (directory, extension) pairs repeat in one microservice.',
  STRATUM_REQUEST_ABOVE_LIMIT:
    'Rule 2: a CPU or memory request is greater than the limit of the same resource.',
  STRATUM_RESERVED_KEY:
    'Rule 3: a label or annotation key has the prefix stratum.io/, which is reserved to the platform.',
  STRATUM_FIXED_IP_NETWORK: "Rule 4: a fixed IP names another network than the microservice's own.",
  STRATUM_FIXED_IP_INVALID: 'Rule 4: a fixed IP is not a valid IPv4 or IPv6 address.',
  STRATUM_FIXED_IP_DUPLICATE: 'Rule 4: a fixed IP address appears more than once in the template.',
  STRATUM_FIXED_IPS_TOO_FEW:
    'Rule 4: fewer fixed IPs than replicas, or than the max_replicas / scheduled_replicas of a policy.',
  STRATUM_INVALID_NAME:
    'Rule 5: a microservice name is not a DNS label (or contains "--"), or a port name is refused by Kubernetes.',
  STRATUM_PROBE_PROPERTY:
    'Rule 6: a probe lacks a property its type needs (http: path, port; tcp: port; exec: command) or has one it refuses.',
  STRATUM_NOT_WHOLE_SECONDS:
    'Rules 6, 12: a probe time, duration or retrigger_time is not a whole number of seconds.',
  STRATUM_INVALID_PATTERN: 'Rule 7: a multiline_pattern is not a valid regular expression.',
  STRATUM_CONNECTS_TO_PORT:
    "Rule 8: a ConnectsTo target declares no port, or the relationship's port is not one of the target's ports.",
  STRATUM_UNKNOWN_NETWORK: "Rule 10 (R-OR-3): a network is not one of the tenant's networks.",
  STRATUM_UNKNOWN_VOLUME: "Rule 10 (R-OR-3): a volume is not one of the tenant's volumes.",
  STRATUM_SECURITY_LEVEL:
    "Rule 10 (R-OR-3): security_level differs from the security domain of the microservice's network.",
  STRATUM_FIXED_IP_OUTSIDE_SUBNET:
    "Rule 10 (R-OR-3): a fixed IP is not a usable address of the network's subnet.",
  STRATUM_FIXED_IP_GATEWAY: "Rule 10 (R-OR-3): a fixed IP is the network's gateway.",
  STRATUM_WINDOWS_OVERLAP:
    'Rule 11: windows of one policy, or of the enabled policies targeting one microservice, overlap.',
  STRATUM_AUTOSCALING_PROPERTY:
    'Rule 12: an autoscaling policy lacks a property its strategy needs or has one it refuses.',
  STRATUM_AUTOSCALING_BOUNDS:
    'Rule 12: lower_threshold is not below upper_threshold, or min_replicas exceeds max_replicas.',
  STRATUM_STACK_NAME: 'The stack name given to the translator is not a DNS label of at most 63 characters.',
  STRATUM_IMAGE_NOT_PINNED:
    'Warning: an image has no tag or the tag latest, so a redeploy may run other code.',
  STRATUM_NO_READINESS_PROBE:
    'Warning: a microservice that others reach or depend on has no readiness probe: it counts as Ready once running.',
  STRATUM_AUTOSCALING_WITHOUT_LIMIT:
    'Warning: a cpu / memory policy targets a microservice without that resource limit, which utilisation is measured against.',
  STRATUM_IGNORED:
    'Warning: a group or a policy of another type than stratum.policies.scaling.Autoscaling has no effect on the stack.',
  STRATUM_PLATFORM_KEY_OVERRIDDEN:
    'Warning: a label or annotation the platform sets has another value in the template; the platform value is used.',
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
