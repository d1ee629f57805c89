/**
 * The deployer's durable record (issue #5 §5–6): every unit transition and the end of a deployment is
 * written to PostgreSQL, with the event that announces it in the same transaction (outbox), before the
 * deployer takes its next step — so a worker that takes a stack over after a crash reads exactly where
 * the last one stopped. Every write is fenced by the stack's lease: a worker that lost its lease (it
 * stalled and another took over) cannot write any more.
 */
import { randomUUID } from 'node:crypto';
import {
  AutoscalingPoliciesPublished,
  AutoscalingPoliciesWithdrawn,
  type ErrorInfo,
  StackDeleted,
  StackDeployed,
  StackDeployFailed,
  StackDeployProgress,
  StackRolledBack,
} from '@stratum/contracts';
import type { Outbox } from '@stratum/messaging';
import type { ServiceDatabase } from '@stratum/persistence';
import type { EntityManager } from 'typeorm';
import {
  type Deployment,
  deploymentOf,
  type DeploymentRow,
  returning,
  type RevisionRow,
  type Stack,
  stackOf,
  type StackRow,
  type UnitProgress,
  type UnitState,
} from './deploy-model';
import type { StackRevisionPlan } from './deploy-plan';
import { environmentIds } from './environment-ids';

/** Thrown when the worker no longer holds the stack's lease: it must stop working on the stack. */
export class LeaseLostError extends Error {
  constructor(stackId: string, owner: string) {
    super(`stack ${stackId}: lease no longer held by ${owner}`);
    this.name = 'LeaseLostError';
  }
}

/** Everything the deployer needs about one deployment, read once when it starts or resumes. */
export interface DeploymentContext {
  deployment: Deployment;
  stack: Stack;
  /** The plan being brought up (for a delete: the latest revision's). */
  target: StackRevisionPlan;
  /** The plan running before (update/rollback) or also to be removed (delete). */
  from: StackRevisionPlan | undefined;
  /** Unit name → environment id, for the units of both plans. */
  environments: Map<string, string>;
  /** The revision a requested rollback restores. */
  restoredFrom: number | null;
  owner: string;
}

/** The stack events' unit states (the contract has no `removing`: that step is not announced). */
function announcedState(
  state: UnitState,
): 'pending' | 'deploying' | 'ready' | 'failed' | 'removed' | undefined {
  switch (state) {
    case 'applying':
    case 'waiting':
      return 'deploying';
    case 'removing':
      return undefined;
    default:
      return state;
  }
}

export class DeploymentJournal {
  constructor(
    private readonly database: ServiceDatabase,
    private readonly outbox: Outbox,
  ) {}

  /** The oldest open deployment of the stack. */
  async nextOpen(stackId: string): Promise<Deployment | undefined> {
    const rows = await this.database.dataSource.query<DeploymentRow[]>(
      `SELECT * FROM deployment WHERE stack_id = $1 AND state IN ('accepted', 'running') ORDER BY created_at LIMIT 1`,
      [stackId],
    );
    return rows[0] ? deploymentOf(rows[0]) : undefined;
  }

  async load(deploymentId: string, owner: string): Promise<DeploymentContext> {
    const manager = this.database.dataSource.manager;
    const [row] = await manager.query<DeploymentRow[]>('SELECT * FROM deployment WHERE id = $1', [
      deploymentId,
    ]);
    const deployment = deploymentOf(row);
    const [stackRow] = await manager.query<StackRow[]>('SELECT * FROM stack WHERE id = $1', [
      deployment.stackId,
    ]);
    const revisions = await manager.query<RevisionRow[]>(
      'SELECT * FROM stack_revision WHERE stack_id = $1 AND revision = ANY($2::int[])',
      [deployment.stackId, [deployment.revision, deployment.fromRevision].filter((r) => r !== null)],
    );
    const target = revisions.find((r) => r.revision === deployment.revision)!;
    const from = revisions.find((r) => r.revision === deployment.fromRevision);
    const units = [...target.plan!.units, ...(from?.plan?.units ?? [])];
    return {
      deployment,
      stack: stackOf(stackRow),
      target: target.plan!,
      from: from?.plan,
      environments: await environmentIds(manager, deployment.tenantId, units),
      restoredFrom: deployment.trigger === 'requested' ? target.restored_from : null,
      owner,
    };
  }

  /** accepted → running, with every unit's starting state (announced: pending, or ready when kept). */
  async start(context: DeploymentContext, units: Record<string, UnitProgress>): Promise<void> {
    await this.fenced(context, async (manager) => {
      const rows = await returning<DeploymentRow>(
        manager,
        `UPDATE deployment SET state = 'running', units = $2::jsonb, started_at = now(), updated_at = now()
         WHERE id = $1 AND state = 'accepted' RETURNING *`,
        [context.deployment.id, JSON.stringify(units)],
      );
      context.deployment = deploymentOf(rows[0]);
      await this.announce(manager, context, Object.entries(units));
    });
  }

