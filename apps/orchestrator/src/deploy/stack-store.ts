/**
 * The request side of stack deployment (issue #5 §4, R-OR-6/7): every accepted plan becomes revision
 * n+1 of its stack together with the deployment that will bring it up, in one transaction with the
 * StackRevisionAccepted event; rollbacks and deletion are requested the same way. The deployment worker
 * does the work. Every read and change is scoped to the caller's tenant: another tenant's stack is
 * simply not found.
 *
 * One deployment runs per stack at a time (unique index); a request while one is open is refused with
 * 409 rather than queued, so what runs is always what was last accepted.
 */
import { randomUUID } from 'node:crypto';
import { AutoscalingPoliciesPublished, StackRevisionAccepted } from '@stratum/contracts';
import type { Outbox } from '@stratum/messaging';
import type { ServiceDatabase } from '@stratum/persistence';
import type { EntityManager } from 'typeorm';
import { z } from 'zod';
import { conflict, invalidPlan, notFound, stackNotFound } from './deploy-errors';
import {
  type Deployment,
  deploymentOf,
  type DeploymentKind,
  type DeploymentRow,
  returning,
  type RevisionRow,
  revisionOf,
  type Stack,
  stackOf,
  type StackRevision,
  type StackRevisionDetail,
  type StackRow,
} from './deploy-model';
import { canonicalJson, objectKey, planProblems, sha256Hex, type StackRevisionPlan } from './deploy-plan';
import { environmentIds } from './environment-ids';
import { UnitGraph, UnitGraphError } from './unit-graph';

export interface AcceptedChange {
  stack: Stack;
  revision: StackRevision;
  deployment: Deployment;
}

const OPEN_HINT =
  'Wait until the running deployment of this stack has finished (see its operation), then retry.';

export class StackStore {
  constructor(
    private readonly database: ServiceDatabase,
    private readonly outbox: Outbox,
  ) {}

  /**
   * Records the plan as the stack's next revision and the deployment that brings it up: `deploy` when
   * nothing of the stack is running, `update` (changed and added units only) when a revision is.
   */
  async acceptRevision(
    plan: StackRevisionPlan,
    templateText: string | null,
    options: { requestedBy?: string } = {},
  ): Promise<AcceptedChange> {
    checkPlan(plan);
    return this.database.transaction(async (manager) => {
      await manager.query(
        `INSERT INTO stack (id, tenant_id, name, status) VALUES ($1, $2, $3, 'deploying')
         ON CONFLICT (tenant_id, name) DO NOTHING`,
        [randomUUID(), plan.tenantId, plan.stack],
      );
      const stack = (await lockStack(manager, plan.tenantId, { name: plan.stack }))!;
      await refuseIfBusy(manager, stack);
      await refuseIfClaimed(manager, stack, plan);
      const kind: DeploymentKind = stack.currentRevision === null ? 'deploy' : 'update';
      return this.record(manager, stack, {
        plan,
        template: templateText,
        kind,
        restoredFrom: null,
        requestedBy: options.requestedBy ?? null,
        status: 'deploying',
      });
    });
  }

