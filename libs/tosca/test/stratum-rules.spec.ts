// The Stratum rules and translator beyond the golden files (issue #5 §2): how problems are reported
// together, the warnings, and the translation decisions for log files (R-LG-3), fixed IPs (R-NW-1),
// platform labels and autoscaling (R-AS-1..4). The one-error-per-rule cases are in
// test/invalid/stratum-*.yaml (invalid-templates.spec.ts).
import { readFileSync } from 'node:fs';
import * as path from 'node:path';
import {
  checkStratumRules,
  type Diagnostic,
  type Manifest,
  memorySource,
  processAndTranslate,
  processTemplate,
  STRATUM_ANNOTATIONS,
  STRATUM_LABELS,
  STRATUM_PROFILE,
  type StratumTenantView,
  translateStack,
  validateStratumTemplate,
} from '../src';

const view = JSON.parse(
  readFileSync(path.join(__dirname, 'golden', 'tenant-view.json'), 'utf8'),
) as StratumTenantView;

const HEAD = 'tosca_definitions_version: tosca_simple_yaml_1_3\ntopology_template:\n  node_templates:\n';

/** A template of microservices given as YAML blocks (indented for node_templates). */
function stack(nodes: string, policies = ''): string {
  return `${HEAD}${nodes}${policies ? `  policies:\n${policies}` : ''}`;
}

async function translate(text: string, options: { stack?: string; inputs?: Record<string, unknown> } = {}) {
  return processAndTranslate('stack.yaml', memorySource({ 'stack.yaml': text }), view, {
    stack: options.stack ?? 'demo',
    inputs: options.inputs,
  });
}

const codes = (diagnostics: Diagnostic[], severity: Diagnostic['severity'] = 'error') =>
  diagnostics.filter((d) => d.severity === severity).map((d) => `${d.code}@${d.line}`);

function deploymentOf(manifests: Manifest[]) {
  const deployment = manifests.find((m) => m.kind === 'Deployment')!;
  return deployment.spec as {
    replicas: number;
    strategy?: unknown;
    template: {
      metadata: { labels: Record<string, string>; annotations: Record<string, string> };
      spec: {
        containers: Array<{ volumeMounts?: unknown[]; livenessProbe?: unknown; env?: unknown[] }>;
        volumes?: unknown[];
      };
    };
  };
}

