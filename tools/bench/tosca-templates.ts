/**
 * Generated Stratum stack templates for bench:tosca (issue #5): N stratum.nodes.Microservice nodes
 * spread over three tenant networks (dmz, internal, core), with the properties the golden templates
 * use (image, replicas, command/args, env, ports, resources, both probes, volumes, log files, labels,
 * annotations), DependsOn / ConnectsTo requirements that form a DAG (each service points only at
 * services generated before it), and a few autoscaling policies. Deterministic: the same N gives the
 * same text. benchTenantView() is a tenant owning those networks and volumes, for the translator.
 * tosca-templates.spec.ts checks that every generated template is valid and translates.
 */
import type { StratumTenantView } from '@stratum/tosca';

export const BENCH_NETWORKS = [
  { name: 'dmz-net', securityLevel: 'dmz', cidr: '10.10.1.0/24', gateway: '10.10.1.1' },
  { name: 'app-net', securityLevel: 'internal', cidr: '10.10.2.0/24', gateway: '10.10.2.1' },
  { name: 'core-net', securityLevel: 'core', cidr: '10.10.3.0/24', gateway: '10.10.3.1' },
] as const;

export const BENCH_VOLUMES = ['shared-docs', 'audit-archive', 'scratch-a', 'scratch-b'] as const;

export const BENCH_TEMPLATE_FILE = 'stack.yaml';

export const BENCH_TENANT = 'bench-tenant';

/** The tenant the generated stacks are translated for: one environment per network, the volumes. */
export function benchTenantView(): StratumTenantView {
  return {
    tenantId: BENCH_TENANT,
    environments: BENCH_NETWORKS.map((network, i) => ({
      environmentId: `env-${network.name}`,
      networkId: `net-${network.name}`,
      networkName: network.name,
      clusterId: i === 0 ? 'bench-b' : 'bench-a',
      namespace: `${BENCH_TENANT}-${network.name}`,
      securityDomain: network.securityLevel,
      isolationDomain: i === 0 ? 'iso-b' : 'iso-a',
      networkAttachment: 'tenant-network',
      dnsSuffix: `--${network.name}`,
      cidr: network.cidr,
      gateway: network.gateway,
    })),
    nfsServers: [{ nfsServerId: 'nfs-gold', tier: 'gold', storageClassName: 'stratum-nfs-gold' }],
    volumes: BENCH_VOLUMES.map((name, i) => ({
      volumeId: `vol-${i + 1}`,
      name,
      nfsServerId: 'nfs-gold',
      sizeBytes: 10 * 1024 ** 3,
      exportSubPath: `${BENCH_TENANT}/${name}`,
      claimName: `vol-${name}`,
    })),
  };
}

/** Name of the i-th microservice (a DNS label). */
export function serviceName(i: number): string {
  return `svc-${String(i).padStart(4, '0')}`;
}

