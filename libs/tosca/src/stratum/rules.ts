// The Stratum profile's processor rules 1-9, 11 and 12 (docs/tosca-profile.md "Processor rules",
// issue #5 §2): the checks TOSCA 1.3 constraints cannot state, run on the model processTemplate
// built. Every problem is reported (not just the first), as a STRATUM_* diagnostic at the
// file:line:column of the offending node or property, with its YAML path. Rule 10 needs the
// tenant's resources and is in tenant-checks.ts; rule 9 (no cycle of DependsOn / ConnectsTo) is
// TOSCA_REQUIREMENT_CYCLE, reported by the processor itself for every relationship derived from
// DependsOn or ConnectsTo, so it is not repeated here.
import { compareDiagnostics, type Diagnostic } from '../lib/diagnostics';
import { locatorOf } from '../lib/locator';
import type { ServiceTemplate } from '../lib/model';
import { formatIp, parseIp } from './ip';
import { CONNECTS_TO, DNS_LABEL, ORDERING_RELATIONSHIPS, RESERVED_KEY_PREFIX, STRATUM_TYPES } from './keys';
import { cpuMillicores, memoryBytes } from './quantities';
import {
  type AutoscalingPolicyView,
  bool,
  Findings,
  int,
  isAutoscalingPolicy,
  isMicroservice,
  isWholeSeconds,
  type MicroserviceView,
  nodePath,
  policyPath,
  propertyPath,
  readStack,
  record,
  records,
  seconds,
  type StackView,
  str,
} from './stack';
import { isTimeOfDay, windowsOverlap } from './windows';

/** The seven properties of a cpu / memory strategy (R-AS-4). */
export const UTILISATION_PROPERTIES = [
  'upper_threshold',
  'lower_threshold',
  'duration',
  'step',
  'min_replicas',
  'max_replicas',
  'retrigger_time',
] as const;

const PROBE_NEEDS: Record<string, string[]> = { http: ['path', 'port'], tcp: ['port'], exec: ['command'] };
const PROBE_KINDS = ['path', 'port', 'command'];

/**
 * Rules 1-9, 11, 12 of the Stratum profile, and warnings about what deploys but is probably not
 * meant (unpinned image, no readiness probe, …). Sorted by position. Works on a best-effort model
 * too (a template with processor errors): values of the wrong type are skipped, not reported twice.
 */
export function checkStratumRules(template: ServiceTemplate): Diagnostic[] {
  const findings = new Findings(locatorOf(template));
  const stack = readStack(template);
  for (const u of stack.unresolved) findings.error('STRATUM_UNRESOLVED_VALUE', u.path, u.message);
  checkNodeKinds(template, findings);
  for (const ms of stack.microservices) {
    checkName(ms, findings);
    checkUniqueness(ms, findings);
    checkResources(ms, findings);
    checkReservedKeys(ms, findings);
    checkProbes(ms, findings);
    checkLogPatterns(ms, findings);
    checkImage(ms, findings);
  }
  checkFixedIps(stack, findings);
  checkConnections(stack, findings);
  for (const policy of stack.policies) checkPolicy(policy, findings);
  checkWindows(stack, findings);
  checkReadinessProbes(stack, findings);
  checkUtilisationLimits(stack, findings);
  return findings.diagnostics.sort(compareDiagnostics);
}

const article = (word: string) => (/^([aeiou]|http)/.test(word) ? 'an' : 'a');
const inSeconds = (written: unknown, s: number) =>
  /^\s*[\d.]+\s*s\s*$/.test(String(written)) ? String(written) : `${String(written)} (${s} s)`;

/** Whether a property was given: in the model, or written in the file (a value the processor refused). */
function given(
  findings: Findings,
  props: Record<string, unknown>,
  name: string,
  path: () => ReturnType<typeof propertyPath>,
) {
  return props[name] !== undefined || findings.locator.has(path());
}

