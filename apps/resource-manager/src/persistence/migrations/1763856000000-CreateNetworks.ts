import type { MigrationInterface, QueryRunner } from 'typeorm';

/** Network records (R-NW-2) and which tenants have them (R-NW-3). */
export class CreateNetworks1763856000000 implements MigrationInterface {
  name = 'CreateNetworks1763856000000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      CREATE TABLE network (
        id               text        PRIMARY KEY,
        name             text        NOT NULL,
        cidr             text        NOT NULL,
        gateway          text        NOT NULL,
        vlan             integer     CHECK (vlan BETWEEN 1 AND 4094),
        parent_interface text,
        security_domain  text        NOT NULL,
        isolation_domain text        NOT NULL,
        cluster_id       text        NOT NULL,
        description      text,
        version          integer     NOT NULL DEFAULT 1,
        created_at       timestamptz NOT NULL DEFAULT now(),
        updated_at       timestamptz NOT NULL DEFAULT now(),
        CONSTRAINT network_name_unique UNIQUE (name)
      );
      CREATE INDEX network_isolation_domain ON network (isolation_domain);
      CREATE TABLE network_assignment (
        network_id  text        NOT NULL REFERENCES network (id),
        tenant_id   text        NOT NULL,
        assigned_at timestamptz NOT NULL DEFAULT now(),
        PRIMARY KEY (network_id, tenant_id)
      );
    `);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query('DROP TABLE network_assignment; DROP TABLE network;');
  }
}