describe('Stratum processor rules (docs/tosca-profile.md "Processor rules")', () => {
  it('reports every problem of every rule in one pass, each at its line, with its YAML path', async () => {
    const text = stack(
      [
        '    api:',
        '      type: stratum.nodes.Microservice',
        '      properties:',
        '        image: registry.stratum.local/shop/api:1.0.0',
        '        network: core-net',
        '        env: [{ name: A, value: x }, { name: A, value: y }]',
        "        resources: { cpu_request: '2', cpu_limit: '1' }",
        '        labels: { stratum.io/team: a }',
        '        readiness_probe: { type: http, port: 8080 }',
        '',
      ].join('\n'),
    );
    const result = await validateStratumTemplate('stack.yaml', memorySource({ 'stack.yaml': text }));
    expect(result.ok).toBe(false);
    expect(codes(result.diagnostics)).toEqual([
      'STRATUM_DUPLICATE@9',
      'STRATUM_REQUEST_ABOVE_LIMIT@10',
      'STRATUM_RESERVED_KEY@11',
      'STRATUM_PROBE_PROPERTY@12',
    ]);
    const duplicate = result.diagnostics[0];
    expect(duplicate).toMatchObject({
      file: 'stack.yaml',
      line: 9,
      column: 46,
      path: 'topology_template.node_templates.api.properties.env[1].name',
    });
    expect(duplicate.message).toMatch(/environment variable A of api repeats env\[0\]/);
  });

  it('runs on a template with processor errors too, without repeating them', async () => {
    const text = stack(
      [
        '    api:',
        '      type: stratum.nodes.Microservice',
        '      properties:',
        '        image: registry.stratum.local/shop/api:1.0.0',
        '        network: core-net',
        '        replicas: many',
        '        resources: { memory_request: 2Gi, memory_limit: 1Gi }',
        '',
      ].join('\n'),
    );
    const result = await translate(text);
    expect(result.plan).toBeUndefined();
    expect(codes(result.diagnostics)).toEqual(['TOSCA_TYPE_MISMATCH@9', 'STRATUM_REQUEST_ABOVE_LIMIT@10']);
  });

  it('warns about an unpinned image, a missing readiness probe and autoscaling without limit', async () => {
    const text = stack(
      [
        '    web:',
        '      type: stratum.nodes.Microservice',
        '      properties:',
        '        image: registry.stratum.local/shop/web',
        '        network: dmz-net',
        '        ports: [{ name: http, port: 8080 }]',
        '    worker:',
        '      type: stratum.nodes.Microservice',
        '      properties:',
        '        image: registry.stratum.local/shop/worker:latest',
        '        network: core-net',
        '    pinned:',
        '      type: stratum.nodes.Microservice',
        '      properties:',
        `        image: registry.stratum.local:5000/shop/pinned@sha256:${'a'.repeat(64)}`,
        '        network: core-net',
        '',
      ].join('\n'),
      [
        '    - web-cpu:',
        '        type: stratum.policies.scaling.Autoscaling',
        '        targets: [web]',
        '        properties:',
        "          windows: [{ start: '08:00', end: '20:00' }]",
        '          strategy: cpu',
        '          upper_threshold: 80',
        '          lower_threshold: 20',
        '          duration: 1 m',
        '          step: 1',
        '          min_replicas: 1',
        '          max_replicas: 3',
        '          retrigger_time: 1 m',
        '',
      ].join('\n'),
    );
    const result = await translate(text);
    expect(result.ok).toBe(true);
    expect(result.warnings).toEqual(result.diagnostics);
    expect(codes(result.warnings, 'warning')).toEqual([
      'STRATUM_NO_READINESS_PROBE@4',
      'STRATUM_IMAGE_NOT_PINNED@7',
      'STRATUM_IMAGE_NOT_PINNED@13',
      'STRATUM_AUTOSCALING_WITHOUT_LIMIT@26',
    ]);
    // worker: no ports and nothing waits for it, so no readiness warning
    expect(result.warnings.some((w) => w.message.startsWith('worker has no readiness_probe'))).toBe(false);
  });

  it('refuses a stack name that cannot label objects, and translates nothing', async () => {
    const text = stack(
      '    api:\n      type: stratum.nodes.Microservice\n      properties:\n        image: a/b:1\n        network: core-net\n',
    );
    const result = await translate(text, { stack: 'Shop_2' });
    expect(codes(result.diagnostics)).toEqual(['STRATUM_STACK_NAME@1']);
    expect(result.plan).toBeUndefined();
  });

  it('still refuses a dependency cycle when the translator gets a model with one (rule 9)', async () => {
    const text = stack(
      [
        '    a:',
        '      type: stratum.nodes.Microservice',
        '      properties: { image: a/a:1, network: core-net }',
        '      requirements: [{ dependency: b }]',
        '    b:',
        '      type: stratum.nodes.Microservice',
        '      properties: { image: a/b:1, network: core-net }',
        '      requirements: [{ dependency: a }]',
        '',
      ].join('\n'),
    );
    const processed = await processTemplate('stack.yaml', memorySource({ 'stack.yaml': text }), {
      profiles: [STRATUM_PROFILE],
    });
    expect(codes(processed.diagnostics)).toEqual(['TOSCA_REQUIREMENT_CYCLE@7']);
    expect(codes(checkStratumRules(processed.template!))).toEqual([]);
    const result = translateStack(processed.template!, view, { stack: 'demo' });
    expect(codes(result.diagnostics)).toEqual(['TOSCA_REQUIREMENT_CYCLE@4']);
    expect(result.plan).toBeUndefined();
  });
});

