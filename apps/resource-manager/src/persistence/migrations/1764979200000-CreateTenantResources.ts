import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Desired state of every tenant's resources (R-NW-3..4, R-ST-1..4) and the operations that change it.
 *
 * - `tenant`: a Keystone project registered with the platform (its settings; R-AU-2: the platform never
 *   creates tenants, it only records what it needs about them). `generation` grows with every change of
 *   the tenant's desired state; the reconciler records the generation it converged (`reconciled_generation`)
 *   and holds a lease while it works, so one replica reconciles a tenant at a time.
 * - `environment` replaces `network_assignment`: assigning a network to a tenant is realising its
 *   environment. A network belongs to at most one tenant (its subnet is the tenant's, so policies that
 *   allow a linked subnet allow exactly that tenant).
 * - `nfs_server`, `nfs_assignment`, `volume`: R-ST-1..4.
 * - `operation`: the 202-and-poll record of every asynchronous change (`GET /api/v1/operations/{id}`).
 */
export class CreateTenantResources1764979200000 implements MigrationInterface {
  name = 'CreateTenantResources1764979200000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      CREATE TABLE tenant (
        id                    text        PRIMARY KEY,
        name                  text        NOT NULL,
        quota                 jsonb       NOT NULL,
        container_defaults    jsonb       NOT NULL,
        developer_groups      text[]      NOT NULL DEFAULT '{}',
        viewer_groups         text[]      NOT NULL DEFAULT '{}',
        version               integer     NOT NULL DEFAULT 1,
        generation            bigint      NOT NULL DEFAULT 1,
        reconciled_generation bigint      NOT NULL DEFAULT 0,
        lease_owner           text,
        lease_until           timestamptz,
        reconcile_attempts    integer     NOT NULL DEFAULT 0,
        next_attempt_at       timestamptz,
        last_error            text,
        last_reconciled_at    timestamptz,
        created_at            timestamptz NOT NULL DEFAULT now(),
        updated_at            timestamptz NOT NULL DEFAULT now(),
        CONSTRAINT tenant_name_unique UNIQUE (name)
      );
      CREATE INDEX tenant_pending ON tenant (id) WHERE generation > reconciled_generation;

      DROP TABLE network_assignment;
      CREATE TABLE environment (
        id          text        PRIMARY KEY,
        tenant_id   text        NOT NULL REFERENCES tenant (id),
        network_id  text        NOT NULL REFERENCES network (id),
        cluster_id  text        NOT NULL,
        namespace   text        NOT NULL,
        state       text        NOT NULL CHECK (state IN ('creating', 'ready', 'removing')),
        created_at  timestamptz NOT NULL DEFAULT now(),
        ready_at    timestamptz,
        CONSTRAINT environment_network_unique UNIQUE (network_id),
        CONSTRAINT environment_namespace_unique UNIQUE (cluster_id, namespace)
      );
      CREATE INDEX environment_tenant ON environment (tenant_id);

      CREATE TABLE nfs_server (
        id             text        PRIMARY KEY,
        name           text        NOT NULL,
        address        text        NOT NULL,
        export_path    text        NOT NULL,
        tier           text        NOT NULL CHECK (tier IN ('gold', 'silver', 'bronze')),
        capacity_bytes bigint      NOT NULL CHECK (capacity_bytes > 0),
        description    text,
        version        integer     NOT NULL DEFAULT 1,
        created_at     timestamptz NOT NULL DEFAULT now(),
        updated_at     timestamptz NOT NULL DEFAULT now(),
        CONSTRAINT nfs_server_name_unique UNIQUE (name),
        CONSTRAINT nfs_server_export_unique UNIQUE (address, export_path)
      );
      CREATE TABLE nfs_assignment (
        nfs_server_id      text        NOT NULL REFERENCES nfs_server (id),
        tenant_id          text        NOT NULL REFERENCES tenant (id),
        storage_class_name text        NOT NULL,
        state              text        NOT NULL CHECK (state IN ('installing', 'ready', 'removing')),
        assigned_at        timestamptz NOT NULL DEFAULT now(),
        PRIMARY KEY (nfs_server_id, tenant_id)
      );
      CREATE INDEX nfs_assignment_tenant ON nfs_assignment (tenant_id);

      CREATE TABLE volume (
        id              text        PRIMARY KEY,
        tenant_id       text        NOT NULL REFERENCES tenant (id),
        name            text        NOT NULL,
        nfs_server_id   text        NOT NULL REFERENCES nfs_server (id),
        size_bytes      bigint      NOT NULL CHECK (size_bytes > 0),
        export_sub_path text        NOT NULL,
        claim_name      text        NOT NULL,
        state           text        NOT NULL CHECK (state IN ('creating', 'resizing', 'ready', 'deleting')),
        version         integer     NOT NULL DEFAULT 1,
        created_at      timestamptz NOT NULL DEFAULT now(),
        updated_at      timestamptz NOT NULL DEFAULT now(),
        CONSTRAINT volume_name_unique UNIQUE (tenant_id, name)
      );

      CREATE TABLE operation (
        id                text        PRIMARY KEY,
        tenant_id         text,
        kind              text        NOT NULL,
        target_id         text        NOT NULL,
        state             text        NOT NULL CHECK (state IN ('accepted', 'running', 'succeeded', 'failed')),
        tenant_generation bigint,
        step              text,
        steps_done        integer     NOT NULL DEFAULT 0,
        steps_total       integer     NOT NULL DEFAULT 0,
        message           text,
        error             jsonb,
        requested_by      text        NOT NULL,
        created_at        timestamptz NOT NULL DEFAULT now(),
        updated_at        timestamptz NOT NULL DEFAULT now(),
        finished_at       timestamptz
      );
      CREATE INDEX operation_open ON operation (tenant_id, tenant_generation) WHERE state IN ('accepted', 'running');
    `);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`
      DROP TABLE operation; DROP TABLE volume; DROP TABLE nfs_assignment; DROP TABLE nfs_server; DROP TABLE environment;
      CREATE TABLE network_assignment (
        network_id  text        NOT NULL REFERENCES network (id),
        tenant_id   text        NOT NULL,
        assigned_at timestamptz NOT NULL DEFAULT now(),
        PRIMARY KEY (network_id, tenant_id)
      );
      DROP TABLE tenant;
    `);
  }
}
