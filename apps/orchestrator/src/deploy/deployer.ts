/**
 * Executes a stack deployment (issue #5 §5, R-OR-4), durably: every unit's progress is written to
 * PostgreSQL (DeploymentJournal) before the next step, so a worker that resumes a deployment after a
 * crash skips what is done and re-applies at most the unit it was applying — safe, because objects are
 * applied with server-side apply (field manager stratum-orchestrator) and deletions of missing objects
 * are no-ops.
 *
 * deploy / update / rollback: for each wave of the target plan, in order, apply the wave's units that
 * need it (an update leaves unchanged units alone; a rollback re-applies every unit, since after a
 * failed update the cluster may hold anything in between), then wait until each is Ready, with a
 * per-unit timeout; only then the next wave — so a unit is applied only once everything it depends on
 * is Ready. Then objects a changed unit dropped are pruned and removed units are deleted, dependents
 * first. A unit that does not become Ready (or whose pods are stuck, or whose objects the cluster
 * refuses) fails the deployment; the journal then starts the automatic rollback.
 * delete: every unit is removed in reverse dependency order, each waited on until its pods are gone.
 */
import { ForbiddenError, InvalidError, KubeError, type KubeClusters, refOf } from '@stratum/kube';
import type { Log } from '@stratum/telemetry';
import type { ErrorInfo } from '@stratum/contracts';
import type { UnitProgress } from './deploy-model';
import { applyOrder, type DeployUnit } from './deploy-plan';
import type { DeploymentContext, DeploymentJournal } from './deployment-journal';
import { diffUnits, staleObjects } from './unit-diff';
import { UnitGraph } from './unit-graph';
import { UnitNotReadyError, waitForUnitGone, waitForUnitReady } from './unit-readiness';

export interface DeployerOptions {
  /** How long a unit may take to become Ready (config DEPLOY_UNIT_READY_TIMEOUT_SECONDS). */
  unitReadyTimeoutMs: number;
  /** How long a removed unit's pods may take to go before the deployment goes on without them. */
  unitGoneTimeoutMs: number;
  /**
   * Test hook (issue #5 crash test): called after each step, e.g. `wave-0/applied`, `wave-0/ready`,
   * `removed/<unit>`; throwing from it stops the deployment there, as a crash would.
   */
  afterStep?: (step: string, deploymentId: string) => void;
}

/** A unit failed for good: the deployment fails with it. */
class UnitFailure extends Error {
  constructor(
    readonly unit: string,
    readonly info: ErrorInfo,
  ) {
    super(info.message);
  }
}

export type DeploymentResult = 'succeeded' | 'failed';

export class Deployer {
  constructor(
    private readonly kube: KubeClusters,
    private readonly journal: DeploymentJournal,
    private readonly log: Log,
    private readonly options: DeployerOptions,
  ) {}

  /**
   * Runs (or resumes) one deployment to its end. Transient errors (API server unreachable, database)
   * are thrown: the worker retries later and the deployment resumes from its record.
   */
  async execute(deploymentId: string, owner: string): Promise<DeploymentResult> {
    const context = await this.journal.load(deploymentId, owner);
    const { deployment } = context;
    if (deployment.state === 'succeeded' || deployment.state === 'failed') return deployment.state;
    if (deployment.state === 'accepted') await this.journal.start(context, initialProgress(context));
    this.log.info('deployment running', {
      deploymentId,
      stackId: context.stack.id,
      kind: deployment.kind,
      revision: deployment.revision,
      resumed: deployment.state === 'running',
    });
    try {
      if (deployment.kind !== 'delete') await this.bringUp(context);
      await this.removeUnits(context);
    } catch (error) {
      if (!(error instanceof UnitFailure)) throw error;
      const rollback = await this.journal.fail(context, error.unit, error.info);
      this.log.warn('deployment failed', {
        deploymentId,
        stackId: context.stack.id,
        unit: error.unit,
        reason: error.message,
        rollbackDeploymentId: rollback?.id,
      });
      return 'failed';
    }
    await this.journal.succeed(context);
    this.log.info('deployment succeeded', { deploymentId, stackId: context.stack.id });
    return 'succeeded';
  }