function checkNodeKinds(template: ServiceTemplate, findings: Findings): void {
  const nodes = Object.values(template.nodeTemplates);
  if (nodes.length === 0) {
    findings.error(
      'STRATUM_EMPTY_STACK',
      ['topology_template', 'node_templates'],
      `the template has no node templates: a stack deploys at least one ${STRATUM_TYPES.microservice}`,
      'key',
    );
  }
  for (const node of nodes) {
    // a node whose type did not resolve was reported by the processor (TOSCA_UNKNOWN_TYPE)
    if (node.typeChain.length === 0 || isMicroservice(node)) continue;
    findings.error(
      'STRATUM_NOT_A_MICROSERVICE',
      nodePath(node.name),
      `node template '${node.name}' is a ${node.type}; Stratum 1.0 deploys ${STRATUM_TYPES.microservice} node templates only: use that type (or remove the node)`,
      'key',
    );
  }
  for (const name of Object.keys(template.groups)) {
    findings.warning(
      'STRATUM_IGNORED',
      ['topology_template', 'groups', name],
      `group '${name}' has no effect on a Stratum stack`,
      'key',
    );
  }
  const locator = findings.locator;
  for (const policy of template.policies) {
    if (isAutoscalingPolicy(policy) || policy.typeChain.length === 0) continue;
    findings.warning(
      'STRATUM_IGNORED',
      policyPath(locator, policy.name),
      `policy '${policy.name}' is a ${policy.type}; Stratum acts only on ${STRATUM_TYPES.autoscaling} policies, so it has no effect`,
      'key',
    );
  }
}

/** Rule 5 (and the Kubernetes port-name rule). */
function checkName(ms: MicroserviceView, findings: Findings): void {
  const { name } = ms;
  if (!DNS_LABEL.test(name) || name.length > 63) {
    findings.error(
      'STRATUM_INVALID_NAME',
      nodePath(name),
      `microservice name '${name}' is not a DNS label (lower-case letters, digits and '-', starting with a letter and ending with a letter or digit, at most 63 characters): it names the Deployment, the Service and the service's DNS name; rename the node template`,
      'key',
    );
  } else if (name.includes('--')) {
    findings.error(
      'STRATUM_INVALID_NAME',
      nodePath(name),
      `microservice name '${name}' contains '--', which the platform reserves for services linked from the tenant's other networks (<service>--<network>, R-NW-4); rename the node template`,
      'key',
    );
  }
  for (const { index, item } of records(ms.props.ports)) {
    const portName = str(item.name);
    if (portName?.includes('--')) {
      findings.error(
        'STRATUM_INVALID_NAME',
        propertyPath(name, 'ports', index, 'name'),
        `port name '${portName}' of ${name} contains '--', which Kubernetes refuses in port names (IANA service names); use single dashes`,
      );
    }
  }
}

/** Rule 1. */
function checkUniqueness(ms: MicroserviceView, findings: Findings): void {
  const { name, props } = ms;
  const unique = (
    property: string,
    keyOf: (item: Record<string, unknown>) => string | undefined,
    field: string,
    what: (item: Record<string, unknown>) => string,
  ) => {
    const first = new Map<string, number>();
    for (const { index, item } of records(props[property])) {
      const key = keyOf(item);
      if (key === undefined) continue;
      const earlier = first.get(key);
      if (earlier === undefined) {
        first.set(key, index);
        continue;
      }
      findings.error(
        'STRATUM_DUPLICATE',
        propertyPath(name, property, index, field),
        `${what(item)} of ${name} repeats ${property}[${earlier}]; each must be unique in a microservice: remove or rename one`,
      );
    }
  };
  unique(
    'env',
    (v) => str(v.name),
    'name',
    (v) => `environment variable ${str(v.name)}`,
  );
  unique(
    'ports',
    (v) => str(v.name),
    'name',
    (v) => `port name ${str(v.name)}`,
  );
  unique(
    'ports',
    (v) => (int(v.port) === undefined ? undefined : `${int(v.port)}/${str(v.protocol) ?? 'TCP'}`),
    'port',
    (v) => `port ${int(v.port)}/${str(v.protocol) ?? 'TCP'}`,
  );
  unique(
    'volumes',
    (v) => str(v.mount_path),
    'mount_path',
    (v) => `mount path ${str(v.mount_path)}`,
  );
  unique(
    'log_files',
    (v) =>
      str(v.directory) === undefined || str(v.extension) === undefined
        ? undefined
        : `${str(v.directory)}\0${str(v.extension)}`,
    'directory',
    (v) => `log files ${str(v.directory)}/*${str(v.extension)}`,
  );
}

