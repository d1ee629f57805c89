import { Client } from 'pg';
import {
  DataSource,
  type EntityManager,
  type EntitySchema,
  type Logger as TypeOrmLogger,
  type MixedList,
} from 'typeorm';
import { createEmbeddedDriver } from './embedded/pglite-pool';
import { type EmbeddedPostgres, quoteIdent } from './embedded/embedded-postgres';
import { SnakeNamingStrategy } from './naming-strategy';

/** Where a service keeps its state (SPEC R-ARCH-2: each service owns its store). */
export type DatabaseTarget =
  | { kind: 'postgres'; url: string; poolSize?: number; statementTimeoutMs?: number }
  | { kind: 'embedded'; embedded: EmbeddedPostgres; schema: string };

export interface DatabaseLog {
  info(message: string, fields?: Record<string, unknown>): void;
  warn(message: string, fields?: Record<string, unknown>): void;
  error(message: string, fields?: Record<string, unknown>): void;
}

export interface ServiceDatabaseOptions {
  target: DatabaseTarget;
  /** Shown in pg_stat_activity. */
  applicationName: string;
  // eslint-disable-next-line @typescript-eslint/no-unsafe-function-type
  entities?: MixedList<Function | string | EntitySchema>;
  // eslint-disable-next-line @typescript-eslint/no-unsafe-function-type
  migrations?: MixedList<Function | string>;
  log?: DatabaseLog;
}

const silent: DatabaseLog = { info: () => undefined, warn: () => undefined, error: () => undefined };

/**
 * A service's database: a TypeORM data source whose migrations have run (never `synchronize`), plus
 * LISTEN/NOTIFY and a readiness probe. The same migrations run on PostgreSQL and on the embedded one.
 */
export class ServiceDatabase {
  private listeners: (() => Promise<void>)[] = [];

  private constructor(
    readonly dataSource: DataSource,
    readonly target: DatabaseTarget,
    /** Schema holding the service's tables: `public` in its own PostgreSQL database. */
    readonly schema: string,
    private readonly log: DatabaseLog,
  ) {}

  static async open(options: ServiceDatabaseOptions): Promise<ServiceDatabase> {
    const log = options.log ?? silent;
    const { target } = options;
    const common = {
      type: 'postgres' as const,
      applicationName: options.applicationName,
      entities: options.entities ?? [],
      migrations: options.migrations ?? [],
      migrationsTableName: 'typeorm_migrations',
      synchronize: false,
      migrationsRun: false,
      namingStrategy: new SnakeNamingStrategy(),
      logger: typeOrmLogger(log),
      logging: ['error', 'warn', 'migration'] as ('error' | 'warn' | 'migration')[],
    };
    const dataSource =
      target.kind === 'postgres'
        ? new DataSource({
            ...common,
            url: target.url,
            poolSize: target.poolSize ?? 10,
            extra: { statement_timeout: target.statementTimeoutMs ?? 30_000 },
          })
        : new DataSource({
            ...common,
            // TypeORM's postgres driver over the embedded session; the pool sets search_path per checkout.
            driver: createEmbeddedDriver(target.embedded, target.schema),
            database: 'postgres',
          });
    await dataSource.initialize();
    try {
      const executed = await withMigrationLock(dataSource, target, () =>
        dataSource.runMigrations({ transaction: 'each' }),
      );
      for (const migration of executed) log.info('migration applied', { migration: migration.name });
    } catch (error) {
      await dataSource.destroy();
      throw error;
    }
    const schema = target.kind === 'embedded' ? target.schema : 'public';
    return new ServiceDatabase(dataSource, target, schema, log);
  }

  transaction<T>(work: (manager: EntityManager) => Promise<T>): Promise<T> {
    return this.dataSource.transaction(work);
  }

  /** Readiness: a round trip to the database within `timeoutMs`. */
  async ping(timeoutMs = 2_000): Promise<void> {
    let timer: NodeJS.Timeout | undefined;
    try {
      await Promise.race([
        this.dataSource.query('SELECT 1'),
        new Promise((_, reject) => {
          timer = setTimeout(
            () => reject(new Error(`database did not answer within ${timeoutMs} ms`)),
            timeoutMs,
          );
        }),
      ]);
    } finally {
      clearTimeout(timer);
    }
  }

  /**
   * LISTEN on `channel`; `onNotify` runs for every NOTIFY. On PostgreSQL a dedicated connection is
   * kept and re-opened after a failure; callers must still poll now and then (a NOTIFY sent while the
   * connection was down is lost).
   */
  async listen(channel: string, onNotify: (payload: string) => void): Promise<() => Promise<void>> {
    const target = this.target;
    let stop: () => Promise<void>;
    if (target.kind === 'embedded') {
      const release = await target.embedded.acquire(target.schema);
      let unlisten: () => Promise<void>;
      try {
        unlisten = await target.embedded.db.listen(channel, onNotify);
      } finally {
        release();
      }
      stop = async () => {
        const again = await target.embedded.acquire(target.schema);
        try {
          await unlisten();
        } finally {
          again();
        }
      };
    } else {
      let client: Client | undefined;
      let closed = false;
      const connect = async (): Promise<void> => {
        const next = new Client({ connectionString: target.url, application_name: 'stratum-listen' });
        next.on('notification', (message) => {
          if (message.channel === channel) onNotify(message.payload ?? '');
        });
        next.on('error', (error) => {
          this.log.warn('LISTEN connection failed; reconnecting', { channel, error: error.message });
          next.end().catch(() => undefined);
          if (!closed) setTimeout(() => void connect().catch(() => undefined), 1_000).unref();
        });
        await next.connect();
        await next.query(`LISTEN ${quoteIdent(channel)}`);
        client = next;
      };
      await connect();
      stop = async () => {
        closed = true;
        await client?.end().catch(() => undefined);
      };
    }
    this.listeners.push(stop);
    return stop;
  }

  async close(): Promise<void> {
    const listeners = this.listeners;
    this.listeners = [];
    await Promise.all(listeners.map((stop) => stop().catch(() => undefined)));
    if (this.dataSource.isInitialized) await this.dataSource.destroy();
  }
}

/**
 * Replicas of a service starting together on an empty database must not run the same migrations at
 * once: a session advisory lock lets one run them while the others wait, then find nothing to do.
 * (The embedded database belongs to one process, which already serialises its sessions.)
 */
async function withMigrationLock<T>(
  dataSource: DataSource,
  target: DatabaseTarget,
  work: () => Promise<T>,
): Promise<T> {
  if (target.kind === 'embedded') return work();
  const runner = dataSource.createQueryRunner();
  await runner.connect();
  const key = '7339164702934510133'; // fixed: one migration lock per database
  try {
    await runner.query('SELECT pg_advisory_lock($1::bigint)', [key]);
    return await work();
  } finally {
    await runner.query('SELECT pg_advisory_unlock($1::bigint)', [key]).catch(() => undefined);
    await runner.release();
  }
}

function typeOrmLogger(log: DatabaseLog): TypeOrmLogger {
  return {
    logQuery: () => undefined,
    logQueryError: (error, query) =>
      log.error('query failed', { error: typeof error === 'string' ? error : error.message, query }),
    logQuerySlow: (time, query) => log.warn('slow query', { ms: time, query }),
    logSchemaBuild: () => undefined,
    logMigration: (message) => log.info(message),
    log: (level, message) => (level === 'warn' ? log.warn(String(message)) : log.info(String(message))),
  };
}
