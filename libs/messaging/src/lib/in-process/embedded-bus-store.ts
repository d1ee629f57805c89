import type { EmbeddedPostgres } from '@stratum/persistence';
import type { BusStore, StoredRecord } from './in-process-bus';

const SCHEMA = 'stratum_bus';

/**
 * Keeps the all-in-one mode's bus in the embedded database (its own schema), so events acknowledged
 * by the bus and committed offsets survive a restart like they would on Kafka. Old messages beyond
 * the per-partition limit are trimmed, like retention.
 */
export class EmbeddedBusStore implements BusStore {
  private ready: Promise<void> | undefined;
  private appended = 0;

  constructor(
    private readonly embedded: EmbeddedPostgres,
    private readonly maxPerPartition = 100_000,
  ) {}

  private async session<T>(work: () => Promise<T>): Promise<T> {
    const release = await this.embedded.acquire(SCHEMA);
    try {
      this.ready ??= this.embedded.db
        .exec(
          `CREATE TABLE IF NOT EXISTS bus_log (
             topic text NOT NULL, partition integer NOT NULL, "offset" bigint NOT NULL,
             key text NOT NULL, value text NOT NULL, headers jsonb NOT NULL, ts bigint NOT NULL,
             PRIMARY KEY (topic, partition, "offset"));
           CREATE TABLE IF NOT EXISTS bus_offsets (
             group_id text NOT NULL, topic text NOT NULL, partition integer NOT NULL, next_offset bigint NOT NULL,
             PRIMARY KEY (group_id, topic, partition));`,
        )
        .then(() => undefined);
      await this.ready;
      return await work();
    } finally {
      release();
    }
  }

  load(maxPerPartition: number): Promise<Awaited<ReturnType<BusStore['load']>>> {
    return this.session(async () => {
      const records = await this.embedded.db.query<{
        topic: string;
        partition: number;
        offset: string;
        key: string;
        value: string;
        headers: Record<string, string>;
        ts: string;
      }>(
        `SELECT topic, partition, "offset", key, value, headers, ts FROM (
           SELECT *, row_number() OVER (PARTITION BY topic, partition ORDER BY "offset" DESC) AS age FROM bus_log
         ) recent WHERE age <= $1 ORDER BY topic, partition, "offset"`,
        [maxPerPartition],
      );
      const offsets = await this.embedded.db.query<{
        group_id: string;
        topic: string;
        partition: number;
        next_offset: string;
      }>('SELECT group_id, topic, partition, next_offset FROM bus_offsets');
      return {
        records: records.rows.map((r) => ({
          topic: r.topic,
          partition: r.partition,
          offset: Number(r.offset),
          key: r.key,
          value: r.value,
          headers: r.headers,
          timestamp: Number(r.ts),
        })),
        offsets: offsets.rows.map((o) => ({
          group: o.group_id,
          topic: o.topic,
          partition: o.partition,
          offset: Number(o.next_offset),
        })),
      };
    });
  }

  append(records: readonly StoredRecord[]): Promise<void> {
    if (records.length === 0) return Promise.resolve();
    return this.session(async () => {
      await this.embedded.db.query(
        `INSERT INTO bus_log (topic, partition, "offset", key, value, headers, ts)
         SELECT * FROM unnest($1::text[], $2::int[], $3::bigint[], $4::text[], $5::text[], $6::jsonb[], $7::bigint[])`,
        [
          records.map((r) => r.topic),
          records.map((r) => r.partition),
          records.map((r) => r.offset),
          records.map((r) => r.key),
          records.map((r) => r.value),
          records.map((r) => JSON.stringify(r.headers)),
          records.map((r) => r.timestamp),
        ],
      );
      this.appended += records.length;
      if (this.appended >= 10_000) {
        this.appended = 0;
        await this.embedded.db.query(
          `DELETE FROM bus_log l USING (
             SELECT topic, partition, max("offset") - $1 AS keep_from FROM bus_log GROUP BY topic, partition
           ) m WHERE l.topic = m.topic AND l.partition = m.partition AND l."offset" <= m.keep_from`,
          [this.maxPerPartition],
        );
      }
    });
  }

  commit(group: string, topic: string, partition: number, offset: number): Promise<void> {
    return this.session(async () => {
      await this.embedded.db.query(
        `INSERT INTO bus_offsets (group_id, topic, partition, next_offset) VALUES ($1, $2, $3, $4)
         ON CONFLICT (group_id, topic, partition) DO UPDATE SET next_offset = EXCLUDED.next_offset`,
        [group, topic, partition, offset],
      );
    });
  }
}