/** Rule 2. */
function checkResources(ms: MicroserviceView, findings: Findings): void {
  const resources = record(ms.props.resources);
  if (!resources) return;
  const pairs: Array<[string, string, (v: unknown) => number | undefined]> = [
    ['cpu_request', 'cpu_limit', cpuMillicores],
    ['memory_request', 'memory_limit', memoryBytes],
  ];
  for (const [request, limit, parse] of pairs) {
    const r = parse(resources[request]);
    const l = parse(resources[limit]);
    if (r === undefined || l === undefined || r <= l) continue;
    findings.error(
      'STRATUM_REQUEST_ABOVE_LIMIT',
      propertyPath(ms.name, 'resources', request),
      `${request} ${String(resources[request])} of ${ms.name} is greater than ${limit} ${String(resources[limit])}; Kubernetes refuses a request above the limit: lower the request or raise the limit`,
    );
  }
}

/** Rule 3. */
function checkReservedKeys(ms: MicroserviceView, findings: Findings): void {
  for (const property of ['labels', 'annotations']) {
    for (const key of Object.keys(record(ms.props[property]) ?? {})) {
      if (!key.startsWith(RESERVED_KEY_PREFIX)) continue;
      findings.error(
        'STRATUM_RESERVED_KEY',
        propertyPath(ms.name, property, key),
        `${property.slice(0, -1)} key '${key}' of ${ms.name} uses the prefix ${RESERVED_KEY_PREFIX}, which is reserved to the platform; use your own prefix (e.g. example.com/${key.slice(RESERVED_KEY_PREFIX.length)})`,
        'key',
      );
    }
  }
}

/** Rule 6. */
function checkProbes(ms: MicroserviceView, findings: Findings): void {
  for (const property of ['liveness_probe', 'readiness_probe']) {
    const probe = record(ms.props[property]);
    if (!probe) continue;
    const type = str(probe.type) ?? '';
    const needs = Object.hasOwn(PROBE_NEEDS, type) ? PROBE_NEEDS[type] : undefined;
    if (needs) {
      const missing = needs.filter((p) => probe[p] === undefined);
      if (missing.length) {
        findings.error(
          'STRATUM_PROBE_PROPERTY',
          propertyPath(ms.name, property),
          `${property} of ${ms.name} is ${article(type)} ${type} probe: it needs ${missing.join(' and ')} (http: path and port; tcp: port; exec: command)`,
          'key',
        );
      }
      for (const refused of PROBE_KINDS.filter((p) => !needs.includes(p) && probe[p] !== undefined)) {
        findings.error(
          'STRATUM_PROBE_PROPERTY',
          propertyPath(ms.name, property, refused),
          `${property} of ${ms.name} is ${article(type)} ${type} probe: it does not use ${refused}; remove it (or change the probe type)`,
          'key',
        );
      }
    }
    for (const time of ['initial_delay', 'period', 'timeout']) {
      const s = seconds(probe[time]);
      if (s === undefined || isWholeSeconds(s)) continue;
      findings.error(
        'STRATUM_NOT_WHOLE_SECONDS',
        propertyPath(ms.name, property, time),
        `${time} of ${property} of ${ms.name} is ${inSeconds(probe[time], s)}; Kubernetes counts probe times in whole seconds: use e.g. ${Math.max(1, Math.round(s))} s`,
      );
    }
  }
}

/** Rule 7. */
function checkLogPatterns(ms: MicroserviceView, findings: Findings): void {
  for (const { index, item } of records(ms.props.log_files)) {
    const pattern = str(item.multiline_pattern);
    if (pattern === undefined) continue;
    try {
      new RegExp(pattern);
    } catch (error) {
      findings.error(
        'STRATUM_INVALID_PATTERN',
        propertyPath(ms.name, 'log_files', index, 'multiline_pattern'),
        `multiline_pattern of ${ms.name} is not a valid regular expression (ECMAScript syntax, as the log-shipper uses it): ${(error as Error).message}`,
      );
    }
  }
}