  /** One unit's transition, merged into its recorded progress. */
  async unit(context: DeploymentContext, name: string, change: Partial<UnitProgress>): Promise<void> {
    await this.fenced(context, async (manager) => {
      const progress = await this.mergeUnit(manager, context, name, change);
      await this.announce(manager, context, [[name, progress]]);
    });
  }

  /** Every unit is where the deployment wanted it: record the outcome for the stack and its revisions. */
  async succeed(context: DeploymentContext): Promise<void> {
    const { deployment, stack } = context;
    await this.fenced(context, async (manager) => {
      await manager.query(
        `UPDATE deployment SET state = 'succeeded', finished_at = now(), updated_at = now() WHERE id = $1`,
        [deployment.id],
      );
      const base = { tenantId: stack.tenantId, stackId: stack.id };
      if (deployment.kind === 'delete') {
        await manager.query(
          `UPDATE stack_revision SET outcome = 'superseded' WHERE stack_id = $1 AND outcome = 'deployed'`,
          [stack.id],
        );
        await this.setStack(manager, stack.id, 'deleted', null);
        await this.outbox.add(manager, StackDeleted.Topic, base);
        // Nothing of the stack runs any more: the autoscaler stops scaling it (issue #5 §5).
        await this.outbox.add(manager, AutoscalingPoliciesWithdrawn.Topic, base);
        return;
      }
      if (deployment.kind === 'rollback' && deployment.trigger === 'automatic') {
        // The good revision runs again; the failed one is marked rolled back.
        await this.setOutcome(manager, stack.id, deployment.fromRevision!, 'rolled-back');
        await this.setStack(manager, stack.id, 'deployed', deployment.revision);
        await this.outbox.add(manager, StackRolledBack.Topic, {
          ...base,
          fromRevision: deployment.fromRevision!,
          toRevision: deployment.revision,
          reason: 'automatic',
        });
        await this.publishPolicies(manager, context, deployment.revision);
        return;
      }
      await this.setOutcome(manager, stack.id, deployment.revision, 'deployed');
      if (deployment.fromRevision !== null) {
        await this.setOutcome(manager, stack.id, deployment.fromRevision, 'superseded');
      }
      await this.setStack(manager, stack.id, 'deployed', deployment.revision);
      await this.outbox.add(manager, StackDeployed.Topic, {
        ...base,
        revision: deployment.revision,
        units: context.target.units.map((unit) => ({
          unitId: unit.name,
          environmentId: context.environments.get(unit.name)!,
        })),
      });
      if (
        deployment.kind === 'rollback' &&
        deployment.fromRevision !== null &&
        context.restoredFrom !== null
      ) {
        await this.outbox.add(manager, StackRolledBack.Topic, {
          ...base,
          fromRevision: deployment.fromRevision,
          toRevision: context.restoredFrom,
          reason: 'requested',
        });
      }
      await this.publishPolicies(manager, context, deployment.revision);
    });
  }

  /**
   * The running revision's autoscaling policies, published once all its units are deployed (R-OR-5):
   * the full set, replacing any earlier one (empty when the template declares none). checkPlan has
   * validated them when the revision was accepted.
   */
  private async publishPolicies(
    manager: EntityManager,
    context: DeploymentContext,
    revision: number,
  ): Promise<void> {
    const policies = (context.target.autoscaling ?? []) as AutoscalingPoliciesPublished.Value['policies'];
    await this.outbox.add(manager, AutoscalingPoliciesPublished.Topic, {
      tenantId: context.stack.tenantId,
      stackId: context.stack.id,
      revision,
      policies,
    });
  }

