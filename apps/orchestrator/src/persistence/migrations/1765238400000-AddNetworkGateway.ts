import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Each network's gateway in the tenant view, so that a template's fixed IP that is the gateway is
 * refused before deployment (rule 10, R-OR-3). Rows written before it hold '' until the network's
 * next network-recorded event: for them only the subnet is checked.
 */
export class AddNetworkGateway1765238400000 implements MigrationInterface {
  name = 'AddNetworkGateway1765238400000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`ALTER TABLE tv_network ADD COLUMN gateway text NOT NULL DEFAULT ''`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query('ALTER TABLE tv_network DROP COLUMN gateway');
  }
}
