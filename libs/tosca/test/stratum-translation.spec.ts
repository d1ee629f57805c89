// Golden translations (issue #5 §3, R-OR-2..5): every test/golden/NN-*.yaml, translated for the tenant
// of golden/tenant-view.json under the stack name of its metadata.template_name, rendered with
// renderPlan (warnings as leading comments) and compared byte for byte with NN-*.expected.yaml.
// `UPDATE_GOLDEN=1 npm test -- libs/tosca/test/stratum-translation.spec.ts` rewrites the expected
// files; review the diff before committing it.
import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import * as path from 'node:path';
import {
  fileSystemSource,
  processAndTranslate,
  renderManifests,
  renderPlan,
  type StratumTenantView,
  translateStack,
  validateStratumTemplate,
} from '../src';

const dir = path.join(__dirname, 'golden');
const goldens = readdirSync(dir)
  .filter((f) => /^\d\d-.+\.yaml$/.test(f) && !f.endsWith('.expected.yaml'))
  .sort();
const view = JSON.parse(readFileSync(path.join(dir, 'tenant-view.json'), 'utf8')) as StratumTenantView;
const update = process.env.UPDATE_GOLDEN === '1';

interface ObjectSpec {
  ports?: Array<{ protocol?: string }>;
  selector?: { matchLabels: Record<string, string> };
  template?: {
    metadata: { labels: Record<string, string> };
    spec: { containers: Array<{ ports?: Array<{ protocol?: string }> }> };
  };
}

async function translateGolden(file: string) {
  const validation = await validateStratumTemplate(file, fileSystemSource(dir));
  const stack = String(validation.template?.metadata.template_name);
  const result = await processAndTranslate(file, fileSystemSource(dir), view, { stack });
  return { validation, result };
}

describe('Stratum translator on the golden templates (R-OR-2)', () => {
  it('covers the five golden templates of the profile, and more', () => {
    expect(goldens.length).toBeGreaterThanOrEqual(5);
  });

  it.each(goldens)('%s translates to its expected plan, byte for byte', async (file) => {
    const { validation, result } = await translateGolden(file);
    expect(validation.diagnostics.filter((d) => d.severity === 'error')).toEqual([]);
    expect(result.diagnostics.filter((d) => d.severity === 'error')).toEqual([]);
    expect(result.ok).toBe(true);
    const text = renderPlan(result.plan!, result.warnings);
    const expectedFile = path.join(dir, file.replace(/\.yaml$/, '.expected.yaml'));
    if (update) writeFileSync(expectedFile, text);
    expect(text).toBe(readFileSync(expectedFile, 'utf8'));
  });

  it.each(goldens)('%s translates to the same bytes every time (deterministic)', async (file) => {
    const first = (await translateGolden(file)).result;
    const second = (await translateGolden(file)).result;
    expect(renderPlan(second.plan!, second.warnings)).toBe(renderPlan(first.plan!, first.warnings));
    expect(JSON.stringify(second.plan)).toBe(JSON.stringify(first.plan));
    // the same model translated twice, too (no state kept between calls)
    const template = first.template!;
    const again = translateStack(template, view, { stack: first.plan!.stack });
    const twice = translateStack(template, view, { stack: first.plan!.stack });
    expect(renderManifests(twice.plan!)).toBe(renderManifests(again.plan!));
  });

  it('keeps every object in its unit namespace with the Kubernetes 1.20 must-haves (protocols, selectors)', async () => {
    for (const file of goldens) {
      const { plan } = (await translateGolden(file)).result;
      for (const unit of plan!.units) {
        for (const object of unit.manifests) {
          expect(object.metadata.namespace).toBe(unit.namespace);
          const spec = object.spec as ObjectSpec;
          if (object.kind === 'Service') {
            for (const port of spec.ports ?? []) expect(port.protocol).toMatch(/^(TCP|UDP)$/);
          }
          if (object.kind === 'Deployment') {
            const labels = spec.template!.metadata.labels;
            for (const [k, v] of Object.entries(spec.selector!.matchLabels)) expect(labels[k]).toBe(v);
            for (const c of spec.template!.spec.containers) {
              for (const port of c.ports ?? []) expect(port.protocol).toMatch(/^(TCP|UDP)$/);
            }
          }
        }
      }
    }
  });

  it('orders golden 02 db, api, web (R-OR-4) and places them by network (R-NW-5)', async () => {
    const { plan } = (await translateGolden('02-three-services-two-networks.yaml')).result;
    expect(plan!.units.map((u) => [u.name, u.networkName, u.dependsOn])).toEqual([
      ['db', 'core-net', []],
      ['api', 'core-net', ['db']],
      ['web', 'dmz-net', ['api']],
    ]);
  });
});
