import { EventEmitter } from 'node:events';
import type { EmbeddedPostgres } from './embedded-postgres';

/**
 * A node-postgres-shaped driver module (`{ Pool }`) over the shared embedded PostgreSQL, given to
 * TypeORM's postgres driver through its `driver` option. Only what TypeORM uses is implemented.
 */
type QueryCallback = (error: Error | null, result?: PgResult) => void;

interface PgResult {
  command: string;
  rowCount: number;
  rows: unknown[];
  fields: { name: string; dataTypeID: number }[];
}

class EmbeddedClient extends EventEmitter {
  constructor(private readonly embedded: EmbeddedPostgres) {
    super();
  }

  query(
    text: string,
    paramsOrCallback?: unknown[] | QueryCallback,
    callback?: QueryCallback,
  ): Promise<PgResult> | void {
    const params = Array.isArray(paramsOrCallback) ? paramsOrCallback : [];
    const cb = typeof paramsOrCallback === 'function' ? paramsOrCallback : callback;
    const promise = this.run(text, params);
    if (!cb) return promise;
    promise.then(
      (result) => cb(null, result),
      (error: Error) => cb(error),
    );
  }

  private async run(text: string, params: unknown[]): Promise<PgResult> {
    // `exec` runs several statements (migrations do); `query` binds parameters (one statement).
    const result = params.length
      ? await this.embedded.db.query(text, params.map(toWire))
      : (await this.embedded.db.exec(text)).at(-1);
    const rows = (result?.rows ?? []) as unknown[];
    const command = commandOf(text);
    return {
      command,
      rowCount: result?.affectedRows ?? rows.length,
      rows,
      fields: (result?.fields ?? []).map((f) => ({ name: f.name, dataTypeID: f.dataTypeID })),
    };
  }
}

function toWire(value: unknown): unknown {
  // node-postgres serializes plain objects as JSON; PGlite needs it done for json/jsonb parameters.
  if (
    value !== null &&
    typeof value === 'object' &&
    !(value instanceof Date) &&
    !Buffer.isBuffer(value) &&
    !Array.isArray(value)
  ) {
    return JSON.stringify(value);
  }
  return value;
}

function commandOf(text: string): string {
  const match = /^\s*(?:WITH\b[\s\S]*?\)\s*)?([A-Za-z]+)/.exec(text);
  return (match?.[1] ?? '').toUpperCase();
}

export function createEmbeddedDriver(
  embedded: EmbeddedPostgres,
  schema: string,
): { Pool: new (options: unknown) => unknown } {
  class Pool extends EventEmitter {
    private ended = false;

    constructor(_options: unknown) {
      super();
    }

    connect(
      callback: (error: Error | null, client?: EmbeddedClient, release?: (error?: unknown) => void) => void,
    ): void {
      if (this.ended) return callback(new Error('embedded pool has ended'));
      embedded.acquire(schema).then(
        (release) => callback(null, new EmbeddedClient(embedded), () => release()),
        (error: Error) => callback(error),
      );
    }

    end(callback?: (error?: Error) => void): void {
      this.ended = true;
      callback?.();
    }
  }
  return { Pool };
}
