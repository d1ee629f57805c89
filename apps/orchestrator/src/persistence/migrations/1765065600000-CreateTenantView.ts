import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * The orchestrator's own view of each tenant's resources, built from the resource-manager's events
 * (R-OR-3): networks by name, environments, NFS servers and volumes. Every row remembers the time of
 * the event that last wrote it (`event_time`) and removals leave a tombstone (`removed`), so events of
 * one resource arriving out of order across topics never bring back something that was removed.
 */
export class CreateTenantView1765065600000 implements MigrationInterface {
  name = 'CreateTenantView1765065600000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      CREATE TABLE tv_network (
        network_id       text        PRIMARY KEY,
        name             text        NOT NULL,
        cidr             text        NOT NULL,
        security_domain  text        NOT NULL,
        isolation_domain text        NOT NULL,
        cluster_id       text        NOT NULL,
        removed          boolean     NOT NULL DEFAULT false,
        event_time       timestamptz NOT NULL
      );
      CREATE TABLE tv_environment (
        environment_id     text        PRIMARY KEY,
        tenant_id          text        NOT NULL,
        network_id         text        NOT NULL,
        cluster_id         text,
        namespace          text,
        security_domain    text,
        isolation_domain   text,
        network_attachment text,
        dns_suffix         text,
        ready              boolean     NOT NULL DEFAULT false,
        removed            boolean     NOT NULL DEFAULT false,
        event_time         timestamptz NOT NULL
      );
      CREATE INDEX tv_environment_tenant ON tv_environment (tenant_id);
      CREATE TABLE tv_nfs_server (
        tenant_id          text        NOT NULL,
        nfs_server_id      text        NOT NULL,
        tier               text        NOT NULL,
        storage_class_name text        NOT NULL,
        removed            boolean     NOT NULL DEFAULT false,
        event_time         timestamptz NOT NULL,
        PRIMARY KEY (tenant_id, nfs_server_id)
      );
      CREATE TABLE tv_volume (
        volume_id       text        PRIMARY KEY,
        tenant_id       text        NOT NULL,
        name            text        NOT NULL,
        nfs_server_id   text,
        size_bytes      bigint,
        export_sub_path text,
        claim_name      text,
        removed         boolean     NOT NULL DEFAULT false,
        event_time      timestamptz NOT NULL
      );
      CREATE INDEX tv_volume_tenant ON tv_volume (tenant_id);
    `);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(
      'DROP TABLE tv_volume; DROP TABLE tv_nfs_server; DROP TABLE tv_environment; DROP TABLE tv_network;',
    );
  }
}
