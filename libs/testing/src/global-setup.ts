/**
 * Jest global setup: makes sure the real test bench can start, with no manual step.
 *  - PostgreSQL: reachable, or started when this machine has a local cluster and we are root;
 *    databases left behind by a killed run are dropped.
 *  - Kafka: the librdkafka mock-cluster harness is compiled (suites start their own clusters).
 */
import { execFileSync } from 'node:child_process';
import { existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { Client } from 'pg';
import { adminUrl, checkPostgres, creatorPid } from './lib/postgres';
import { isAlive } from './lib/process';

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
}