  /**
   * Restores revision `toRevision` (R-OR-7). Only a revision that was deployed successfully can be
   * restored. The restore is recorded as a new revision n+1 whose plan is `toRevision`'s (so revision
   * numbers only grow and the audit trail reads in order), deployed as a `rollback`.
   */
  async requestRollback(
    tenantId: string,
    stackId: string,
    toRevision: number,
    options: { requestedBy?: string } = {},
  ): Promise<AcceptedChange> {
    return this.database.transaction(async (manager) => {
      const stack = await lockStack(manager, tenantId, { id: stackId });
      if (!stack) throw stackNotFound('stackId', stackId);
      if (stack.status === 'deleted') {
        throw conflict('stackId', 'the stack was deleted', 'Submit a template to create the stack again.');
      }
      await refuseIfBusy(manager, stack);
      const rows = await manager.query<RevisionRow[]>(
        'SELECT * FROM stack_revision WHERE stack_id = $1 AND revision = $2',
        [stack.id, toRevision],
      );
      const target = rows[0];
      if (!target) {
        throw notFound(
          'revision',
          'toRevision',
          String(toRevision),
          `The stack has revisions 1 to ${stack.latestRevision}.`,
        );
      }
      if (toRevision === stack.currentRevision) {
        throw conflict(
          'toRevision',
          `revision ${toRevision} is already running`,
          'Pick an earlier revision.',
        );
      }
      if (target.outcome !== 'deployed' && target.outcome !== 'superseded') {
        throw conflict(
          'toRevision',
          `revision ${toRevision} was never deployed successfully (its outcome is ${target.outcome})`,
          'Only revisions that were deployed successfully can be restored; list the revisions and their outcomes.',
        );
      }
      await refuseIfClaimed(manager, stack, target.plan!);
      return this.record(manager, stack, {
        plan: target.plan!,
        template: target.template ?? null,
        kind: 'rollback',
        restoredFrom: toRevision,
        requestedBy: options.requestedBy ?? null,
        status: 'rolling-back',
      });
    });
  }

  /** Removes every unit of the stack, dependents first; the stack stays on record as `deleted`. */
  async requestDelete(
    tenantId: string,
    stackId: string,
    options: { requestedBy?: string } = {},
  ): Promise<{ stack: Stack; deployment: Deployment }> {
    return this.database.transaction(async (manager) => {
      const stack = await lockStack(manager, tenantId, { id: stackId });
      if (!stack) throw stackNotFound('stackId', stackId);
      if (stack.status === 'deleted') {
        throw conflict('stackId', 'the stack is already deleted', 'Nothing to do.');
      }
      await refuseIfBusy(manager, stack);
      const deployment = await insertDeployment(manager, {
        stack,
        kind: 'delete',
        revision: stack.latestRevision,
        fromRevision: stack.currentRevision,
        requestedBy: options.requestedBy ?? null,
      });
      const updated = await returning<StackRow>(
        manager,
        `UPDATE stack SET status = 'deleting', updated_at = now() WHERE id = $1 RETURNING *`,
        [stack.id],
      );
      return { stack: stackOf(updated[0]), deployment };
    });
  }

  async getStack(tenantId: string, stackId: string): Promise<Stack> {
    const rows = await this.database.dataSource.query<StackRow[]>(
      'SELECT * FROM stack WHERE tenant_id = $1 AND id = $2',
      [tenantId, stackId],
    );
    if (!rows[0]) throw stackNotFound('stackId', stackId);
    return stackOf(rows[0]);
  }

  async findStack(tenantId: string, name: string): Promise<Stack | undefined> {
    const rows = await this.database.dataSource.query<StackRow[]>(
      'SELECT * FROM stack WHERE tenant_id = $1 AND name = $2',
      [tenantId, name],
    );
    return rows[0] ? stackOf(rows[0]) : undefined;
  }

  async listStacks(tenantId: string): Promise<Stack[]> {
    const rows = await this.database.dataSource.query<StackRow[]>(
      'SELECT * FROM stack WHERE tenant_id = $1 ORDER BY name',
      [tenantId],
    );
    return rows.map(stackOf);
  }

  async listRevisions(tenantId: string, stackId: string): Promise<StackRevision[]> {
    await this.getStack(tenantId, stackId);
    const rows = await this.database.dataSource.query<RevisionRow[]>(
      `SELECT stack_id, revision, outcome, template_digest, restored_from, requested_by, created_at
       FROM stack_revision WHERE stack_id = $1 ORDER BY revision`,
      [stackId],
    );
    return rows.map(revisionOf);
  }

