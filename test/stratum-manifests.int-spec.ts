/**
 * The translator's output against the real world (issue #5 §3): every object of every golden plan
 * is accepted by a real kube-apiserver 1.20 (server-side apply, dry run, in namespaces made for the
 * run), and the autoscaling policies satisfy the contract the orchestrator publishes them under
 * (stratum.orchestrator.autoscaling-policies-published.v1, R-OR-5).
 */
import { AutoscalingPoliciesPublished } from '@stratum/contracts';
import { KubeClusters, type KubeObject } from '@stratum/kube';
import { sharedKubeBench } from '@stratum/testing';
import {
  fileSystemSource,
  processAndTranslate,
  type StratumPlan,
  type StratumTenantView,
  validateStratumTemplate,
} from '@stratum/tosca';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';

const goldenDir = join(__dirname, '../libs/tosca/test/golden');
const goldens = readdirSync(goldenDir)
  .filter((f) => /^\d\d-.+\.yaml$/.test(f) && !f.endsWith('.expected.yaml'))
  .sort();
const view = JSON.parse(readFileSync(join(goldenDir, 'tenant-view.json'), 'utf8')) as StratumTenantView;

async function goldenPlan(file: string): Promise<StratumPlan> {
  const validation = await validateStratumTemplate(file, fileSystemSource(goldenDir));
  const stack = String(validation.template?.metadata.template_name);
  const result = await processAndTranslate(file, fileSystemSource(goldenDir), view, { stack });
  if (!result.plan) throw new Error(`${file}: ${JSON.stringify(result.diagnostics)}`);
  return result.plan;
}

describe('Stratum golden plans on a real kube-apiserver 1.20 (R-OR-2)', () => {
  const bench = sharedKubeBench();
  const clusters = KubeClusters.fromFile(bench.kubeconfigPath, { fieldManager: 'stratum-tosca-golden' });
  const client = clusters.client(bench.clusters[0].name);
  // one namespace per environment of the tenant view, unique to this run
  const namespaceOf = new Map(
    view.environments.map((e) => [e.namespace, `golden-${process.pid}-${e.networkName}`]),
  );

  beforeAll(async () => {
    for (const name of namespaceOf.values()) {
      await client.create({ apiVersion: 'v1', kind: 'Namespace', metadata: { name } });
    }
  });
  afterAll(async () => {
    for (const name of namespaceOf.values()) {
      await client.delete({ apiVersion: 'v1', kind: 'Namespace', name }).catch(() => undefined);
    }
  });

  it.each(goldens)('%s: the API server accepts every object as the translator wrote it', async (file) => {
    const plan = await goldenPlan(file);
    for (const unit of plan.units) {
      for (const manifest of unit.manifests) {
        const object = {
          ...manifest,
          metadata: { ...manifest.metadata, namespace: namespaceOf.get(unit.namespace) },
        } as KubeObject;
        const applied = await client.apply(object, { dryRun: true });
        // nothing the translator wrote was dropped or changed by validation and defaulting
        expect(applied.metadata?.labels).toEqual(manifest.metadata.labels);
        expect(applied).toMatchObject({ spec: manifest.spec as object });
      }
    }
  });

  it.each(goldens)(
    '%s: the autoscaling policies fit the published contract (R-OR-5, R-AS-1..4)',
    async (file) => {
      const plan = await goldenPlan(file);
      const event = AutoscalingPoliciesPublished.Schema.parse({
        tenantId: plan.tenantId,
        stackId: plan.stack,
        revision: 1,
        policies: plan.autoscaling,
      });
      expect(event.policies).toEqual(plan.autoscaling);
    },
  );
});
