/**
 * npm run bench:tosca — latency of checking and translating a Stratum stack template (issue #5):
 * per iteration processTemplate (YAML, imports, types, topology) with the Stratum profile, then
 * translateStack (the profile's processor rules, rule 10 against the tenant's resources, and the
 * translation into deployable units). Templates of BENCH_SIZES (50,500) microservices are generated
 * by tosca-templates.ts (realistic: ports, env, resources, probes, volumes, log files, labels, DAG
 * requirements across three networks, autoscaling policies); each size runs warm-up iterations and
 * then BENCH_ITERATIONS (200 for ≤ 100 nodes, 40 above) measured ones, reporting p50/p95/max.
 *
 * Targets (issue #5 acceptance, this machine): p50 ≤ 20 ms for 50 microservices, ≤ 250 ms for 500.
 * They are reported, not asserted: the bench exits non-zero only when processing fails (a template
 * not ok, or no plan), so that it can never measure error paths.
 */
import { cpus, totalmem } from 'node:os';
import { memorySource, processTemplate, translateStack } from '@stratum/tosca';
import { percentile } from '@stratum/util';
import { BENCH_TEMPLATE_FILE, benchTenantView, generateStackTemplate } from './tosca-templates';

const sizes = (process.env.BENCH_SIZES ?? '50,500').split(',').map((s) => Number(s.trim()));
const TARGETS: Record<number, number> = { 50: 20, 500: 250 };
const PROFILES = ['stratum-profile-1.0.yaml'];

interface Row {
  n: number;
  kib: number;
  lines: number;
  units: number;
  p50: number;
  p95: number;
  max: number;
  iterations: number;
}

async function processAndTranslateOnce(text: string, n: number): Promise<number> {
  const processed = await processTemplate(
    BENCH_TEMPLATE_FILE,
    memorySource({ [BENCH_TEMPLATE_FILE]: text }),
    {
      profiles: PROFILES,
    },
  );
  if (!processed.ok || !processed.template) {
    throw new Error(
      `the generated template of ${n} microservices is not valid:\n${processed.diagnostics
        .slice(0, 10)
        .map((d) => `  ${d.code} ${d.file}:${d.line}:${d.column} ${d.path}: ${d.message}`)
        .join('\n')}`,
    );
  }
  const translated = translateStack(processed.template, benchTenantView(), { stack: `bench-${n}` });
  if (!translated.ok || !translated.plan) {
    throw new Error(
      `the generated stack of ${n} microservices does not translate:\n${translated.diagnostics
        .slice(0, 10)
        .map((d) => `  ${d.code} ${d.file}:${d.line}:${d.column} ${d.path}: ${d.message}`)
        .join('\n')}`,
    );
  }
  return translated.plan.units.length;
}

async function measure(n: number): Promise<Row> {
  const text = generateStackTemplate(n);
  const iterations = Number(process.env.BENCH_ITERATIONS ?? (n <= 100 ? 200 : 40));
  const warmup = Math.max(5, Math.ceil(iterations / 4));
  let units = 0;
  for (let i = 0; i < warmup; i++) units = await processAndTranslateOnce(text, n);
  if (units !== n) throw new Error(`expected ${n} deployable units, got ${units}`);
  const samples: number[] = [];
  for (let i = 0; i < iterations; i++) {
    const t0 = performance.now();
    await processAndTranslateOnce(text, n);
    samples.push(performance.now() - t0);
  }
  return {
    n,
    kib: Buffer.byteLength(text) / 1024,
    lines: text.split('\n').length,
    units,
    p50: percentile(samples, 50),
    p95: percentile(samples, 95),
    max: Math.max(...samples),
    iterations,
  };
}

async function main(): Promise<void> {
  const cpu = cpus();
  console.log(
    `\nbench:tosca — processTemplate (Stratum profile) + translateStack (rules, tenant checks, translation), in process`,
  );
  console.log(
    `node ${process.version} on ${process.platform}/${process.arch}, ${cpu.length} × ${cpu[0]?.model ?? 'unknown CPU'}, ${(totalmem() / 1024 ** 3).toFixed(1)} GiB\n`,
  );
  const rows: Row[] = [];
  for (const n of sizes) rows.push(await measure(n));
  const ms = (v: number) => `${v.toFixed(1)} ms`.padStart(10);
  console.log(
    `${'nodes'.padStart(6)} ${'template'.padStart(16)} ${'p50'.padStart(10)} ${'p95'.padStart(10)} ${'max'.padStart(10)} ${'iterations'.padStart(11)}`,
  );
  for (const r of rows) {
    const size = `${r.kib.toFixed(0)} KiB/${r.lines} l`;
    console.log(
      `${String(r.n).padStart(6)} ${size.padStart(16)} ${ms(r.p50)} ${ms(r.p95)} ${ms(r.max)} ${String(r.iterations).padStart(11)}`,
    );
  }
  console.log('');
  for (const r of rows) {
    const target = TARGETS[r.n];
    if (target === undefined) continue;
    console.log(
      `target p50 ≤ ${target} ms for ${r.n} microservices: ${r.p50 <= target ? 'met' : 'MISSED'} (p50 ${r.p50.toFixed(1)} ms, ${((r.p50 / target) * 100).toFixed(0)} % of the target)`,
    );
  }
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
