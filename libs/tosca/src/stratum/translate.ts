// The Stratum translator (R-OR-2, issue #5 §2): a checked Stratum template and the tenant's
// resources in, one deployable unit per microservice (placed in the environment of its network)
// with its Kubernetes objects, the units it waits for (R-OR-4) and the autoscaling policies
// (R-OR-5, R-AS-1..4) out. Plain data in and out; deterministic: the same input gives the same
// plan, and renderManifests / renderPlan give the same bytes.
//
// Decisions (documented in docs/tosca-profile.md "Translation"):
// - Objects are named after the microservice (node template name), in the environment's namespace.
// - Deployment and Service select on stratum.io/stack + stratum.io/service (stable across
//   revisions: a Deployment's selector is immutable).
// - Tenant volumes are mounted through the PersistentVolumeClaim that already exists in every
//   environment of the tenant (R-ST-3); no claim is part of the plan.
// - Fixed IPs (R-NW-1) go in the stratum.io/fixed-ips pod annotation; the rollout then replaces a
//   pod before starting its successor (maxSurge 0), as the successor needs a freed address.
import { compareDiagnostics, type Diagnostic } from '../lib/diagnostics';
import { locatorOf } from '../lib/locator';
import type { ServiceTemplate } from '../lib/model';
import { processTemplate, type ProcessOptions } from '../lib/processor';
import type { ToscaSource } from '../lib/source';
import { formatIp, parseIp } from './ip';
import {
  DNS_LABEL,
  MANAGED_BY,
  MULTUS_NETWORKS_ANNOTATION,
  ORDERING_RELATIONSHIPS,
  STRATUM_ANNOTATIONS,
  STRATUM_LABELS,
  STRATUM_PROFILE,
} from './keys';
import { checkStratumRules } from './rules';
import {
  type AutoscalingPolicyView,
  bool,
  Findings,
  int,
  type MicroserviceView,
  nodePath,
  propertyPath,
  readStack,
  record,
  records,
  seconds,
  str,
  stringMap,
  strings,
} from './stack';
import { checkTenantResources } from './tenant-checks';
import { isTimeOfDay, minuteOfDay } from './windows';

// ---- input: the tenant's resources (the orchestrator's TenantViewSnapshot, R-OR-3) ----

export interface StratumEnvironment {
  environmentId: string;
  networkId: string;
  /** Templates place microservices by it (`network`). */
  networkName: string;
  clusterId: string;
  namespace: string;
  securityDomain: string;
  isolationDomain: string;
  /** The NetworkAttachmentDefinition of the tenant network in the namespace ('tenant-network'). */
  networkAttachment: string;
  /** '--<network>': how the environment's services are named in the tenant's other environments (R-NW-4). */
  dnsSuffix: string;
  /** The network's subnet, e.g. 10.20.0.0/24; when given, fixed IPs must lie in it. */
  cidr?: string;
  /** The network's gateway; when given, no fixed IP may be it. */
  gateway?: string;
}

export interface StratumTenantView {
  tenantId: string;
  environments: StratumEnvironment[];
  nfsServers: Array<{ nfsServerId: string; tier: string; storageClassName: string }>;
  volumes: Array<{
    volumeId: string;
    name: string;
    nfsServerId: string;
    sizeBytes: number;
    exportSubPath: string;
    /** The PersistentVolumeClaim of the volume, present in every environment of the tenant (R-ST-3). */
    claimName: string;
  }>;
}

// ---- output ----

/** A Kubernetes object as plain JSON. */
export interface Manifest {
  apiVersion: string;
  kind: string;
  metadata: {
    name: string;
    namespace?: string;
    labels?: Record<string, string>;
    annotations?: Record<string, string>;
  };
  [field: string]: unknown;
}

/** One microservice placed in the environment of its network (a DeployUnit of the orchestrator). */
export interface TranslatedUnit {
  /** The microservice (node template) name, unique in the stack. */
  name: string;
  environmentId: string;
  networkName: string;
  clusterId: string;
  namespace: string;
  /** The Deployment, then the Service when the microservice has ports; all in `namespace`. */
  manifests: Manifest[];
  /** Units that must be Ready before this one is applied (DependsOn and ConnectsTo targets), sorted. */
  dependsOn: string[];
}