/** The template of a stack of `n` microservices. */
export function generateStackTemplate(n: number): string {
  const lines: string[] = [
    `# bench:tosca - generated stack of ${n} microservices over ${BENCH_NETWORKS.length} networks.`,
    'tosca_definitions_version: tosca_simple_yaml_1_3',
    '',
    'metadata:',
    `  template_name: bench-${n}`,
    "  template_version: '1.0.0'",
    '',
    `description: Generated stack of ${n} microservices for the TOSCA processor bench.`,
    '',
    'topology_template:',
    '  inputs:',
    '    log_level:',
    '      type: string',
    '      default: info',
    '      constraints:',
    '        - valid_values: [debug, info, warn, error]',
    '  node_templates:',
  ];
  const policies: string[] = [];
  for (let i = 0; i < n; i++) {
    const name = serviceName(i);
    const network = BENCH_NETWORKS[i % BENCH_NETWORKS.length];
    const tier = ['web', 'api', 'worker', 'store'][i % 4];
    const port = 8080 + (i % 3);
    lines.push(
      `    ${name}:`,
      '      type: stratum.nodes.Microservice',
      `      description: Generated ${tier} service number ${i}.`,
      '      properties:',
      `        image: registry.stratum.local/bench/${tier}-${i}:1.${i % 10}.${i % 7}`,
      `        replicas: ${1 + (i % 3)}`,
    );
    if (i % 5 === 0) lines.push(`        command: [/app/${tier}]`, `        args: [--listen, ':${port}']`);
    lines.push(
      '        env:',
      '          - name: SERVICE_NAME',
      `            value: ${name}`,
      '          - name: LOG_LEVEL',
      '            value: { get_input: log_level }',
      '          - name: GREETING',
      `            value: 'hello from ${name}'`,
      '          - name: MESSAGE',
      '            value: $(GREETING) on $(SERVICE_NAME)',
    );
    if (i > 0) lines.push('          - name: UPSTREAM_URL', `            value: http://${upstreamHost(i)}`);
    lines.push(
      '        ports:',
      '          - name: http',
      `            port: ${port}`,
      '            protocol: TCP',
    );
    if (i % 4 === 0) lines.push('          - name: metrics', '            port: 9090');
    lines.push(
      '        resources:',
      '          cpu_request: 100m',
      `          cpu_limit: '${1 + (i % 2)}'`,
      '          memory_request: 128Mi',
      '          memory_limit: 256Mi',
      '        liveness_probe:',
      '          type: tcp',
      `          port: ${port}`,
      '          initial_delay: 5 s',
      '        readiness_probe:',
      '          type: http',
      '          path: /ready',
      `          port: ${port}`,
      '          period: 5 s',
      '          failure_threshold: 2',
      `        network: ${network.name}`,
      `        security_level: ${network.securityLevel}`,
    );
    if (i % 3 === 0) {
      lines.push(
        '        volumes:',
        `          - volume: ${BENCH_VOLUMES[i % BENCH_VOLUMES.length]}`,
        `            mount_path: /data/${tier}`,
      );
      if (i % 6 === 0)
        lines.push(
          `          - volume: ${BENCH_VOLUMES[(i + 1) % BENCH_VOLUMES.length]}`,
          '            mount_path: /archive',
          '            read_only: true',
        );
    }
    if (i % 2 === 0) {
      lines.push(
        '        log_files:',
        `          - directory: /var/log/${tier}`,
        '            extension: .log',
        "            multiline_pattern: '^\\d{4}-\\d{2}-\\d{2}[ T]\\d{2}:\\d{2}'",
        `          - directory: /var/log/${tier}`,
        '            extension: .err',
      );
    }
    lines.push(
      '        labels:',
      `          app.kubernetes.io/part-of: bench-${n}`,
      `          tier: ${tier}`,
      '        annotations:',
      '          example.com/owner: bench-team@example.com',
    );
    if (i % 7 === 3) lines.push('        autoscaling_enabled: false');
    const requirements = requirementsOf(i);
    if (requirements.length) {
      lines.push('      requirements:');
      for (const r of requirements) {
        if (r.kind === 'dependency') lines.push(`        - dependency: ${serviceName(r.target)}`);
        else
          lines.push(
            '        - connection:',
            `            node: ${serviceName(r.target)}`,
            '            relationship:',
            '              type: stratum.relationships.ConnectsTo',
            '              properties:',
            `                port: ${8080 + (r.target % 3)}`,
          );
      }
    }
    lines.push('');
    if (i % 10 === 1 && i % 7 !== 3) policies.push(...autoscalingPolicies(name));
  }
  if (policies.length) lines.push('  policies:', ...policies);
  lines.push(
    '  outputs:',
    '    entry_image:',
    '      description: The image of the first service.',
    `      value: { get_property: [${serviceName(0)}, image] }`,
    '',
  );
  return lines.join('\n');
}

function upstreamHost(i: number): string {
  const target = Math.floor(i / 2);
  const targetNetwork = BENCH_NETWORKS[target % BENCH_NETWORKS.length].name;
  const sameNetwork = target % BENCH_NETWORKS.length === i % BENCH_NETWORKS.length;
  return `${serviceName(target)}${sameNetwork ? '' : `--${targetNetwork}`}:${8080 + (target % 3)}`;
}

/** Requirements of service i: only to services before it, so the graph is a DAG (a tree-ish fan-in). */
function requirementsOf(i: number): { kind: 'dependency' | 'connection'; target: number }[] {
  if (i === 0) return [];
  const out: { kind: 'dependency' | 'connection'; target: number }[] = [
    { kind: 'connection', target: Math.floor(i / 2) },
  ];
  if (i >= 3 && i % 3 === 0) out.push({ kind: 'dependency', target: i - 3 });
  if (i >= 10 && i % 5 === 0) out.push({ kind: 'connection', target: i - 10 });
  return out;
}

function autoscalingPolicies(target: string): string[] {
  return [
    `    - ${target}-daytime-cpu:`,
    '        type: stratum.policies.scaling.Autoscaling',
    `        description: Scale ${target} on CPU during business hours.`,
    `        targets: [${target}]`,
    '        properties:',
    '          windows:',
    "            - start: '08:00'",
    "              end: '20:00'",
    '          strategy: cpu',
    '          upper_threshold: 75',
    '          lower_threshold: 30',
    '          duration: 3 m',
    '          step: 2',
    '          min_replicas: 2',
    '          max_replicas: 10',
    '          retrigger_time: 5 m',
    `    - ${target}-night:`,
    '        type: stratum.policies.scaling.Autoscaling',
    `        targets: [${target}]`,
    '        properties:',
    '          windows:',
    "            - start: '22:00'",
    "              end: '06:00'",
    '          strategy: time',
    '          scheduled_replicas: 1',
  ];
}
