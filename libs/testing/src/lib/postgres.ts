import { randomBytes } from 'node:crypto';
import { Client } from 'pg';

/** Admin connection of the bench PostgreSQL (local server, trust auth). Override with STRATUM_TEST_PG_ADMIN_URL. */
export function adminUrl(): string {
  return process.env.STRATUM_TEST_PG_ADMIN_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';
}

export interface TestDatabase {
  name: string;
  url: string;
  drop(): Promise<void>;
}

/** A fresh, empty database for one test suite; the service's own migrations are applied on open. */
export async function createTestDatabase(label = 'suite'): Promise<TestDatabase> {
  // The creating process's pid is part of the name, so a later run drops only databases whose
  // creator is gone (a killed run), never those of a run still going on.
  const slug = label
    .replace(/[^a-z0-9]/gi, '_')
    .toLowerCase()
    .slice(0, 24);
  const name = `stratum_t_${process.pid}_${slug}_${randomBytes(4).toString('hex')}`;
  const admin = new Client({ connectionString: adminUrl() });
  await admin.connect();
  try {
    await admin.query(`CREATE DATABASE "${name}"`);
  } finally {
    await admin.end();
  }
  const url = new URL(adminUrl());
  url.pathname = `/${name}`;
  return {
    name,
    url: url.toString(),
    async drop() {
      const client = new Client({ connectionString: adminUrl() });
      await client.connect();
      try {
        await client.query(`DROP DATABASE IF EXISTS "${name}" WITH (FORCE)`);
      } finally {
        await client.end();
      }
    },
  };
}

/** Pid of the process that created a bench database, from its name. */
export function creatorPid(databaseName: string): number | undefined {
  const match = /^stratum_t_(\d+)_/.exec(databaseName);
  return match ? Number(match[1]) : undefined;
}

/** Throws a message that says what to do when the bench PostgreSQL is not reachable. */
export async function checkPostgres(): Promise<void> {
  const client = new Client({ connectionString: adminUrl(), connectionTimeoutMillis: 3_000 });
  try {
    await client.connect();
    await client.query('SELECT 1');
  } catch (error) {
    throw new Error(
      `The test bench needs PostgreSQL at ${adminUrl()} (${(error as Error).message}).\n` +
        'Start it (Debian: pg_ctlcluster --skip-systemctl-redirect $(ls /etc/postgresql) main start), ' +
        'or point STRATUM_TEST_PG_ADMIN_URL at a server where the user may CREATE DATABASE.',
    );
  } finally {
    await client.end().catch(() => undefined);
  }
}