  /**
   * The deployment failed (a unit did not become Ready, or the cluster refused an object). A failed
   * deploy or update of a stack that had a good revision starts the automatic rollback to it, in the
   * same transaction; a failed rollback or first deploy leaves the stack `failed`.
   * Returns the rollback deployment, if one was started.
   */
  async fail(
    context: DeploymentContext,
    unit: string | null,
    error: ErrorInfo,
  ): Promise<Deployment | undefined> {
    const { deployment, stack } = context;
    return this.fenced(context, async (manager) => {
      if (unit !== null) {
        const progress = await this.mergeUnit(manager, context, unit, {
          state: 'failed',
          message: error.message,
        });
        await this.announce(manager, context, [[unit, progress]]);
      }
      await manager.query(
        `UPDATE deployment SET state = 'failed', failed_unit = $2, error = $3::jsonb, finished_at = now(), updated_at = now()
         WHERE id = $1`,
        [deployment.id, unit, JSON.stringify(error)],
      );
      const base = { tenantId: stack.tenantId, stackId: stack.id };
      if (deployment.kind === 'delete') {
        await this.setStack(manager, stack.id, 'failed', stack.currentRevision);
        return undefined;
      }
      const forward = deployment.kind === 'deploy' || deployment.kind === 'update';
      // A forward deployment and a requested rollback each brought up a revision of their own: it
      // failed. An automatic rollback brought back the good revision; the failed one stays `failed`.
      if (forward || deployment.trigger === 'requested') {
        await this.setOutcome(manager, stack.id, deployment.revision, 'failed');
      }
      const restore = forward ? deployment.fromRevision : null;
      let rollback: Deployment | undefined;
      if (restore !== null) {
        const rows = await manager.query<DeploymentRow[]>(
          `INSERT INTO deployment (id, stack_id, tenant_id, revision, from_revision, kind, trigger, caused_by, requested_by)
           VALUES ($1, $2, $3, $4, $5, 'rollback', 'automatic', $6, $7) RETURNING *`,
          [
            randomUUID(),
            stack.id,
            stack.tenantId,
            restore,
            deployment.revision,
            deployment.id,
            deployment.requestedBy,
          ],
        );
        rollback = deploymentOf(rows[0]);
        await this.setStack(manager, stack.id, 'rolling-back', stack.currentRevision);
      } else {
        await this.setStack(manager, stack.id, 'failed', stack.currentRevision);
      }
      await this.outbox.add(manager, StackDeployFailed.Topic, {
        ...base,
        revision: deployment.revision,
        failedUnitId: unit,
        reason:
          deployment.kind === 'rollback'
            ? `rollback to revision ${context.restoredFrom ?? deployment.revision} failed: ${error.message}`
            : error.message,
        rolledBackTo: restore,
      });
      return rollback;
    });
  }

  /** Runs `work` in a transaction that holds the stack row and checks the lease is still ours. */
  private async fenced<T>(
    context: DeploymentContext,
    work: (manager: EntityManager) => Promise<T>,
  ): Promise<T> {
    return this.database.transaction(async (manager) => {
      const rows = await manager.query<Array<{ lease_owner: string | null }>>(
        'SELECT lease_owner FROM stack WHERE id = $1 FOR UPDATE',
        [context.stack.id],
      );
      if (rows[0]?.lease_owner !== context.owner) throw new LeaseLostError(context.stack.id, context.owner);
      return work(manager);
    });
  }

  private async mergeUnit(
    manager: EntityManager,
    context: DeploymentContext,
    name: string,
    change: Partial<UnitProgress>,
  ): Promise<UnitProgress> {
    // jsonb_set on the row as it is now: parallel units of one wave do not overwrite each other.
    const rows = await returning<{ progress: UnitProgress }>(
      manager,
      `UPDATE deployment SET units = jsonb_set(units, ARRAY[$2], COALESCE(units -> $2, '{}'::jsonb) || $3::jsonb),
         updated_at = now()
       WHERE id = $1 RETURNING units -> $2 AS progress`,
      [context.deployment.id, name, JSON.stringify(change)],
    );
    const progress = rows[0].progress;
    context.deployment.units[name] = progress;
    return progress;
  }

  private async announce(
    manager: EntityManager,
    context: DeploymentContext,
    units: Array<[string, UnitProgress]>,
  ): Promise<void> {
    const items = units.flatMap(([name, progress]) => {
      const state = announcedState(progress.state);
      if (!state) return [];
      return [
        {
          tenantId: context.stack.tenantId,
          stackId: context.stack.id,
          revision: context.deployment.revision,
          unitId: name,
          environmentId: context.environments.get(name) ?? `${progress.clusterId}/${progress.namespace}`,
          state,
          ...(progress.message ? { message: progress.message } : {}),
        },
      ];
    });
    await this.outbox.addMany(manager, StackDeployProgress.Topic, items);
  }

  private async setOutcome(manager: EntityManager, stackId: string, revision: number, outcome: string) {
    await manager.query('UPDATE stack_revision SET outcome = $3 WHERE stack_id = $1 AND revision = $2', [
      stackId,
      revision,
      outcome,
    ]);
  }

  private async setStack(manager: EntityManager, stackId: string, status: string, current: number | null) {
    await manager.query(
      'UPDATE stack SET status = $2, current_revision = $3, updated_at = now() WHERE id = $1',
      [stackId, status, current],
    );
  }
}