  private async bringUp(context: DeploymentContext): Promise<void> {
    const graph = UnitGraph.of(context.target.units);
    for (const [index, wave] of graph.waves.entries()) {
      const todo = wave.filter((unit) => {
        const progress = context.deployment.units[unit.name];
        return progress.action === 'apply' && progress.state !== 'ready';
      });
      await Promise.all(
        todo
          .filter((unit) => ['pending', 'applying'].includes(context.deployment.units[unit.name].state))
          .map((unit) => this.applyUnit(context, unit)),
      );
      this.step(context, `wave-${index}/applied`);
      await settleAll(todo.map((unit) => this.awaitReady(context, unit)));
      this.step(context, `wave-${index}/ready`);
    }
    await this.prune(context);
  }

  private async applyUnit(context: DeploymentContext, unit: DeployUnit): Promise<void> {
    await this.journal.unit(context, unit.name, {
      state: 'applying',
      appliedAt: new Date().toISOString(),
      message: `applying ${unit.manifests.length} objects to ${unit.clusterId}/${unit.namespace}`,
    });
    const client = this.kube.client(unit.clusterId);
    try {
      for (const object of applyOrder(unit.manifests)) await client.apply(object, { force: true });
    } catch (error) {
      throw permanentOrRethrow(unit.name, error);
    }
    await this.journal.unit(context, unit.name, {
      state: 'waiting',
      message: 'applied; waiting until Ready',
    });
  }

  private async awaitReady(context: DeploymentContext, unit: DeployUnit): Promise<void> {
    const started = performance.now();
    try {
      await waitForUnitReady(
        this.kube.client(unit.clusterId),
        unit.name,
        unit.manifests,
        this.options.unitReadyTimeoutMs,
      );
    } catch (error) {
      if (error instanceof UnitNotReadyError) {
        throw new UnitFailure(unit.name, {
          code: 'UNIT_NOT_READY',
          message: error.message,
          hint: 'Check the unit’s pods (image, probes, resources); the stack was rolled back to its last good revision if it had one.',
        });
      }
      throw error;
    }
    await this.journal.unit(context, unit.name, {
      state: 'ready',
      readyAt: new Date().toISOString(),
      message: `ready after ${Math.round(performance.now() - started)} ms`,
    });
  }

  /** Objects that changed units (in both plans) no longer declare. */
  private async prune(context: DeploymentContext): Promise<void> {
    if (!context.from) return;
    const before = new Map(context.from.units.map((unit) => [unit.name, unit]));
    for (const unit of context.target.units) {
      const previous = before.get(unit.name);
      if (!previous || context.deployment.units[unit.name]?.action === 'keep') continue;
      for (const stale of staleObjects(previous, unit)) {
        await this.kube.client(stale.clusterId).delete(refOf(stale.object));
      }
    }
  }

  /** Units to remove, dependents first (the plan they came from decides the order). */
  private async removeUnits(context: DeploymentContext): Promise<void> {
    const remove = new Set(
      Object.entries(context.deployment.units)
        .filter(([, progress]) => progress.action === 'remove')
        .map(([name]) => name),
    );
    if (!remove.size) return;
    const order = removalOrder(context, remove);
    for (const wave of order) {
      await settleAll(
        wave
          .filter((unit) => context.deployment.units[unit.name].state !== 'removed')
          .map((unit) => this.removeUnit(context, unit)),
      );
    }
  }

  private async removeUnit(context: DeploymentContext, unit: DeployUnit): Promise<void> {
    await this.journal.unit(context, unit.name, { state: 'removing', message: 'deleting its objects' });
    const client = this.kube.client(unit.clusterId);
    try {
      for (const object of applyOrder(unit.manifests).reverse()) await client.delete(refOf(object));
    } catch (error) {
      throw permanentOrRethrow(unit.name, error);
    }
    let message = 'objects and pods gone';
    try {
      await waitForUnitGone(client, unit.name, unit.manifests, this.options.unitGoneTimeoutMs);
    } catch (error) {
      if (!(error instanceof UnitNotReadyError)) throw error;
      // Deleted; the pods are still terminating. Going on beats holding the stack (R-OR-4 order kept).
      message = error.message;
    }
    await this.journal.unit(context, unit.name, {
      state: 'removed',
      removedAt: new Date().toISOString(),
      message,
    });
    this.step(context, `removed/${unit.name}`);
  }