  async getRevision(tenantId: string, stackId: string, revision: number): Promise<StackRevisionDetail> {
    await this.getStack(tenantId, stackId);
    const rows = await this.database.dataSource.query<RevisionRow[]>(
      'SELECT * FROM stack_revision WHERE stack_id = $1 AND revision = $2',
      [stackId, revision],
    );
    if (!rows[0]) {
      throw notFound(
        'revision',
        'revision',
        String(revision),
        'List the stack’s revisions for their numbers.',
      );
    }
    return { ...revisionOf(rows[0]), plan: rows[0].plan!, template: rows[0].template ?? null };
  }

  async getDeployment(tenantId: string, deploymentId: string): Promise<Deployment> {
    const rows = await this.database.dataSource.query<DeploymentRow[]>(
      'SELECT * FROM deployment WHERE tenant_id = $1 AND id = $2',
      [tenantId, deploymentId],
    );
    if (!rows[0]) {
      throw notFound(
        'deployment',
        'deploymentId',
        deploymentId,
        'Deployment ids are the operation ids answered when a change is accepted.',
      );
    }
    return deploymentOf(rows[0]);
  }

  async listDeployments(tenantId: string, stackId: string): Promise<Deployment[]> {
    await this.getStack(tenantId, stackId);
    const rows = await this.database.dataSource.query<DeploymentRow[]>(
      'SELECT * FROM deployment WHERE tenant_id = $1 AND stack_id = $2 ORDER BY created_at',
      [tenantId, stackId],
    );
    return rows.map(deploymentOf);
  }

  private async record(
    manager: EntityManager,
    stack: Stack,
    change: {
      plan: StackRevisionPlan;
      template: string | null;
      kind: DeploymentKind;
      restoredFrom: number | null;
      requestedBy: string | null;
      status: 'deploying' | 'rolling-back';
    },
  ): Promise<AcceptedChange> {
    const revision = stack.latestRevision + 1;
    const digest = sha256Hex(change.template ?? canonicalJson(change.plan));
    const revisions = await manager.query<RevisionRow[]>(
      `INSERT INTO stack_revision (stack_id, revision, plan, template, template_digest, restored_from, requested_by)
       VALUES ($1, $2, $3::jsonb, $4, $5, $6, $7)
       RETURNING stack_id, revision, outcome, template_digest, restored_from, requested_by, created_at`,
      [
        stack.id,
        revision,
        JSON.stringify(change.plan),
        change.template,
        digest,
        change.restoredFrom,
        change.requestedBy,
      ],
    );
    const deployment = await insertDeployment(manager, {
      stack,
      kind: change.kind,
      revision,
      fromRevision: stack.currentRevision,
      requestedBy: change.requestedBy,
    });
    const updated = await returning<StackRow>(
      manager,
      `UPDATE stack SET latest_revision = $2, status = $3, updated_at = now() WHERE id = $1 RETURNING *`,
      [stack.id, revision, change.status],
    );
    const environments = await environmentIds(manager, stack.tenantId, change.plan.units);
    await this.outbox.add(manager, StackRevisionAccepted.Topic, {
      tenantId: stack.tenantId,
      stackId: stack.id,
      stackName: stack.name,
      revision,
      templateDigest: digest,
      services: change.plan.units.map((unit) => ({
        name: unit.name,
        environmentId: environments.get(unit.name)!,
      })),
    });
    return { stack: stackOf(updated[0]), revision: revisionOf(revisions[0]), deployment };
  }
}

/** A plan the engine can deploy: well-formed units and a dependency graph without holes or cycles. */
export function checkPlan(plan: StackRevisionPlan): UnitGraph {
  const problems = planProblems(plan);
  // The policies are published as they are once the revision is deployed (R-OR-5): check them now,
  // so that publication cannot fail after the fact.
  if (plan.autoscaling !== undefined) {
    const policies = z
      .array(AutoscalingPoliciesPublished.MicroserviceScalingPolicySchema)
      .safeParse(plan.autoscaling);
    if (!policies.success) {
      for (const issue of policies.error.issues) {
        problems.push({ field: ['autoscaling', ...issue.path].join('.'), message: issue.message });
      }
    }
  }
  if (problems.length) throw invalidPlan(problems);
  try {
    return UnitGraph.of(plan.units);
  } catch (error) {
    if (error instanceof UnitGraphError) throw invalidPlan([{ field: 'units', message: error.message }]);
    throw error;
  }
}

