import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Outbox and inbox tables. Every service with a database lists this migration first; the tables live in
 * the service's own database (schema in the all-in-one mode).
 */
export class CreateMessagingTables1763769600000 implements MigrationInterface {
  name = 'CreateMessagingTables1763769600000';

  async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`
      -- Rows are pending events: the relay deletes a row once the bus acknowledged it (a deleted row
      -- leaves less behind than an updated one: no new tuple, no index entries).
      CREATE TABLE outbox (
        seq        bigserial PRIMARY KEY,
        event_id   uuid        NOT NULL,
        topic      text        NOT NULL,
        key        text        NOT NULL,
        headers    jsonb       NOT NULL DEFAULT '{}'::jsonb,
        payload    text        NOT NULL,
        created_at timestamptz NOT NULL DEFAULT now()
      ) WITH (autovacuum_vacuum_scale_factor = 0, autovacuum_vacuum_threshold = 10000, autovacuum_vacuum_cost_delay = 0);
      -- Wakes the relay as soon as a transaction that wrote events commits (NOTIFY is sent on commit).
      CREATE FUNCTION outbox_notify() RETURNS trigger LANGUAGE plpgsql AS $$
      BEGIN
        PERFORM pg_notify('stratum_outbox_' || current_schema(), '');
        RETURN NULL;
      END $$;
      CREATE TRIGGER outbox_notify AFTER INSERT ON outbox FOR EACH STATEMENT EXECUTE FUNCTION outbox_notify();
      CREATE TABLE inbox (
        consumer_group text        NOT NULL,
        event_id       uuid        NOT NULL,
        topic          text        NOT NULL,
        partition      integer     NOT NULL,
        "offset"       bigint      NOT NULL,
        processed_at   timestamptz NOT NULL DEFAULT now(),
        PRIMARY KEY (consumer_group, event_id)
      );
      CREATE INDEX inbox_processed_at ON inbox (processed_at);
    `);
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`
      DROP TABLE inbox;
      DROP TRIGGER outbox_notify ON outbox;
      DROP FUNCTION outbox_notify();
      DROP TABLE outbox;
    `);
  }
}