describe('Stratum translator decisions', () => {
  it('gives every log directory a pod volume: a tenant volume holding it, else an emptyDir (R-LG-3)', async () => {
    const text = stack(
      [
        '    ledger:',
        '      type: stratum.nodes.Microservice',
        '      properties:',
        '        image: registry.stratum.local/bank/ledger:1.0.0',
        '        network: core-net',
        '        volumes:',
        '          - { volume: ledger-archive, mount_path: /data }',
        '          - { volume: shared-docs, mount_path: /data/docs, read_only: true }',
        '          - { volume: shared-docs, mount_path: /docs }',
        '        log_files:',
        '          - { directory: /var/log, extension: .log }',
        "          - { directory: /var/log/app, extension: .log, multiline_pattern: '^\\S' }",
        '          - { directory: /data/docs/logs, extension: .txt }',
        '          - { directory: /data, extension: .out }',
        '          - { directory: /opt/app/logs, extension: .log }',
        '',
      ].join('\n'),
    );
    const result = await translate(text);
    expect(result.diagnostics.filter((d) => d.severity === 'error')).toEqual([]);
    const spec = deploymentOf(result.plan!.units[0].manifests);
    expect(spec.template.spec.volumes).toEqual([
      { name: 'vol-ledger-archive', persistentVolumeClaim: { claimName: 'vol-ledger-archive' } },
      { name: 'vol-shared-docs', persistentVolumeClaim: { claimName: 'vol-shared-docs' } },
      { name: 'logs-0', emptyDir: {} },
      { name: 'logs-1', emptyDir: {} },
    ]);
    expect(spec.template.spec.containers[0].volumeMounts).toEqual([
      { name: 'vol-ledger-archive', mountPath: '/data' },
      { name: 'vol-shared-docs', mountPath: '/data/docs', readOnly: true },
      { name: 'vol-shared-docs', mountPath: '/docs' },
      { name: 'logs-0', mountPath: '/var/log' },
      { name: 'logs-1', mountPath: '/opt/app/logs' },
    ]);
    const { labels, annotations } = spec.template.metadata;
    expect(labels[STRATUM_LABELS.appLogs]).toBe('true');
    expect(JSON.parse(annotations[STRATUM_ANNOTATIONS.logFiles])).toEqual([
      { directory: '/var/log', extension: '.log', volume: 'logs-0' },
      {
        directory: '/var/log/app',
        extension: '.log',
        multilinePattern: '^\\S',
        subPath: 'app',
        volume: 'logs-0',
      },
      { directory: '/data/docs/logs', extension: '.txt', subPath: 'logs', volume: 'vol-shared-docs' },
      { directory: '/data', extension: '.out', volume: 'vol-ledger-archive' },
      { directory: '/opt/app/logs', extension: '.log', volume: 'logs-1' },
    ]);
    // canonical JSON: sorted keys, no spaces (the log-shipper may compare it as text)
    expect(annotations[STRATUM_ANNOTATIONS.logFiles]).toMatch(/^\[\{"directory":"\/var\/log","extension"/);
  });

  it('hands out fixed IPs through the stratum.io/fixed-ips annotation and never surges (R-NW-1)', async () => {
    const text = stack(
      [
        '    gw:',
        '      type: stratum.nodes.Microservice',
        '      properties:',
        '        image: registry.stratum.local/edge/gw:1.0.0',
        '        network: dmz-net',
        '        replicas: 2',
        '        fixed_ips:',
        '          - { network: dmz-net, address: 10.30.0.7 }',
        '          - { network: dmz-net, address: 10.30.0.8 }',
        '',
      ].join('\n'),
    );
    const result = await translate(text);
    const spec = deploymentOf(result.plan!.units[0].manifests);
    expect(spec.template.metadata.annotations).toEqual({
      'k8s.v1.cni.cncf.io/networks': '[{"name":"tenant-network"}]',
      'stratum.io/fixed-ips': '10.30.0.7,10.30.0.8',
    });
    expect(spec.strategy).toEqual({
      type: 'RollingUpdate',
      rollingUpdate: { maxSurge: 0, maxUnavailable: 1 },
    });
  });

  it('keeps the platform labels and annotations, warning when the template sets another value', async () => {
    const text = stack(
      [
        '    api:',
        '      type: stratum.nodes.Microservice',
        '      properties:',
        '        image: registry.stratum.local/shop/api:1.0.0',
        '        network: core-net',
        '        labels: { app.kubernetes.io/name: backend, app.kubernetes.io/part-of: demo, tier: core }',
        "        annotations: { k8s.v1.cni.cncf.io/networks: 'macvlan', example.com/owner: me }",
        '',
      ].join('\n'),
    );
    const result = await translate(text);
    expect(codes(result.warnings, 'warning')).toEqual([
      'STRATUM_PLATFORM_KEY_OVERRIDDEN@9',
      'STRATUM_PLATFORM_KEY_OVERRIDDEN@10',
    ]);
    const [deployment] = result.plan!.units[0].manifests;
    expect(deployment.metadata.labels).toEqual({
      'app.kubernetes.io/managed-by': 'stratum',
      'app.kubernetes.io/name': 'api',
      'app.kubernetes.io/part-of': 'demo',
      'stratum.io/service': 'api',
      'stratum.io/stack': 'demo',
      tier: 'core',
    });
    // user annotations on the objects; the platform's pod annotations win on the pods
    expect(deployment.metadata.annotations).toEqual({
      'example.com/owner': 'me',
      'k8s.v1.cni.cncf.io/networks': 'macvlan',
    });
    expect(deploymentOf([deployment]).template.metadata.annotations['k8s.v1.cni.cncf.io/networks']).toBe(
      '[{"name":"tenant-network"}]',
    );
  });

  it('evaluates inputs supplied at deploy time', async () => {
    const text = [
      'tosca_definitions_version: tosca_simple_yaml_1_3',
      'topology_template:',
      '  inputs:',
      '    replicas: { type: integer }',
      '  node_templates:',
      '    api:',
      '      type: stratum.nodes.Microservice',
      '      properties:',
      '        image: registry.stratum.local/shop/api:1.0.0',
      '        network: core-net',
      '        replicas: { get_input: replicas }',
      '',
    ].join('\n');
    expect(codes((await translate(text)).diagnostics)).toEqual(['STRATUM_UNRESOLVED_VALUE@11']);
    const result = await translate(text, { inputs: { replicas: 4 } });
    expect(deploymentOf(result.plan!.units[0].manifests).replicas).toBe(4);
  });

  it('publishes one autoscaling policy per targeted microservice: enabled policies only, windows by start (R-AS-1..3)', async () => {
    const utilisation = [
      '          strategy: memory',
      '          upper_threshold: 90',
      '          lower_threshold: 10',
      '          duration: 0.5 m',
      '          step: 1',
      '          min_replicas: 1',
      '          max_replicas: 2',
      '          retrigger_time: 0 s',
    ];
    const text = stack(
      [
        '    api:',
        '      type: stratum.nodes.Microservice',
        '      properties:',
        '        image: registry.stratum.local/shop/api:1.0.0',
        '        network: core-net',
        '        resources: { memory_limit: 1Gi }',
        '        autoscaling_enabled: false',
        '',
      ].join('\n'),
      [
        '    - evening:',
        '        type: stratum.policies.scaling.Autoscaling',
        '        targets: [api]',
        '        properties:',
        "          windows: [{ start: '18:00', end: '20:00' }, { start: '06:00', end: '07:00' }]",
        ...utilisation,
        '    - off:',
        '        type: stratum.policies.scaling.Autoscaling',
        '        targets: [api]',
        '        properties:',
        '          enabled: false',
        "          windows: [{ start: '00:00', end: '00:00' }]",
        '          strategy: time',
        '          scheduled_replicas: 0',
        '',
      ].join('\n'),
    );
    const result = await translate(text);
    expect(result.plan!.autoscaling).toEqual([
      {
        service: 'api',
        environmentId: 'env-core',
        namespace: 'bank-retail-core-net',
        deployment: 'api',
        enabled: false,
        cycle: 'daily',
        windows: ['06:00', '18:00'].map((start) => ({
          start,
          end: start === '06:00' ? '07:00' : '20:00',
          strategy: {
            kind: 'memory',
            upperThreshold: 90,
            lowerThreshold: 10,
            durationSeconds: 30,
            step: 1,
            minReplicas: 1,
            maxReplicas: 2,
            retriggerSeconds: 0,
          },
        })),
      },
    ]);
  });
});