/** Warning: an image without tag or with `latest` (and no digest) may change under a redeploy. */
function checkImage(ms: MicroserviceView, findings: Findings): void {
  const image = str(ms.props.image);
  if (!image || image.includes('@sha256:')) return;
  const lastSegment = image.slice(image.lastIndexOf('/') + 1);
  const colon = lastSegment.indexOf(':');
  const tag = colon < 0 ? undefined : lastSegment.slice(colon + 1);
  if (tag !== undefined && tag !== 'latest') return;
  findings.warning(
    'STRATUM_IMAGE_NOT_PINNED',
    propertyPath(ms.name, 'image'),
    `image ${image} of ${ms.name} ${tag ? 'has the tag latest' : 'has no tag (Kubernetes pulls :latest)'}: a restarted container may run other code than the one deployed; give a version tag or a digest`,
  );
}

function policiesTargeting(stack: StackView, service: string): AutoscalingPolicyView[] {
  return stack.policies.filter((p) => p.policy.targets.includes(service));
}

/** Rule 4 (the subnet and gateway checks are rule 10, against the tenant's network). */
function checkFixedIps(stack: StackView, findings: Findings): void {
  const seen = new Map<string, string>();
  for (const ms of stack.microservices) {
    const entries = records(ms.props.fixed_ips);
    if (entries.length === 0) continue;
    const network = str(ms.props.network);
    for (const { index, item } of entries) {
      const entryNetwork = str(item.network);
      if (entryNetwork !== undefined && network !== undefined && entryNetwork !== network) {
        findings.error(
          'STRATUM_FIXED_IP_NETWORK',
          propertyPath(ms.name, 'fixed_ips', index, 'network'),
          `fixed IP ${String(item.address)} of ${ms.name} is on network ${entryNetwork}, but ${ms.name} runs in network ${network}: a container has addresses on its own network only; give addresses of ${network}`,
        );
      }
      const text = str(item.address);
      if (text === undefined) continue;
      const ip = parseIp(text);
      if (!ip) {
        findings.error(
          'STRATUM_FIXED_IP_INVALID',
          propertyPath(ms.name, 'fixed_ips', index, 'address'),
          `fixed IP '${text}' of ${ms.name} is not a valid IPv4 (dotted decimal) or IPv6 address`,
        );
        continue;
      }
      const canonical = formatIp(ip);
      const owner = seen.get(canonical);
      if (owner !== undefined) {
        findings.error(
          'STRATUM_FIXED_IP_DUPLICATE',
          propertyPath(ms.name, 'fixed_ips', index, 'address'),
          `fixed IP ${canonical} of ${ms.name} is also given to ${owner}; an address belongs to one container: give another one`,
        );
      } else seen.set(canonical, `${ms.name} (fixed_ips[${index}])`);
    }
    const count = entries.length;
    const needs: Array<{ count: number; why: string }> = [];
    const replicas = int(ms.props.replicas) ?? 1;
    needs.push({ count: replicas, why: `replicas is ${replicas}` });
    for (const policy of policiesTargeting(stack, ms.name)) {
      const strategy = str(policy.props.strategy);
      const max = int(strategy === 'time' ? policy.props.scheduled_replicas : policy.props.max_replicas);
      if (max === undefined) continue;
      needs.push({
        count: max,
        why: `policy ${policy.name} may run ${max} (${strategy === 'time' ? 'scheduled_replicas' : 'max_replicas'})`,
      });
    }
    for (const need of needs) {
      if (count >= need.count) continue;
      findings.error(
        'STRATUM_FIXED_IPS_TOO_FEW',
        propertyPath(ms.name, 'fixed_ips'),
        `${ms.name} has ${count} fixed IP${count === 1 ? '' : 's'} but ${need.why} containers: every container needs its own address; add ${need.count - count} more`,
        'key',
      );
    }
  }
}