async function lockStack(
  manager: EntityManager,
  tenantId: string,
  by: { id: string } | { name: string },
): Promise<Stack | undefined> {
  const [column, value] = 'id' in by ? ['id', by.id] : ['name', by.name];
  const rows = await manager.query<StackRow[]>(
    `SELECT * FROM stack WHERE tenant_id = $1 AND ${column} = $2 FOR UPDATE`,
    [tenantId, value],
  );
  return rows[0] ? stackOf(rows[0]) : undefined;
}

/**
 * Refuses a plan that would take over an object another stack of the tenant runs or is bringing up
 * (the same kind and name in the same namespace): applying it would silently rewrite that stack's
 * workload. Stacks of one tenant are checked one at a time (a transaction-scoped advisory lock), so
 * two submissions cannot both claim the same object.
 */
async function refuseIfClaimed(manager: EntityManager, stack: Stack, plan: StackRevisionPlan): Promise<void> {
  await manager.query('SELECT pg_advisory_xact_lock(hashtext($1))', [`stack-objects:${stack.tenantId}`]);
  const others = await manager.query<Array<{ name: string; plan: StackRevisionPlan }>>(
    `SELECT s.name, r.plan FROM stack s
       JOIN stack_revision r ON r.stack_id = s.id AND r.revision = s.latest_revision
      WHERE s.tenant_id = $1 AND s.id <> $2 AND s.status <> 'deleted'`,
    [stack.tenantId, stack.id],
  );
  const owners = new Map<string, string>();
  for (const other of others) {
    for (const unit of other.plan.units) {
      for (const object of unit.manifests) owners.set(objectKey(unit.clusterId, object), other.name);
    }
  }
  for (const unit of plan.units) {
    for (const object of unit.manifests) {
      const owner = owners.get(objectKey(unit.clusterId, object));
      if (owner === undefined) continue;
      throw conflict(
        `units.${unit.name}`,
        `${object.kind} ${object.metadata?.name} in namespace ${object.metadata?.namespace} of cluster ${unit.clusterId} belongs to stack ${owner}`,
        `Rename the microservice, or delete stack ${owner} first; nothing was recorded.`,
      );
    }
  }
}

async function refuseIfBusy(manager: EntityManager, stack: Stack): Promise<void> {
  const open = await manager.query<Array<{ id: string; kind: string }>>(
    `SELECT id, kind FROM deployment WHERE stack_id = $1 AND state IN ('accepted', 'running')`,
    [stack.id],
  );
  if (open[0]) {
    throw conflict(
      'stack',
      `a ${open[0].kind} of stack ${stack.name} is in progress (${open[0].id})`,
      OPEN_HINT,
    );
  }
}

async function insertDeployment(
  manager: EntityManager,
  request: {
    stack: Stack;
    kind: DeploymentKind;
    revision: number;
    fromRevision: number | null;
    requestedBy: string | null;
  },
): Promise<Deployment> {
  const rows = await manager.query<DeploymentRow[]>(
    `INSERT INTO deployment (id, stack_id, tenant_id, revision, from_revision, kind, requested_by)
     VALUES ($1, $2, $3, $4, $5, $6, $7) RETURNING *`,
    [
      randomUUID(),
      request.stack.id,
      request.stack.tenantId,
      request.revision,
      request.fromRevision,
      request.kind,
      request.requestedBy,
    ],
  );
  return deploymentOf(rows[0]);
}