/** Scale on average CPU / memory utilisation in percent of the limit (R-AS-2 a, b; R-AS-4). */
export interface UtilisationStrategyLike {
  kind: 'cpu' | 'memory';
  upperThreshold: number;
  lowerThreshold: number;
  durationSeconds: number;
  step: number;
  minReplicas: number;
  maxReplicas: number;
  retriggerSeconds: number;
}

/** Entering the window sets the count, leaving it restores the one before (R-AS-2 c). */
export interface TimeStrategyLike {
  kind: 'time';
  replicas: number;
}

export interface ScalingWindowLike {
  start: string;
  end: string;
  strategy: UtilisationStrategyLike | TimeStrategyLike;
}

/** The shape of MicroserviceScalingPolicy (stratum.orchestrator.autoscaling-policies-published.v1). */
export interface MicroserviceScalingPolicyLike {
  service: string;
  environmentId: string;
  namespace: string;
  deployment: string;
  /** autoscaling_enabled of the microservice (R-AS-3). */
  enabled: boolean;
  cycle: 'daily';
  /** The windows of the enabled policies targeting the microservice, by start time. */
  windows: ScalingWindowLike[];
}

export interface StratumPlan {
  tenantId: string;
  stack: string;
  /** In deployment order: a unit comes after those it depends on; ties by name. */
  units: TranslatedUnit[];
  /** One per microservice targeted by at least one autoscaling policy, by service name. */
  autoscaling: MicroserviceScalingPolicyLike[];
}

export interface TranslateOptions {
  /** The stack name: a DNS label; it labels every object (stratum.io/stack, app.kubernetes.io/part-of). */
  stack: string;
}

export interface TranslateResult {
  /** No error. */
  ok: boolean;
  /** Every diagnostic, errors and warnings, sorted by position. */
  diagnostics: Diagnostic[];
  /** The warnings among `diagnostics`. */
  warnings: Diagnostic[];
  /** Present when ok. */
  plan?: StratumPlan;
}

const sortedRecord = (map: Record<string, string>): Record<string, string> =>
  Object.fromEntries(
    Object.keys(map)
      .sort()
      .map((k) => [k, map[k]]),
  );

/** JSON with keys sorted at every level and no spaces: the form of the JSON annotations. */
export function canonicalJson(value: unknown): string {
  const sort = (v: unknown): unknown => {
    if (Array.isArray(v)) return v.map(sort);
    if (v !== null && typeof v === 'object') {
      return Object.fromEntries(
        Object.keys(v)
          .filter((k) => (v as Record<string, unknown>)[k] !== undefined)
          .sort()
          .map((k) => [k, sort((v as Record<string, unknown>)[k])]),
      );
    }
    return v;
  };
  return JSON.stringify(sort(value));
}

/**
 * Translates a Stratum template for one tenant. Runs the profile's rules 1-9, 11, 12 and rule 10
 * (the tenant's resources, R-OR-3) first; a plan is returned only when none of them fails.
 */
export function translateStack(
  template: ServiceTemplate,
  view: StratumTenantView,
  options: TranslateOptions,
): TranslateResult {
  const findings = new Findings(locatorOf(template));
  if (!DNS_LABEL.test(options.stack) || options.stack.length > 63) {
    findings.error(
      'STRATUM_STACK_NAME',
      options.stack ? [] : ['metadata', 'template_name'],
      options.stack
        ? `stack name '${options.stack}' is not a DNS label (lower-case letters, digits and '-', starting with a letter, at most 63 characters); it labels every object of the stack`
        : 'the stack has no name: give one (e.g. stratum tosca translate --stack <name>) or set metadata.template_name in the template',
    );
  }
  const checks = [...checkStratumRules(template), ...checkTenantResources(template, view)];
  const stack = readStack(template);
  const order = deploymentOrder(stack.microservices, findings);
  const failed = () =>
    checks.some((d) => d.severity === 'error') || findings.diagnostics.some((d) => d.severity === 'error');
  if (failed()) return result([...checks, ...findings.diagnostics]);

  const names = new Set(stack.microservices.map((m) => m.name));
  const units: TranslatedUnit[] = [];
  for (const ms of order) {
    const environment = view.environments.find(
      (e) => e.networkName === ms.props.network,
    ) as StratumEnvironment;
    units.push(translateMicroservice(ms, environment, view, options.stack, names, findings));
  }
  const autoscaling = autoscalingPolicies(stack.microservices, stack.policies, view);
  const diagnostics = [...checks, ...findings.diagnostics];
  return result(diagnostics, { tenantId: view.tenantId, stack: options.stack, units, autoscaling });
}

