import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Stacks, their revisions and the deployments that realise them (R-OR-4..7, issue #5 §4–6).
 *
 * - `stack`: one per tenant and name. `current_revision` is the revision running (the last one deployed
 *   successfully; null before the first success and after deletion). A deployment worker holds a lease
 *   in the row while it works on the stack's open deployment, like the resource-manager's tenant rows.
 * - `stack_revision`: every accepted template is a revision 1, 2, … with its translated plan (R-OR-7);
 *   an explicit rollback is a new revision whose plan is the restored one's (`restored_from`).
 * - `deployment`: one per change (its id is the operation id the API answers with): the target
 *   revision, the revision it replaces (`from_revision`), and every unit's progress, written before the
 *   next step so a restarted worker resumes where the last one stopped. At most one is open per stack.
 */
export class CreateStacks1765152000000 implements MigrationInterface {
  name = 'CreateStacks1765152000000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      CREATE TABLE stack (
        id               text        PRIMARY KEY,
        tenant_id        text        NOT NULL,
        name             text        NOT NULL,
        current_revision integer,
        latest_revision  integer     NOT NULL DEFAULT 0,
        status           text        NOT NULL
          CHECK (status IN ('deploying', 'deployed', 'failed', 'rolling-back', 'deleting', 'deleted')),
        lease_owner      text,
        lease_until      timestamptz,
        attempts         integer     NOT NULL DEFAULT 0,
        next_attempt_at  timestamptz,
        last_error       text,
        created_at       timestamptz NOT NULL DEFAULT now(),
        updated_at       timestamptz NOT NULL DEFAULT now(),
        CONSTRAINT stack_name_unique UNIQUE (tenant_id, name)
      );
      CREATE TABLE stack_revision (
        stack_id        text        NOT NULL REFERENCES stack (id),
        revision        integer     NOT NULL CHECK (revision > 0),
        plan            jsonb       NOT NULL,
        template        text,
        template_digest text        NOT NULL,
        restored_from   integer,
        outcome         text        NOT NULL DEFAULT 'pending'
          CHECK (outcome IN ('pending', 'deployed', 'failed', 'rolled-back', 'superseded')),
        requested_by    text,
        created_at      timestamptz NOT NULL DEFAULT now(),
        PRIMARY KEY (stack_id, revision)
      );
      CREATE TABLE deployment (
        id            text        PRIMARY KEY,
        stack_id      text        NOT NULL REFERENCES stack (id),
        tenant_id     text        NOT NULL,
        revision      integer     NOT NULL,
        from_revision integer,
        kind          text        NOT NULL CHECK (kind IN ('deploy', 'update', 'rollback', 'delete')),
        trigger       text        NOT NULL DEFAULT 'requested' CHECK (trigger IN ('requested', 'automatic')),
        caused_by     text        REFERENCES deployment (id),
        state         text        NOT NULL DEFAULT 'accepted'
          CHECK (state IN ('accepted', 'running', 'succeeded', 'failed')),
        units         jsonb       NOT NULL DEFAULT '{}'::jsonb,
        failed_unit   text,
        error         jsonb,
        requested_by  text,
        created_at    timestamptz NOT NULL DEFAULT now(),
        updated_at    timestamptz NOT NULL DEFAULT now(),
        started_at    timestamptz,
        finished_at   timestamptz
      );
      CREATE INDEX deployment_stack ON deployment (stack_id, created_at);
      CREATE UNIQUE INDEX deployment_one_open ON deployment (stack_id) WHERE state IN ('accepted', 'running');
    `);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query('DROP TABLE deployment; DROP TABLE stack_revision; DROP TABLE stack;');
  }
}