/** Rule 8. */
function checkConnections(stack: StackView, findings: Findings): void {
  const byName = new Map(stack.microservices.map((ms) => [ms.name, ms]));
  const locator = findings.locator;
  for (const ms of stack.microservices) {
    const nth = new Map<string, number>();
    for (const requirement of ms.node.requirements) {
      const n = nth.get(requirement.name) ?? 0;
      nth.set(requirement.name, n + 1);
      if (!requirement.relationship.typeChain.includes(CONNECTS_TO) || !requirement.target) continue;
      const target = byName.get(requirement.target);
      if (!target) continue;
      const index = locator.requirementIndex(ms.name, requirement.name, n);
      const at =
        index === undefined
          ? nodePath(ms.name, 'requirements')
          : nodePath(ms.name, 'requirements', index, requirement.name);
      const ports = records(target.props.ports)
        .map(({ item }) => int(item.port))
        .filter((p): p is number => p !== undefined);
      if (ports.length === 0) {
        findings.error(
          'STRATUM_CONNECTS_TO_PORT',
          at,
          `${ms.name} connects to ${target.name}, which declares no ports: a ConnectsTo needs the target's endpoint; add ports to ${target.name}, or use a dependency (DependsOn) if ${ms.name} only needs it deployed first`,
        );
        continue;
      }
      const port = int(requirement.relationship.properties.port);
      if (port === undefined || ports.includes(port)) continue;
      const portPath = requirement.relationship.template
        ? [
            'topology_template',
            'relationship_templates',
            requirement.relationship.template,
            'properties',
            'port',
          ]
        : [...at, 'relationship', 'properties', 'port'];
      findings.error(
        'STRATUM_CONNECTS_TO_PORT',
        locator.has(portPath) ? portPath : at,
        `${ms.name} connects to port ${port} of ${target.name}, which listens on ${ports.join(', ')}; use one of these ports (or leave port out: any)`,
      );
    }
  }
}

/** Rule 12, and the whole-seconds part of the durations. */
function checkPolicy(view: AutoscalingPolicyView, findings: Findings): void {
  const { name, props } = view;
  const locator = findings.locator;
  const strategy = str(props.strategy);
  // another value was refused by the profile's valid_values (TOSCA_CONSTRAINT_VIOLATED)
  if (strategy !== 'cpu' && strategy !== 'memory' && strategy !== 'time') return;
  const path = (...rest: Array<string | number>) => policyPath(locator, name, 'properties', ...rest);
  const has = (p: string) => given(findings, props, p, () => path(p));
  const needs: readonly string[] = strategy === 'time' ? ['scheduled_replicas'] : UTILISATION_PROPERTIES;
  const refuses: readonly string[] = strategy === 'time' ? UTILISATION_PROPERTIES : ['scheduled_replicas'];
  const missing = needs.filter((p) => !has(p));
  if (missing.length) {
    findings.error(
      'STRATUM_AUTOSCALING_PROPERTY',
      locator.has(path()) ? path() : policyPath(locator, name),
      `policy ${name} has strategy ${strategy}, which needs ${missing.join(', ')}`,
      'key',
    );
  }
  for (const p of refuses.filter(has)) {
    findings.error(
      'STRATUM_AUTOSCALING_PROPERTY',
      path(p),
      `policy ${name} has strategy ${strategy}, which does not use ${p}; remove it (${strategy === 'time' ? 'the thresholds, step and bounds are for cpu / memory' : 'scheduled_replicas is for strategy time'})`,
      'key',
    );
  }
  if (strategy === 'time') return;
  const lower = int(props.lower_threshold);
  const upper = int(props.upper_threshold);
  if (lower !== undefined && upper !== undefined && lower >= upper) {
    findings.error(
      'STRATUM_AUTOSCALING_BOUNDS',
      path('lower_threshold'),
      `policy ${name}: lower_threshold ${lower} must be below upper_threshold ${upper} (R-AS-4), else one utilisation would both add and remove containers`,
    );
  }
  const min = int(props.min_replicas);
  const max = int(props.max_replicas);
  if (min !== undefined && max !== undefined && min > max) {
    findings.error(
      'STRATUM_AUTOSCALING_BOUNDS',
      path('min_replicas'),
      `policy ${name}: min_replicas ${min} is greater than max_replicas ${max} (R-AS-4); swap or correct them`,
    );
  }
  for (const time of ['duration', 'retrigger_time']) {
    const s = seconds(props[time]);
    if (s === undefined || isWholeSeconds(s)) continue;
    findings.error(
      'STRATUM_NOT_WHOLE_SECONDS',
      path(time),
      `policy ${name}: ${time} is ${inSeconds(props[time], s)}; the autoscaler counts whole seconds: use e.g. ${Math.max(1, Math.round(s))} s`,
    );
  }
}

