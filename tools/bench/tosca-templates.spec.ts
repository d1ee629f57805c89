// bench:tosca must measure the success path: every template it generates is valid, is read by the
// fast YAML path, and translates into one deployable unit per microservice.
import { memorySource, processTemplate, translateStack } from '@stratum/tosca';
import { parseFast } from '../../libs/tosca/src/lib/fast-yaml';
import {
  BENCH_NETWORKS,
  BENCH_TEMPLATE_FILE,
  benchTenantView,
  generateStackTemplate,
  serviceName,
} from './tosca-templates';

describe('bench:tosca generated templates', () => {
  it.each([1, 2, 12, 50])('a stack of %i microservices is valid and translates', async (n) => {
    const text = generateStackTemplate(n);
    expect(generateStackTemplate(n)).toBe(text);
    expect(parseFast(text)).toBeDefined();
    const processed = await processTemplate(
      BENCH_TEMPLATE_FILE,
      memorySource({ [BENCH_TEMPLATE_FILE]: text }),
      {
        profiles: ['stratum-profile-1.0.yaml'],
      },
    );
    expect(processed.diagnostics).toEqual([]);
    expect(processed.ok).toBe(true);
    const template = processed.template!;
    expect(Object.keys(template.nodeTemplates)).toHaveLength(n);

    const translated = translateStack(template, benchTenantView(), { stack: `bench-${n}` });
    expect(translated.diagnostics.filter((d) => d.severity === 'error')).toEqual([]);
    expect(translated.ok).toBe(true);
    const units = translated.plan!.units;
    expect(units.map((u) => u.name).sort()).toEqual(
      Array.from({ length: n }, (_, i) => serviceName(i)).sort(),
    );
    // Dependencies point backwards only, so the deployment order starts with the first service.
    expect(units[0].name).toBe(serviceName(0));
    if (n >= BENCH_NETWORKS.length)
      expect(new Set(units.map((u) => u.networkName))).toEqual(new Set(BENCH_NETWORKS.map((w) => w.name)));
    if (n >= 12) expect(translated.plan!.autoscaling.length).toBeGreaterThan(0);
  });
});
