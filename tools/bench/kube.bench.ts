/**
 * npm run bench:kube — the Kubernetes adapter against the real kube-apiserver 1.20 bench (issue #3),
 * and the same numbers for the sandbox cluster for comparison.
 *
 *  - server-side apply throughput: ConfigMaps (≈1 KiB) applied by C concurrent callers through the
 *    adapter, objects/s over the run, and apply round trip p50/p99;
 *  - watch event latency: an informer watches the namespace; for each apply, the time from issuing
 *    the request to the informer receiving the event, p50/p99.
 *
 * Environment: BENCH_OBJECTS (2000), BENCH_CONCURRENCY (16), BENCH_TARGETS (real,sandbox).
 * The real bench is built (first run only) and started here, then stopped.
 */
import { execFileSync } from 'node:child_process';
import { join } from 'node:path';
import { Informer, type KubeClient, KubeClusters, type KubeObject, SandboxCluster } from '@stratum/kube';
import { KubeBench } from '@stratum/testing';
import { percentile } from '@stratum/util';

const objects = Number(process.env.BENCH_OBJECTS ?? 2_000);
const concurrency = Number(process.env.BENCH_CONCURRENCY ?? 16);
const targets = (process.env.BENCH_TARGETS ?? 'real,sandbox').split(',').map((t) => t.trim());

interface Result {
  target: string;
  applyPerSecond: number;
  applyP50: number;
  applyP99: number;
  watchP50: number;
  watchP99: number;
  watchMax: number;
  missed: number;
}

async function measure(target: string, client: KubeClient): Promise<Result> {
  const namespace = `bench-${Date.now().toString(36)}`;
  await client.create({ apiVersion: 'v1', kind: 'Namespace', metadata: { name: namespace } });
  const sentAt = new Map<string, number>();
  const watchLatency: number[] = [];
  const informer = new Informer(client, 'v1', 'ConfigMap', { namespace });
  const seen = (object: KubeObject) => {
    const name = object.metadata!.name!;
    const sent = sentAt.get(name);
    if (sent === undefined) return;
    watchLatency.push(performance.now() - sent);
    sentAt.delete(name);
  };
  informer.on('add', seen).on('update', seen);
  await informer.start();

  const payload = 'x'.repeat(1_000);
  const applyLatency: number[] = [];
  let next = 0;
  const started = performance.now();
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      for (;;) {
        const i = next++;
        if (i >= objects) return;
        const name = `cm-${i}`;
        const t0 = performance.now();
        sentAt.set(name, t0);
        await client.apply({
          apiVersion: 'v1',
          kind: 'ConfigMap',
          metadata: { name, namespace, labels: { bench: 'kube' } },
          data: { payload, index: String(i) },
        });
        applyLatency.push(performance.now() - t0);
      }
    }),
  );
  const elapsed = (performance.now() - started) / 1_000;
  const deadline = Date.now() + 30_000;
  while (watchLatency.length < objects && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
  await informer.stop();
  await client.delete({ apiVersion: 'v1', kind: 'Namespace', name: namespace });
  return {
    target,
    applyPerSecond: Math.round(objects / elapsed),
    applyP50: percentile(applyLatency, 50),
    applyP99: percentile(applyLatency, 99),
    watchP50: percentile(watchLatency, 50),
    watchP99: percentile(watchLatency, 99),
    watchMax: Math.max(...watchLatency),
    missed: objects - watchLatency.length,
  };
}

async function main(): Promise<void> {
  const results: Result[] = [];
  if (targets.includes('real')) {
    execFileSync('bash', [join(__dirname, '../kube-bench/build.sh')], {
      stdio: ['ignore', 'ignore', 'inherit'],
    });
    const bench = await KubeBench.start({ clusters: ['bench'], controllers: false });
    try {
      const clusters = KubeClusters.fromYaml(bench.kubeconfig, { fieldManager: 'stratum-bench' });
      results.push(await measure('real kube-apiserver 1.20.2', clusters.client('bench')));
      await clusters.close();
    } finally {
      await bench.stop();
    }
  }
  if (targets.includes('sandbox')) {
    const sandbox = await SandboxCluster.start({ name: 'sandbox', controllers: false });
    try {
      const clusters = KubeClusters.fromYaml(sandbox.kubeconfig(), { fieldManager: 'stratum-bench' });
      results.push(await measure('sandbox cluster', clusters.client()));
      await clusters.close();
    } finally {
      await sandbox.stop();
    }
  }
  const ms = (v: number) => `${v.toFixed(1)} ms`;
  console.log(
    `\nbench:kube — ${objects} ConfigMaps (1 KiB) by server-side apply, ${concurrency} concurrent callers\n`,
  );
  console.log(
    'target                       apply obj/s  apply p50   apply p99   watch p50   watch p99   watch max   missed',
  );
  for (const r of results) {
    console.log(
      `${r.target.padEnd(28)} ${String(r.applyPerSecond).padStart(11)}  ${ms(r.applyP50).padStart(9)}  ${ms(r.applyP99).padStart(9)}  ${ms(r.watchP50).padStart(9)}  ${ms(r.watchP99).padStart(9)}  ${ms(r.watchMax).padStart(9)}  ${String(r.missed).padStart(6)}`,
    );
  }
  console.log('\nwatch latency: from issuing the apply to the informer receiving its event.');
  if (results.some((r) => r.missed > 0)) process.exitCode = 1;
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