interface WindowAt {
  policy: AutoscalingPolicyView;
  index: number;
  start: string;
  end: string;
}

function windowsOf(policy: AutoscalingPolicyView): WindowAt[] {
  return records(policy.props.windows).flatMap(({ index, item }) =>
    isTimeOfDay(item.start) && isTimeOfDay(item.end)
      ? [{ policy, index, start: item.start, end: item.end }]
      : [],
  );
}

/** Rule 11. */
function checkWindows(stack: StackView, findings: Findings): void {
  const locator = findings.locator;
  const at = (w: WindowAt) => policyPath(locator, w.policy.name, 'properties', 'windows', w.index);
  const text = (w: WindowAt) => `${w.start}-${w.end}`;
  for (const policy of stack.policies) {
    const windows = windowsOf(policy);
    windows.forEach((w, k) => {
      for (const earlier of windows.slice(0, k)) {
        if (!windowsOverlap(earlier, w)) continue;
        findings.error(
          'STRATUM_WINDOWS_OVERLAP',
          at(w),
          `window ${text(w)} of policy ${policy.name} overlaps its window ${text(earlier)} (windows[${earlier.index}]); windows are half-open [start, end) on the 24-hour circle: make them disjoint or merge them`,
        );
      }
    });
  }
  const enabled = stack.policies.filter((p) => bool(p.props.enabled) !== false);
  enabled.forEach((policy, j) => {
    for (const earlier of enabled.slice(0, j)) {
      const shared = policy.policy.targets.filter((t) => earlier.policy.targets.includes(t));
      if (shared.length === 0) continue;
      for (const w of windowsOf(policy)) {
        for (const e of windowsOf(earlier)) {
          if (!windowsOverlap(e, w)) continue;
          findings.error(
            'STRATUM_WINDOWS_OVERLAP',
            at(w),
            `window ${text(w)} of policy ${policy.name} overlaps window ${text(e)} of policy ${earlier.name}; both are enabled and target ${shared.join(', ')}, and each moment of the day selects at most one strategy (R-AS-1): make the windows disjoint or disable one policy`,
          );
        }
      }
    }
  });
}

/** Warning: others wait for (or connect to) a microservice that is Ready as soon as it runs. */
function checkReadinessProbes(stack: StackView, findings: Findings): void {
  const awaited = new Set<string>();
  for (const ms of stack.microservices) {
    for (const r of ms.node.requirements) {
      if (r.target && ORDERING_RELATIONSHIPS.some((t) => r.relationship.typeChain.includes(t)))
        awaited.add(r.target);
    }
  }
  for (const ms of stack.microservices) {
    if (ms.props.readiness_probe !== undefined) continue;
    const hasPorts = records(ms.props.ports).length > 0;
    if (!hasPorts && !awaited.has(ms.name)) continue;
    findings.warning(
      'STRATUM_NO_READINESS_PROBE',
      nodePath(ms.name),
      `${ms.name} has no readiness_probe: it counts as Ready (for the deployment order, R-OR-4, and for traffic) as soon as its container runs; add one (http, tcp or exec)`,
      'key',
    );
  }
}

/** Warning: cpu / memory utilisation is measured against the limit (R-AS-2). */
function checkUtilisationLimits(stack: StackView, findings: Findings): void {
  const byName = new Map(stack.microservices.map((ms) => [ms.name, ms]));
  for (const policy of stack.policies) {
    const strategy = str(policy.props.strategy);
    if ((strategy !== 'cpu' && strategy !== 'memory') || bool(policy.props.enabled) === false) continue;
    for (const target of policy.policy.targets) {
      const ms = byName.get(target);
      if (!ms || record(ms.props.resources)?.[`${strategy}_limit`] !== undefined) continue;
      findings.warning(
        'STRATUM_AUTOSCALING_WITHOUT_LIMIT',
        policyPath(findings.locator, policy.name, 'properties', 'strategy'),
        `policy ${policy.name} scales ${target} on ${strategy} utilisation, measured in percent of the ${strategy} limit, but ${target} has no resources.${strategy}_limit; set one`,
      );
    }
  }
}
