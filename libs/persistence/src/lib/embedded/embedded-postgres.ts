import { mkdirSync } from 'node:fs';
import { PGlite, types } from '@electric-sql/pglite';

/**
 * One embedded PostgreSQL (PGlite, WASM) shared by every service of the all-in-one process: one
 * instance costs ≈400 MB and ≈2 s to start, so services get a schema each instead of an instance each.
 *
 * PGlite has a single session. Every checkout (a TypeORM query runner, a transaction) takes the whole
 * session exclusively through a FIFO lock and sets `search_path` to its service's schema, so
 * transactions of different services never interleave and unqualified table names resolve per service,
 * exactly as they do against the service's own database in the distributed mode.
 */
export class EmbeddedPostgres {
  private tail: Promise<void> = Promise.resolve();
  private currentSchema: string | undefined;
  private readonly knownSchemas = new Set<string>();

  private constructor(
    readonly db: PGlite,
    readonly dataDir: string | undefined,
  ) {}

  /** `dataDir` undefined → in memory (tests); a folder → state survives restarts. */
  static async open(dataDir?: string): Promise<EmbeddedPostgres> {
    if (dataDir) mkdirSync(dataDir, { recursive: true });
    const db = await PGlite.create(dataDir, {
      // Same wire types as node-postgres gives, so entity code behaves the same in both modes.
      parsers: {
        [types.INT8]: (value: string) => value,
        [types.NUMERIC]: (value: string) => value,
      },
    });
    return new EmbeddedPostgres(db, dataDir);
  }

  /**
   * Takes the session exclusively for `schema`. The returned function gives it back.
   */
  async acquire(schema: string): Promise<() => void> {
    let release!: () => void;
    const previous = this.tail;
    this.tail = new Promise<void>((resolve) => (release = resolve));
    await previous;
    try {
      if (!this.knownSchemas.has(schema)) {
        await this.db.exec(`CREATE SCHEMA IF NOT EXISTS ${quoteIdent(schema)}`);
        this.knownSchemas.add(schema);
      }
      if (this.currentSchema !== schema) {
        await this.db.exec(`SET search_path TO ${quoteIdent(schema)}`);
        this.currentSchema = schema;
      }
    } catch (error) {
      release();
      throw error;
    }
    let released = false;
    return () => {
      if (!released) {
        released = true;
        release();
      }
    };
  }

  async close(): Promise<void> {
    await this.tail;
    await this.db.close();
  }
}

export function quoteIdent(name: string): string {
  if (!/^[a-z_][a-z0-9_]*$/.test(name)) throw new Error(`Unsafe SQL identifier "${name}"`);
  return `"${name}"`;
}