function result(diagnostics: Diagnostic[], plan?: StratumPlan): TranslateResult {
  const sorted = diagnostics.sort(compareDiagnostics);
  const ok = !sorted.some((d) => d.severity === 'error');
  return {
    ok,
    diagnostics: sorted,
    warnings: sorted.filter((d) => d.severity === 'warning'),
    ...(ok && plan ? { plan } : {}),
  };
}

/** The microservices a microservice waits for (R-OR-4): targets of DependsOn and ConnectsTo, sorted. */
function dependenciesOf(ms: MicroserviceView, names: Set<string>): string[] {
  const targets = new Set<string>();
  for (const r of ms.node.requirements) {
    if (!r.target || r.target === ms.name || !names.has(r.target)) continue;
    if (ORDERING_RELATIONSHIPS.some((t) => r.relationship.typeChain.includes(t))) targets.add(r.target);
  }
  return [...targets].sort();
}

/**
 * Kahn's algorithm, ties by name. A cycle cannot reach here through processTemplate (it reports
 * TOSCA_REQUIREMENT_CYCLE, rule 9); a model built otherwise gets the same error.
 */
function deploymentOrder(microservices: MicroserviceView[], findings: Findings): MicroserviceView[] {
  const names = new Set(microservices.map((m) => m.name));
  const pending = new Map(microservices.map((m) => [m.name, new Set(dependenciesOf(m, names))]));
  const byName = new Map(microservices.map((m) => [m.name, m]));
  const order: MicroserviceView[] = [];
  while (pending.size) {
    const ready = [...pending.entries()]
      .filter(([, deps]) => deps.size === 0)
      .map(([name]) => name)
      .sort();
    if (ready.length === 0) {
      const members = [...pending.keys()].sort();
      findings.error(
        'TOSCA_REQUIREMENT_CYCLE',
        nodePath(members[0]),
        `microservices ${members.join(', ')} depend on each other in a cycle (DependsOn / ConnectsTo); the deployment order needs a DAG: declare one of the connections in one direction only`,
        'key',
      );
      break;
    }
    for (const name of ready) {
      order.push(byName.get(name) as MicroserviceView);
      pending.delete(name);
      for (const deps of pending.values()) deps.delete(name);
    }
  }
  return order;
}

interface PodVolume {
  name: string;
  persistentVolumeClaim?: { claimName: string };
  emptyDir?: Record<string, never>;
}

interface VolumeMount {
  name: string;
  mountPath: string;
  readOnly?: boolean;
}

interface LogFileEntry {
  directory: string;
  extension: string;
  multilinePattern?: string;
  volume: string;
  subPath?: string;
}

const within = (directory: string, mountPath: string) =>
  directory === mountPath || directory.startsWith(`${mountPath}/`);

/**
 * Pod volumes and mounts: the tenant volumes (one pod volume per tenant volume, through its claim)
 * and, for R-LG-3, a pod volume behind every log directory: the deepest mount that holds it, or an
 * emptyDir mounted at the outermost log directories no mount holds.
 */
function volumesOf(ms: MicroserviceView, view: StratumTenantView) {
  const podVolumes: PodVolume[] = [];
  const mounts: VolumeMount[] = [];
  for (const { item } of records(ms.props.volumes)) {
    const volume = str(item.volume) as string;
    const name = `vol-${volume}`;
    if (!podVolumes.some((v) => v.name === name)) {
      const claimName = view.volumes.find((v) => v.name === volume)?.claimName as string;
      podVolumes.push({ name, persistentVolumeClaim: { claimName } });
    }
    mounts.push({
      name,
      mountPath: str(item.mount_path) as string,
      ...(bool(item.read_only) ? { readOnly: true } : {}),
    });
  }
  const logs = records(ms.props.log_files).map(({ item }) => ({
    directory: str(item.directory) as string,
    extension: str(item.extension) as string,
    multilinePattern: str(item.multiline_pattern),
  }));
  const uncovered = [...new Set(logs.map((l) => l.directory))].filter(
    (d) => !mounts.some((m) => within(d, m.mountPath)),
  );
  const roots = uncovered.filter((d) => !uncovered.some((other) => other !== d && within(d, other)));
  roots.forEach((directory, i) => {
    const name = `logs-${i}`;
    podVolumes.push({ name, emptyDir: {} });
    mounts.push({ name, mountPath: directory });
  });
  const logFiles: LogFileEntry[] = logs.map((log) => {
    const holder = mounts
      .filter((m) => within(log.directory, m.mountPath))
      .sort((a, b) => b.mountPath.length - a.mountPath.length)[0];
    const subPath = log.directory.slice(holder.mountPath.length + 1);
    return {
      directory: log.directory,
      extension: log.extension,
      ...(log.multilinePattern !== undefined ? { multilinePattern: log.multilinePattern } : {}),
      volume: holder.name,
      ...(subPath ? { subPath } : {}),
    };
  });
  return { podVolumes, mounts, logFiles };
}

