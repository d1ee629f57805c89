/**
 * Jest global setup: makes sure the real test bench can start, with no manual step.
 *  - PostgreSQL: reachable, or started when this machine has a local cluster and we are root;
 *    databases left behind by a killed run are dropped.
 *  - Kafka: the librdkafka mock-cluster harness is compiled (suites start their own clusters).
 *  - Kubernetes: the 1.20.2 binaries are built (first run only), benches left by a killed run are
 *    removed, and ONE shared KubeBench (bench-a, bench-b, with controllers) is started for the whole
 *    run; tests find it through sharedKubeBench(). global-teardown.ts stops it.
 *  - Keystone: the bootstrapped database every KeystoneBench copies is built once per machine (≈12 s,
 *    alongside the kube bench's start) rather than by two workers at once; benches and registries
 *    left by a killed run are removed.
 */
import { execFileSync } from 'node:child_process';
import { existsSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Client } from 'pg';
import {
  cleanupLeftoverKubeBenches,
  ensureKubeBinaries,
  KubeBench,
  SHARED_KUBE_BENCH_ENV,
} from './lib/kube-bench';
import { cleanupLeftoverKeystoneBenches, ensureKeystoneTemplate } from './lib/keystone-bench';
import { cleanupLeftoverRegistryBenches } from './lib/registry-bench';
import { adminUrl, checkPostgres, creatorPid } from './lib/postgres';
import { isAlive } from './lib/process';

/** Global setup and teardown run in the same process: globalThis carries the bench between them. */
const sharedBenchHolder = globalThis as { stratumSharedKubeBench?: KubeBench };

async function ensurePostgres(): Promise<void> {
  try {
    await checkPostgres();
    return;
  } catch (error) {
    const clusters = existsSync('/etc/postgresql') ? readdirSync('/etc/postgresql') : [];
    if (process.getuid?.() !== 0 || clusters.length === 0) throw error;
    execFileSync('pg_ctlcluster', ['--skip-systemctl-redirect', clusters[0], 'main', 'start'], {
      stdio: 'inherit',
    });
    await checkPostgres();
  }
}

/** Databases left by a run that was killed (its creating process is gone). */
async function dropLeftoverDatabases(): Promise<void> {
  const client = new Client({ connectionString: adminUrl() });
  await client.connect();
  try {
    const { rows } = await client.query<{ datname: string }>(
      "SELECT datname FROM pg_database WHERE datname LIKE 'stratum_t_%'",
    );
    for (const { datname } of rows) {
      const pid = creatorPid(datname);
      if (pid !== undefined && isAlive(pid)) continue;
      await client.query(`DROP DATABASE IF EXISTS "${datname}" WITH (FORCE)`);
    }
  } finally {
    await client.end();
  }
}

export default async function globalSetup(): Promise<void> {
  await ensurePostgres();
  await dropLeftoverDatabases();
  // Compiled once here rather than by two workers at the same time.
  execFileSync('bash', [join(__dirname, '../../../tools/kafka-mock/build.sh')], {
    stdio: ['ignore', 'ignore', 'inherit'],
  });
  cleanupLeftoverKeystoneBenches();
  cleanupLeftoverRegistryBenches();
  // Its keystone-manage runs are child processes: they proceed while the kube bench starts.
  const keystone = prepareKeystone();
  await startSharedKubeBench();
  await keystone;
}

/**
 * Keystone's bootstrap once per machine, here rather than by two workers at once (the build is also
 * safe when they do: a lock and an atomic rename). A failure is only reported: suites that start a
 * KeystoneBench fail with its full message, the others need no Keystone.
 */
async function prepareKeystone(): Promise<void> {
  try {
    const keystone = await ensureKeystoneTemplate();
    if (keystone.built) {
      process.stdout.write(
        `\nkeystone bench: bootstrapped in ${(keystone.ms / 1000).toFixed(1)} s (cached from now on)\n`,
      );
    }
  } catch (error) {
    process.stderr.write(`\nkeystone bench: cannot prepare Keystone: ${(error as Error).message}\n`);
  }
}

async function startSharedKubeBench(): Promise<void> {
  const binaries = ensureKubeBinaries();
  cleanupLeftoverKubeBenches();
  const bench = await KubeBench.start();
  sharedBenchHolder.stratumSharedKubeBench = bench;
  // Workers are forked after global setup with a copy of this environment, so the variable reaches
  // them (and the in-band runner, which is this process). The file keeps it small and readable.
  const infoPath = join(bench.dir, 'bench-info.json');
  writeFileSync(infoPath, JSON.stringify(bench.info(), null, 2));
  process.env[SHARED_KUBE_BENCH_ENV] = infoPath;
  const seconds = (bench.timings.totalMs / 1000).toFixed(1);
  const build = binaries.built ? `binaries built in ${(binaries.ms / 1000).toFixed(0)} s` : 'binaries cached';
  process.stdout.write(`\nkube bench: ${bench.clusters.length} clusters up in ${seconds} s (${build})\n`);
}
