import type { KubeObject } from '@stratum/kube';
import type { DeployUnit } from './deploy-plan';
import { canonicalJson, planProblems } from './deploy-plan';
import { diffUnits, staleObjects } from './unit-diff';

const deployment = (name: string, image: string, namespace = 'ns-x'): KubeObject => ({
  apiVersion: 'apps/v1',
  kind: 'Deployment',
  metadata: { name, namespace },
  spec: { replicas: 1, template: { spec: { containers: [{ name, image }] } } },
});
const service = (name: string, namespace = 'ns-x'): KubeObject => ({
  apiVersion: 'v1',
  kind: 'Service',
  metadata: { name, namespace },
  spec: { ports: [{ port: 80 }] },
});
const unit = (name: string, extra: Partial<DeployUnit> = {}): DeployUnit => ({
  name,
  clusterId: 'bench-a',
  namespace: 'ns-x',
  manifests: [deployment(name, `${name}:1`), service(name)],
  dependsOn: [],
  ...extra,
});

describe('unit diff (issue #5 §5)', () => {
  it('sorts units into added, removed, changed and unchanged', () => {
    const before = [unit('db'), unit('api', { dependsOn: ['db'] }), unit('old')];
    const after = [
      unit('db'),
      unit('api', { dependsOn: ['db'], manifests: [deployment('api', 'api:2'), service('api')] }),
      unit('web', { dependsOn: ['api'] }),
    ];
    expect(diffUnits(before, after)).toEqual({
      added: ['web'],
      removed: ['old'],
      changed: ['api'],
      unchanged: ['db'],
    });
  });

  it('does not see key order or dependency order as a change', () => {
    const reordered: KubeObject = {
      spec: { template: { spec: { containers: [{ image: 'api:1', name: 'api' }] } }, replicas: 1 },
      metadata: { namespace: 'ns-x', name: 'api' },
      kind: 'Deployment',
      apiVersion: 'apps/v1',
    };
    const before = [unit('api', { dependsOn: ['db', 'cache'] })];
    const after = [unit('api', { dependsOn: ['cache', 'db'], manifests: [reordered, service('api')] })];
    expect(diffUnits(before, after).unchanged).toEqual(['api']);
  });

  it('sees a new dependency, a moved unit and a reordered object list as changes', () => {
    const before = [unit('api')];
    expect(diffUnits(before, [unit('api', { dependsOn: ['db'] })]).changed).toEqual(['api']);
    expect(diffUnits(before, [unit('api', { clusterId: 'bench-b' })]).changed).toEqual(['api']);
    expect(
      diffUnits(before, [unit('api', { manifests: [service('api'), deployment('api', 'api:1')] })]).changed,
    ).toEqual(['api']);
  });

  it('compares identical revisions as all unchanged, and empty ones as nothing', () => {
    const plan = [unit('db'), unit('api', { dependsOn: ['db'] })];
    expect(diffUnits(plan, structuredClone(plan))).toEqual({
      added: [],
      removed: [],
      changed: [],
      unchanged: ['db', 'api'],
    });
    expect(diffUnits([], [])).toEqual({ added: [], removed: [], changed: [], unchanged: [] });
    expect(diffUnits([], plan).added).toEqual(['db', 'api']);
    expect(diffUnits(plan, []).removed).toEqual(['db', 'api']);
  });

  it('finds the objects a changed unit no longer declares, where they were', () => {
    const before = unit('api');
    expect(staleObjects(before, unit('api', { manifests: [deployment('api', 'api:2')] }))).toEqual([
      { clusterId: 'bench-a', object: service('api') },
    ]);
    const moved = unit('api', {
      clusterId: 'bench-b',
      namespace: 'ns-y',
      manifests: [deployment('api', 'api:1', 'ns-y'), service('api', 'ns-y')],
    });
    expect(staleObjects(before, moved).map((s) => `${s.clusterId}/${s.object.kind}`)).toEqual([
      'bench-a/Deployment',
      'bench-a/Service',
    ]);
    expect(staleObjects(before, unit('api'))).toEqual([]);
  });

  it('writes canonical JSON with sorted keys and without undefined fields', () => {
    expect(canonicalJson({ b: 1, a: { d: [2, { f: 1, e: undefined }], c: null } })).toBe(
      '{"a":{"c":null,"d":[2,{"f":1}]},"b":1}',
    );
  });
});

describe('plan shape', () => {
  const plan = (units: DeployUnit[]) => ({ tenantId: 't', stack: 's', units });

  it('accepts well-formed units', () => {
    expect(planProblems(plan([unit('db'), unit('api', { dependsOn: ['db'] })]))).toEqual([]);
  });

  it('names each bad field', () => {
    expect(planProblems(plan([]))).toEqual([{ field: 'units', message: 'a stack has at least one unit' }]);
    expect(
      planProblems(
        plan([
          unit('api', {
            manifests: [{ apiVersion: 'v1', kind: 'Service', metadata: {} }, deployment('api', 'a:1')],
          }),
          unit('web', { manifests: [deployment('web', 'web:1', 'elsewhere')] }),
          unit('db', { manifests: [deployment('api', 'x:1')] }),
          unit('', { clusterId: '', manifests: [] }),
        ]),
      ),
    ).toEqual([
      { field: 'units[0].manifests[0]', message: 'needs apiVersion, kind and metadata.name' },
      { field: 'units[1].manifests[0].metadata.namespace', message: "must be the unit's namespace ns-x" },
      { field: 'units[2].manifests[0]', message: 'Deployment api is also declared by unit api' },
      { field: 'units[3].name', message: 'is required' },
      { field: 'units[3].clusterId', message: 'is required' },
      { field: 'units[3].manifests', message: 'a unit has at least one object' },
    ]);
  });
});