function probeOf(value: unknown): Record<string, unknown> | undefined {
  const probe = record(value);
  if (!probe) return undefined;
  const handler =
    probe.type === 'http'
      ? { httpGet: { path: str(probe.path), port: int(probe.port) } }
      : probe.type === 'tcp'
        ? { tcpSocket: { port: int(probe.port) } }
        : { exec: { command: strings(probe.command) } };
  const whole = (v: unknown, fallback: number) => Math.round(seconds(v) ?? fallback);
  const initialDelay = whole(probe.initial_delay, 0);
  return {
    ...handler,
    // the API server drops a zero delay (omitempty): leave it out, so the object reads back as written
    ...(initialDelay ? { initialDelaySeconds: initialDelay } : {}),
    periodSeconds: whole(probe.period, 10),
    timeoutSeconds: whole(probe.timeout, 1),
    failureThreshold: int(probe.failure_threshold) ?? 3,
  };
}

function resourcesOf(value: unknown): Record<string, Record<string, string>> | undefined {
  const r = record(value);
  if (!r) return undefined;
  const pick = (cpu: unknown, memory: unknown) => {
    const out: Record<string, string> = {};
    if (typeof cpu === 'string') out.cpu = cpu;
    if (typeof memory === 'string') out.memory = memory;
    return Object.keys(out).length ? out : undefined;
  };
  const limits = pick(r.cpu_limit, r.memory_limit);
  const requests = pick(r.cpu_request, r.memory_request);
  if (!limits && !requests) return undefined;
  return { ...(limits ? { limits } : {}), ...(requests ? { requests } : {}) };
}

/** Template values merged under the platform's; a template value the platform replaces is a warning. */
function mergePlatform(
  ms: MicroserviceView,
  property: 'labels' | 'annotations',
  own: Record<string, string>,
  platform: Record<string, string>,
  findings: Findings,
  warned: Set<string>,
): Record<string, string> {
  for (const [key, value] of Object.entries(platform)) {
    const mine = own[key];
    if (mine === undefined || mine === value || warned.has(key)) continue;
    warned.add(key);
    findings.warning(
      'STRATUM_PLATFORM_KEY_OVERRIDDEN',
      propertyPath(ms.name, property, key),
      `${property.slice(0, -1)} ${key}: ${mine} of ${ms.name} is set by the platform to ${value}; the template's value is not used`,
      'key',
    );
  }
  return sortedRecord({ ...own, ...platform });
}

