import type { MigrationInterface, QueryRunner } from 'typeorm';

/** The last members revision published per tenant (R-AU-6 mirroring): each change is published once. */
export class CreateTenantMemberSnapshots1765324800000 implements MigrationInterface {
  name = 'CreateTenantMemberSnapshots1765324800000';

  async up(runner: QueryRunner): Promise<void> {
    await runner.query(`
      CREATE TABLE tenant_member_snapshots (
        tenant_id text PRIMARY KEY,
        revision text NOT NULL,
        published_at timestamptz NOT NULL
      )`);
  }

  async down(runner: QueryRunner): Promise<void> {
    await runner.query('DROP TABLE tenant_member_snapshots');
  }
}
