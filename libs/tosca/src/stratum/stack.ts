// Reading a processed Stratum template: its microservices and autoscaling policies with the
// intrinsic functions evaluated, typed accessors for property values, and a collector of
// diagnostics positioned in the template. Shared by the rules and the translator.
import { type Diagnostic, type DiagnosticCode } from '../lib/diagnostics';
import { evaluate } from '../lib/functions';
import { formatYamlPath, locatorOf, type TemplateLocator, type YamlPath } from '../lib/locator';
import {
  isFunctionCall,
  type NodeTemplate,
  type Policy,
  type ServiceTemplate,
  type Value,
} from '../lib/model';
import { parseScalarUnit } from '../lib/scalars';
import { STRATUM_TYPES } from './keys';

export type Props = Record<string, unknown>;

export interface MicroserviceView {
  name: string;
  node: NodeTemplate;
  /** Property values with functions evaluated; one that cannot be evaluated is left out (see `unresolved`). */
  props: Props;
}

export interface AutoscalingPolicyView {
  name: string;
  policy: Policy;
  props: Props;
}

export interface StackView {
  microservices: MicroserviceView[];
  /** Stratum autoscaling policies, in template order. */
  policies: AutoscalingPolicyView[];
  unresolved: Array<{ path: YamlPath; message: string }>;
}

export function isMicroservice(node: NodeTemplate): boolean {
  return node.typeChain.includes(STRATUM_TYPES.microservice);
}

export function isAutoscalingPolicy(policy: Policy): boolean {
  return policy.typeChain.includes(STRATUM_TYPES.autoscaling);
}

export function nodePath(node: string, ...rest: Array<string | number>): YamlPath {
  return ['topology_template', 'node_templates', node, ...rest];
}

export function propertyPath(node: string, property: string, ...rest: Array<string | number>): YamlPath {
  return nodePath(node, 'properties', property, ...rest);
}

export function policyPath(
  locator: TemplateLocator,
  policy: string,
  ...rest: Array<string | number>
): YamlPath {
  const index = locator.policyIndex(policy);
  return index === undefined
    ? ['topology_template', 'policies', policy, ...rest]
    : ['topology_template', 'policies', index, policy, ...rest];
}

function containsFunction(value: unknown): boolean {
  if (isFunctionCall(value)) return true;
  if (Array.isArray(value)) return value.some(containsFunction);
  if (value !== null && typeof value === 'object') return Object.values(value).some(containsFunction);
  return false;
}

function evaluated(
  properties: Record<string, Value>,
  template: ServiceTemplate,
  self: string | undefined,
  pathOf: (property: string) => YamlPath,
  owner: string,
  unresolved: StackView['unresolved'],
): Props {
  const out: Props = {};
  for (const [name, value] of Object.entries(properties)) {
    if (!containsFunction(value)) {
      out[name] = value;
      continue;
    }
    try {
      const result = evaluate(value, { template, self });
      if (containsFunction(result)) {
        unresolved.push({
          path: pathOf(name),
          message: `property '${name}' of ${owner} uses a function (e.g. get_attribute of a runtime attribute) whose value is not known when the stack is translated; give the value itself`,
        });
      } else out[name] = result;
    } catch (error) {
      unresolved.push({
        path: pathOf(name),
        message: `property '${name}' of ${owner} cannot be evaluated: ${(error as Error).message}; supply the input or fix the reference`,
      });
    }
  }
  return out;
}

/** The template's microservices and Stratum autoscaling policies, in template order. */
export function readStack(template: ServiceTemplate): StackView {
  const locator = locatorOf(template);
  const unresolved: StackView['unresolved'] = [];
  const microservices = Object.values(template.nodeTemplates)
    .filter(isMicroservice)
    .map((node) => ({
      name: node.name,
      node,
      props: evaluated(
        node.properties,
        template,
        node.name,
        (p) => propertyPath(node.name, p),
        `microservice '${node.name}'`,
        unresolved,
      ),
    }));
  const policies = template.policies.filter(isAutoscalingPolicy).map((policy) => ({
    name: policy.name,
    policy,
    props: evaluated(
      policy.properties,
      template,
      undefined,
      (p) => policyPath(locator, policy.name, 'properties', p),
      `policy '${policy.name}'`,
      unresolved,
    ),
  }));
  return { microservices, policies, unresolved };
}

// ---- typed access to property values (the processor has checked the types; these guard best-effort models) ----

export const str = (value: unknown): string | undefined => (typeof value === 'string' ? value : undefined);
export const int = (value: unknown): number | undefined =>
  typeof value === 'number' && Number.isInteger(value) ? value : undefined;
export const bool = (value: unknown): boolean | undefined => (typeof value === 'boolean' ? value : undefined);
export const record = (value: unknown): Props | undefined =>
  value !== null && typeof value === 'object' && !Array.isArray(value) ? (value as Props) : undefined;
export const strings = (value: unknown): string[] =>
  Array.isArray(value) ? value.filter((v): v is string => typeof v === 'string') : [];
/** The mapping items of a list with their index in it. */
export function records(value: unknown): Array<{ index: number; item: Props }> {
  if (!Array.isArray(value)) return [];
  const out: Array<{ index: number; item: Props }> = [];
  value.forEach((v, index) => {
    const item = record(v);
    if (item) out.push({ index, item });
  });
  return out;
}
export function stringMap(value: unknown): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(record(value) ?? {})) if (typeof v === 'string') out[k] = v;
  return out;
}

/** A scalar-unit.time in seconds. */
export function seconds(value: unknown): number | undefined {
  return parseScalarUnit('scalar-unit.time', value)?.normalized;
}

export function isWholeSeconds(value: number): boolean {
  return Math.abs(value - Math.round(value)) < 1e-6;
}

/** Collects diagnostics positioned in one template. */
export class Findings {
  readonly diagnostics: Diagnostic[] = [];
  constructor(readonly locator: TemplateLocator) {}

  error(code: DiagnosticCode, path: YamlPath, message: string, part: 'key' | 'value' = 'value'): void {
    this.add('error', code, path, message, part);
  }

  warning(code: DiagnosticCode, path: YamlPath, message: string, part: 'key' | 'value' = 'value'): void {
    this.add('warning', code, path, message, part);
  }

  private add(
    severity: Diagnostic['severity'],
    code: DiagnosticCode,
    path: YamlPath,
    message: string,
    part: 'key' | 'value',
  ): void {
    const { line, column } = this.locator.position(path, part);
    this.diagnostics.push({
      code,
      severity,
      message,
      file: this.locator.file,
      line,
      column,
      path: formatYamlPath(path),
    });
  }
}