function translateMicroservice(
  ms: MicroserviceView,
  environment: StratumEnvironment,
  view: StratumTenantView,
  stack: string,
  microserviceNames: Set<string>,
  findings: Findings,
): TranslatedUnit {
  const { name, props } = ms;
  const namespace = environment.namespace;
  const selector = sortedRecord({ [STRATUM_LABELS.stack]: stack, [STRATUM_LABELS.service]: name });
  const platformLabels = {
    [STRATUM_LABELS.name]: name,
    [STRATUM_LABELS.partOf]: stack,
    [STRATUM_LABELS.managedBy]: MANAGED_BY,
    ...selector,
  };
  const ownLabels = stringMap(props.labels);
  const ownAnnotations = sortedRecord(stringMap(props.annotations));
  const warned = new Set<string>();
  const labels = mergePlatform(ms, 'labels', ownLabels, platformLabels, findings, warned);
  const { podVolumes, mounts, logFiles } = volumesOf(ms, view);
  const podLabels = logFiles.length
    ? mergePlatform(
        ms,
        'labels',
        ownLabels,
        { ...platformLabels, [STRATUM_LABELS.appLogs]: 'true' },
        findings,
        warned,
      )
    : labels;
  const fixedIps = records(props.fixed_ips)
    .map(({ item }) => parseIp(str(item.address) ?? ''))
    .filter((ip) => ip !== undefined)
    .map(formatIp);
  const podPlatformAnnotations: Record<string, string> = {
    [MULTUS_NETWORKS_ANNOTATION]: JSON.stringify([{ name: environment.networkAttachment }]),
    ...(logFiles.length ? { [STRATUM_ANNOTATIONS.logFiles]: canonicalJson(logFiles) } : {}),
    ...(fixedIps.length ? { [STRATUM_ANNOTATIONS.fixedIps]: fixedIps.join(',') } : {}),
  };
  const podAnnotations = mergePlatform(
    ms,
    'annotations',
    ownAnnotations,
    podPlatformAnnotations,
    findings,
    warned,
  );
  const metadata = () => ({
    name,
    namespace,
    labels,
    ...(Object.keys(ownAnnotations).length ? { annotations: ownAnnotations } : {}),
  });

  const ports = records(props.ports).map(({ item }) => ({
    name: str(item.name) as string,
    port: int(item.port) as number,
    protocol: str(item.protocol) ?? 'TCP',
  }));
  const env = records(props.env).map(({ item }) => ({
    name: str(item.name) as string,
    value: str(item.value) ?? '',
  }));
  const resources = resourcesOf(props.resources);
  const liveness = probeOf(props.liveness_probe);
  const readiness = probeOf(props.readiness_probe);
  const container: Record<string, unknown> = {
    name,
    image: str(props.image),
    ...(props.command !== undefined ? { command: strings(props.command) } : {}),
    ...(props.args !== undefined ? { args: strings(props.args) } : {}),
    ...(env.length ? { env } : {}),
    ...(ports.length
      ? { ports: ports.map((p) => ({ name: p.name, containerPort: p.port, protocol: p.protocol })) }
      : {}),
    ...(resources ? { resources } : {}),
    ...(mounts.length ? { volumeMounts: mounts } : {}),
    ...(liveness ? { livenessProbe: liveness } : {}),
    ...(readiness ? { readinessProbe: readiness } : {}),
  };

  const deployment: Manifest = {
    apiVersion: 'apps/v1',
    kind: 'Deployment',
    metadata: metadata(),
    spec: {
      replicas: int(props.replicas) ?? 1,
      selector: { matchLabels: selector },
      // A successor pod needs an address its predecessor frees (R-NW-1): replace, never surge.
      ...(fixedIps.length
        ? { strategy: { type: 'RollingUpdate', rollingUpdate: { maxSurge: 0, maxUnavailable: 1 } } }
        : {}),
      template: {
        metadata: { labels: podLabels, annotations: podAnnotations },
        spec: {
          containers: [container],
          ...(podVolumes.length ? { volumes: podVolumes } : {}),
        },
      },
    },
  };
  const manifests: Manifest[] = [deployment];
  if (ports.length) {
    manifests.push({
      apiVersion: 'v1',
      kind: 'Service',
      metadata: metadata(),
      spec: {
        type: 'ClusterIP',
        selector,
        ports: ports.map((p) => ({ name: p.name, port: p.port, targetPort: p.port, protocol: p.protocol })),
      },
    });
  }
  return {
    name,
    environmentId: environment.environmentId,
    networkName: environment.networkName,
    clusterId: environment.clusterId,
    namespace,
    manifests,
    dependsOn: dependenciesOf(ms, microserviceNames),
  };
}

function strategyOf(props: Record<string, unknown>): UtilisationStrategyLike | TimeStrategyLike {
  if (props.strategy === 'time') return { kind: 'time', replicas: int(props.scheduled_replicas) as number };
  return {
    kind: props.strategy === 'memory' ? 'memory' : 'cpu',
    upperThreshold: int(props.upper_threshold) as number,
    lowerThreshold: int(props.lower_threshold) as number,
    durationSeconds: Math.round(seconds(props.duration) as number),
    step: int(props.step) as number,
    minReplicas: int(props.min_replicas) as number,
    maxReplicas: int(props.max_replicas) as number,
    retriggerSeconds: Math.round(seconds(props.retrigger_time) as number),
  };
}

