import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * The latest Keystone members of each tenant, as the gateway publishes them (`tenant.members-changed`),
 * mirrored into every environment's RBAC (R-AU-6). One row per tenant: the newest state by
 * `observed_at` wins, whatever order events arrive in. No foreign key to `tenant`: members of a project
 * that is not registered yet are kept for when it is (and gets a network).
 */
export class CreateTenantMembers1765411200000 implements MigrationInterface {
  name = 'CreateTenantMembers1765411200000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      CREATE TABLE tenant_members (
        tenant_id   text        PRIMARY KEY,
        tenant_name text        NOT NULL,
        members     jsonb       NOT NULL,
        revision    text        NOT NULL,
        observed_at timestamptz NOT NULL,
        updated_at  timestamptz NOT NULL DEFAULT now()
      );
    `);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query('DROP TABLE tenant_members');
  }
}