  private step(context: DeploymentContext, step: string): void {
    this.options.afterStep?.(step, context.deployment.id);
  }
}

/**
 * What the deployment does with each unit, decided once when it starts and recorded with it:
 * deploy applies every unit; update applies added and changed units and keeps unchanged ones; a
 * rollback applies every unit of the restored plan; units of the plan before that the target lacks
 * are removed; delete removes every unit of the latest and the running revision.
 */
export function initialProgress(context: DeploymentContext): Record<string, UnitProgress> {
  const { deployment, target, from } = context;
  const units: Record<string, UnitProgress> = {};
  const place = (unit: DeployUnit) => ({ clusterId: unit.clusterId, namespace: unit.namespace });
  if (deployment.kind === 'delete') {
    for (const unit of [...target.units, ...(from?.units ?? [])]) {
      units[unit.name] ??= { action: 'remove', state: 'pending', ...place(unit) };
    }
    return units;
  }
  const diff = from ? diffUnits(from.units, target.units) : undefined;
  const unchanged = new Set(deployment.kind === 'update' ? (diff?.unchanged ?? []) : []);
  for (const unit of target.units) {
    units[unit.name] = unchanged.has(unit.name)
      ? { action: 'keep', state: 'ready', ...place(unit), message: 'unchanged' }
      : { action: 'apply', state: 'pending', ...place(unit) };
  }
  for (const name of diff?.removed ?? []) {
    const unit = from!.units.find((u) => u.name === name)!;
    units[name] = { action: 'remove', state: 'pending', ...place(unit) };
  }
  return units;
}

/** Removal waves, dependents first, by the graph of the plan each unit is in (the target's, else the one before). */
function removalOrder(context: DeploymentContext, remove: Set<string>): DeployUnit[][] {
  const waves: DeployUnit[][] = [];
  const placed = new Set<string>();
  for (const plan of [context.target, context.from]) {
    if (!plan) continue;
    const graph = UnitGraph.of(plan.units);
    const only = new Set([...remove].filter((name) => !placed.has(name) && graph.get(name)));
    for (const wave of graph.deletionWaves(only)) {
      waves.push(wave);
      for (const unit of wave) placed.add(unit.name);
    }
  }
  return waves;
}

/** Waits for all; the first failure is thrown, but only after the others ended (no write after a fail). */
async function settleAll(work: Array<Promise<void>>): Promise<void> {
  const results = await Promise.allSettled(work);
  const failures = results
    .filter((r): r is PromiseRejectedResult => r.status === 'rejected')
    .map((r) => r.reason);
  const failure = failures.find((f) => f instanceof UnitFailure) ?? failures[0];
  if (failure !== undefined) throw failure;
}

/**
 * The cluster refusing an object is final for this deployment; anything else is retried. Server-side
 * apply on older API servers (1.20) answers some invalid objects with a 500 "failed to create typed
 * patch object" (e.g. a Service port without `protocol`): that is a refusal too, not an outage.
 */
function permanentOrRethrow(unit: string, error: unknown): unknown {
  const typedPatch = error instanceof KubeError && /failed to create typed patch object/.test(error.message);
  if (error instanceof InvalidError || typedPatch || error instanceof ForbiddenError) {
    const forbidden = error instanceof ForbiddenError;
    return new UnitFailure(unit, {
      code: forbidden ? 'KUBERNETES_FORBIDDEN' : 'KUBERNETES_REJECTED',
      message: `unit ${unit}: ${(error as Error).message}`,
      hint: forbidden
        ? 'Grant the orchestrator’s service account the rights it needs in this namespace.'
        : 'The cluster refused an object of the unit; correct the template and submit it again.',
    });
  }
  return error;
}