/** R-OR-5 / R-AS-1..4: one policy per microservice targeted by an autoscaling policy. */
function autoscalingPolicies(
  microservices: MicroserviceView[],
  policies: AutoscalingPolicyView[],
  view: StratumTenantView,
): MicroserviceScalingPolicyLike[] {
  const out: MicroserviceScalingPolicyLike[] = [];
  for (const ms of [...microservices].sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0))) {
    const targeting = policies.filter((p) => p.policy.targets.includes(ms.name));
    if (targeting.length === 0) continue;
    const environment = view.environments.find(
      (e) => e.networkName === ms.props.network,
    ) as StratumEnvironment;
    const windows = targeting
      .filter((p) => bool(p.props.enabled) !== false)
      .flatMap((p, order) =>
        records(p.props.windows)
          .filter(({ item }) => isTimeOfDay(item.start) && isTimeOfDay(item.end))
          .map(({ item }) => ({
            order,
            window: { start: item.start as string, end: item.end as string, strategy: strategyOf(p.props) },
          })),
      )
      .sort((a, b) => minuteOfDay(a.window.start) - minuteOfDay(b.window.start) || a.order - b.order)
      .map((w) => w.window);
    out.push({
      service: ms.name,
      environmentId: environment.environmentId,
      namespace: environment.namespace,
      deployment: ms.name,
      enabled: bool(ms.props.autoscaling_enabled) ?? true,
      cycle: 'daily',
      windows,
    });
  }
  return out;
}

// ---- the whole pipeline ----

export interface StratumProcessOptions {
  /** Input values supplied at deploy time (see processTemplate). */
  inputs?: ProcessOptions['inputs'];
}

export interface StratumValidation {
  ok: boolean;
  /** Processor and rule diagnostics, sorted by position. */
  diagnostics: Diagnostic[];
  template?: ServiceTemplate;
}

/**
 * Processes a template with the Stratum profile and checks rules 1-9, 11, 12 (all that needs no
 * tenant): what `stratum tosca validate` runs. The rules also run on a template with processor
 * errors, so that one pass reports every problem.
 */
export async function validateStratumTemplate(
  entry: string,
  source: ToscaSource,
  options: StratumProcessOptions = {},
): Promise<StratumValidation> {
  const processed = await processTemplate(entry, source, {
    profiles: [STRATUM_PROFILE],
    inputs: options.inputs,
  });
  const rules = processed.template ? checkStratumRules(processed.template) : [];
  const diagnostics = withoutRepeats(processed.diagnostics, rules).sort(compareDiagnostics);
  return { ok: !diagnostics.some((d) => d.severity === 'error'), diagnostics, template: processed.template };
}

/**
 * The processor's diagnostics and the rules', without a STRATUM_UNRESOLVED_VALUE for a property
 * whose function the processor already refused (e.g. get_input of an undeclared input).
 */
function withoutRepeats(processor: Diagnostic[], rules: Diagnostic[]): Diagnostic[] {
  const refused = processor.filter((d) => d.severity === 'error').map((d) => d.path);
  const repeats = (d: Diagnostic) =>
    d.code === 'STRATUM_UNRESOLVED_VALUE' &&
    refused.some((p) => p === d.path || p.startsWith(`${d.path}.`) || p.startsWith(`${d.path}[`));
  return [...processor, ...rules.filter((d) => !repeats(d))];
}

export interface ProcessAndTranslateResult extends TranslateResult {
  template?: ServiceTemplate;
}

export interface ProcessAndTranslateOptions extends StratumProcessOptions {
  /** The stack name; by default the template's metadata.template_name. */
  stack?: string;
}

/**
 * processTemplate with the Stratum profile, the rules, rule 10 against `view` and the translation,
 * with every diagnostic of all steps together. A plan comes only from a template without error.
 */
export async function processAndTranslate(
  entry: string,
  source: ToscaSource,
  view: StratumTenantView,
  options: ProcessAndTranslateOptions = {},
): Promise<ProcessAndTranslateResult> {
  const processed = await processTemplate(entry, source, {
    profiles: [STRATUM_PROFILE],
    inputs: options.inputs,
  });
  const template = processed.template;
  if (!template) return { ...result([...processed.diagnostics]), template };
  if (!processed.ok) {
    // Report everything the template breaks, but translate only a valid one.
    return {
      ...result(
        withoutRepeats(processed.diagnostics, [
          ...checkStratumRules(template),
          ...checkTenantResources(template, view),
        ]),
      ),
      template,
    };
  }
  const stack = options.stack ?? String(template.metadata.template_name ?? '');
  const translated = translateStack(template, view, { stack });
  return {
    ...result([...processed.diagnostics, ...translated.diagnostics], translated.plan),
    template,
  };
}
