import { ApiError } from '../api-status';
import { clone, deepEqual, getNumber, getObject, getString, isObject, type JsonObject } from '../json';
import { controllerRef, ownerRefTo, timestamp, type StoredObject } from '../object-meta';
import type { ResourceType } from '../resource-types';
import {
  condition,
  copyableAnnotations,
  HASH_LABEL,
  REVISION,
  type RsView,
  sameTemplate,
  surgeOf,
  templateHash,
  unavailableOf,
  view,
} from './rollout';
import {
  CONTROLLER_MANAGER,
  followOwnerAndOwned,
  type Controller,
  type ControllerContext,
  requireType,
  splitKey,
  WorkQueue,
} from './controller-kit';

const DEPLOYMENTS = 'apps/deployments';
const RS = 'apps/replicasets';

/**
 * Deployment → ReplicaSets, like the real deployment controller: one ReplicaSet per pod template
 * (named `<deployment>-<pod-template-hash>`), rolled with maxSurge/maxUnavailable (or Recreate) as
 * the new pods become available, old ones scaled to 0 and pruned beyond revisionHistoryLimit, and
 * the status (replicas, updated, ready, available, unavailable, Available/Progressing conditions)
 * computed from the ReplicaSets.
 */
export class DeploymentController implements Controller {
  readonly name = 'deployment-controller';
  private readonly queue: WorkQueue;
  private unsubscribe: (() => void) | undefined;

  constructor(private readonly ctx: ControllerContext) {
    this.queue = new WorkQueue(this.name, (key) => this.sync(key), ctx.onError);
  }

  start(): void {
    this.unsubscribe = followOwnerAndOwned(this.ctx.store, this.queue, DEPLOYMENTS, 'Deployment', RS);
  }

  stop(): void {
    this.unsubscribe?.();
    this.queue.stop();
  }

  private sync(key: string): void {
    const { namespace, name } = splitKey(key);
    const deployment = this.ctx.store.get(DEPLOYMENTS, namespace, name);
    if (!deployment || deployment.metadata.deletionTimestamp) return;
    const rsType = requireType(this.ctx.registry, RS);
    const template = getObject(deployment, ['spec', 'template']) ?? {};
    const all = this.replicaSets(deployment);
    let newRs = all.find((rs) => sameTemplate(getObject(rs.object, ['spec', 'template']), template));
    const olds = all.filter((rs) => rs !== newRs);
    const desired = getNumber(deployment, ['spec', 'replicas']) ?? 1;
    const paused = deployment['spec'] !== undefined && getObject(deployment, ['spec'])?.['paused'] === true;
    let createdName: string | undefined;

    if (!newRs && !paused) {
      const created = this.createReplicaSet(deployment, rsType, template, all, olds);
      if (!created) return;
      createdName = created.metadata.name;
      newRs = view(created);
      all.push(newRs);
    }
    if (newRs && !paused) {
      const latest = Math.max(0, ...olds.map((rs) => rs.revision));
      if (newRs.revision <= latest) {
        // A rollback to an older template reuses its ReplicaSet, which becomes the newest revision.
        newRs.revision = latest + 1;
        this.setRevision(rsType, newRs.object, newRs.revision);
      }
      const strategy = getString(deployment, ['spec', 'strategy', 'type']) ?? 'RollingUpdate';
      if (strategy === 'Recreate') this.recreate(rsType, newRs, olds, desired);
      else this.rollingUpdate(deployment, rsType, newRs, olds, desired);
      this.cleanup(deployment, rsType, olds);
    }
    const fresh = this.ctx.store.get(DEPLOYMENTS, namespace, name);
    if (fresh) this.writeStatus(fresh, this.replicaSets(fresh), createdName);
  }

  private replicaSets(deployment: StoredObject): RsView[] {
    const uid = deployment.metadata.uid;
    return this.ctx.store
      .dependents(uid ?? '')
      .filter(
        (d) =>
          d.typeId === RS && controllerRef(d.object)?.uid === uid && !d.object.metadata.deletionTimestamp,
      )
      .map((d) => view(d.object));
  }

  private createReplicaSet(
    deployment: StoredObject,
    rsType: ResourceType,
    template: JsonObject,
    all: RsView[],
    olds: RsView[],
  ): StoredObject | undefined {
    const collisions = getNumber(deployment, ['status', 'collisionCount']) ?? 0;
    const hash = templateHash(template, collisions);
    const name = `${deployment.metadata.name}-${hash}`;
    const revision = Math.max(0, ...all.map((rs) => rs.revision)) + 1;
    const desired = getNumber(deployment, ['spec', 'replicas']) ?? 1;
    const maxSurge = surgeOf(deployment, desired);
    const podTemplate = clone(template);
    const templateMeta = isObject(podTemplate['metadata'])
      ? podTemplate['metadata']
      : (podTemplate['metadata'] = {} as JsonObject);
    const meta = templateMeta as JsonObject;
    meta['labels'] = {
      ...((meta['labels'] as Record<string, string> | undefined) ?? {}),
      [HASH_LABEL]: hash,
    };
    const selector = clone(getObject(deployment, ['spec', 'selector']) ?? {});
    selector['matchLabels'] = {
      ...((selector['matchLabels'] as Record<string, string> | undefined) ?? {}),
      [HASH_LABEL]: hash,
    };
    const oldReplicas = olds.reduce((sum, rs) => sum + rs.replicas, 0);
    const strategy = getString(deployment, ['spec', 'strategy', 'type']) ?? 'RollingUpdate';
    const initial =
      strategy === 'Recreate' && oldReplicas > 0
        ? 0
        : Math.max(0, Math.min(desired, desired + maxSurge - oldReplicas));
    const annotations: Record<string, string> = {
      ...copyableAnnotations(deployment.metadata.annotations),
      'deployment.kubernetes.io/desired-replicas': String(desired),
      'deployment.kubernetes.io/max-replicas': String(desired + maxSurge),
      [REVISION]: String(revision),
    };
    const rs: StoredObject = {
      apiVersion: 'apps/v1',
      kind: 'ReplicaSet',
      metadata: {
        name,
        namespace: deployment.metadata.namespace,
        labels: meta['labels'] as Record<string, string>,
        annotations,
        ownerReferences: [ownerRefTo(deployment, 'apps/v1', 'Deployment')],
      },
      spec: { replicas: initial, selector, template: podTemplate },
    };
    const minReady = getNumber(deployment, ['spec', 'minReadySeconds']);
    if (minReady !== undefined) (rs['spec'] as JsonObject)['minReadySeconds'] = minReady;
    try {
      return this.ctx.storage.create(rsType, deployment.metadata.namespace, rs, CONTROLLER_MANAGER);
    } catch (error) {
      if (error instanceof ApiError && error.code === 409) {
        // A ReplicaSet of that name with another template: bump collisionCount and hash again.
        const deploymentType = requireType(this.ctx.registry, DEPLOYMENTS);
        const status = { ...(getObject(deployment, ['status']) ?? {}), collisionCount: collisions + 1 };
        this.ctx.storage.commitUpdate(
          deploymentType,
          deployment,
          { ...clone(deployment), status },
          { ...CONTROLLER_MANAGER, subresource: 'status' },
        );
        return undefined;
      }
      if (error instanceof ApiError && error.code === 403) return undefined;
      throw error;
    }
  }

  private recreate(rsType: ResourceType, newRs: RsView, olds: RsView[], desired: number): void {
    const running = olds.filter((rs) => rs.replicas > 0 || rs.statusReplicas > 0);
    for (const rs of running) if (rs.replicas > 0) this.scale(rsType, rs.object, 0);
    if (running.length === 0 && newRs.replicas !== desired) this.scale(rsType, newRs.object, desired);
  }

  /** One step of the real rolling update: surge the new ReplicaSet, then retire old pods as allowed. */
  private rollingUpdate(
    deployment: StoredObject,
    rsType: ResourceType,
    newRs: RsView,
    olds: RsView[],
    desired: number,
  ): void {
    const maxSurge = surgeOf(deployment, desired);
    const maxUnavailable = unavailableOf(deployment, desired, maxSurge);
    const total = () => newRs.replicas + olds.reduce((sum, rs) => sum + rs.replicas, 0);

    if (newRs.replicas > desired) {
      this.scale(rsType, newRs.object, desired);
      newRs.replicas = desired;
    } else if (newRs.replicas < desired) {
      const room = desired + maxSurge - total();
      const target = Math.min(desired, newRs.replicas + Math.max(0, room));
      if (target !== newRs.replicas) {
        this.scale(rsType, newRs.object, target);
        newRs.replicas = target;
      }
    }

    const minAvailable = desired - maxUnavailable;
    const newUnavailable = Math.max(0, newRs.replicas - newRs.available);
    let budget = total() - minAvailable - newUnavailable;
    const oldest = [...olds].filter((rs) => rs.replicas > 0).sort((a, b) => a.revision - b.revision);
    // First the old pods that are not available anyway, then available ones down to minAvailable.
    for (const rs of oldest) {
      if (budget <= 0) break;
      const unhealthy = Math.max(0, rs.replicas - rs.available);
      const cut = Math.min(unhealthy, budget);
      if (cut > 0) {
        rs.replicas -= cut;
        budget -= cut;
        this.scale(rsType, rs.object, rs.replicas);
      }
    }
    const availableNow =
      newRs.available + olds.reduce((sum, rs) => sum + Math.min(rs.available, rs.replicas), 0);
    let allowed = availableNow - minAvailable;
    for (const rs of oldest) {
      if (allowed <= 0) break;
      const cut = Math.min(rs.replicas, allowed);
      if (cut > 0) {
        rs.replicas -= cut;
        allowed -= cut;
        this.scale(rsType, rs.object, rs.replicas);
      }
    }
  }

  private scale(rsType: ResourceType, rs: StoredObject, replicas: number): void {
    const current = this.ctx.store.get(RS, rs.metadata.namespace ?? '', rs.metadata.name ?? '') ?? rs;
    if (getNumber(current, ['spec', 'replicas']) === replicas) return;
    const next = clone(current);
    next['spec'] = { ...(getObject(next, ['spec']) ?? {}), replicas };
    this.ctx.storage.commitUpdate(rsType, current, next, CONTROLLER_MANAGER);
  }

  private setRevision(rsType: ResourceType, rs: StoredObject, revision: number): void {
    const next = clone(rs);
    next.metadata.annotations = { ...(next.metadata.annotations ?? {}), [REVISION]: String(revision) };
    this.ctx.storage.commitUpdate(rsType, rs, next, CONTROLLER_MANAGER);
  }

  /** Old ReplicaSets scaled to 0 beyond revisionHistoryLimit are deleted, oldest first. */
  private cleanup(deployment: StoredObject, rsType: ResourceType, olds: RsView[]): void {
    const limit = getNumber(deployment, ['spec', 'revisionHistoryLimit']) ?? 10;
    const idle = olds
      .filter((rs) => rs.replicas === 0 && rs.statusReplicas === 0)
      .sort((a, b) => a.revision - b.revision);
    for (const rs of idle.slice(0, Math.max(0, idle.length - limit))) {
      try {
        this.ctx.storage.delete(rsType, rs.object.metadata.namespace, rs.object.metadata.name ?? '', {});
      } catch (error) {
        if (!(error instanceof ApiError) || error.code !== 404) throw error;
      }
    }
  }

  private writeStatus(deployment: StoredObject, all: RsView[], createdName: string | undefined): void {
    const deploymentType = requireType(this.ctx.registry, DEPLOYMENTS);
    const template = getObject(deployment, ['spec', 'template']) ?? {};
    const newRs = all.find((rs) => sameTemplate(getObject(rs.object, ['spec', 'template']), template));
    const desired = getNumber(deployment, ['spec', 'replicas']) ?? 1;
    const maxUnavailable = unavailableOf(deployment, desired, surgeOf(deployment, desired));
    const specTotal = all.reduce((sum, rs) => sum + rs.replicas, 0);
    const replicas = all.reduce((sum, rs) => sum + rs.statusReplicas, 0);
    const ready = all.reduce((sum, rs) => sum + rs.ready, 0);
    const available = all.reduce((sum, rs) => sum + rs.available, 0);
    const updated = newRs?.statusReplicas ?? 0;
    const unavailable = Math.max(0, specTotal - available);
    const previous = getObject(deployment, ['status']) ?? {};
    const now = timestamp();

    // Zero counts are omitted, as the real status (omitempty) is.
    const status: JsonObject = { observedGeneration: deployment.metadata.generation ?? 1 };
    if (replicas > 0) status['replicas'] = replicas;
    if (updated > 0) status['updatedReplicas'] = updated;
    if (ready > 0) status['readyReplicas'] = ready;
    if (available > 0) status['availableReplicas'] = available;
    if (unavailable > 0) status['unavailableReplicas'] = unavailable;

    const old = Array.isArray(previous['conditions']) ? (previous['conditions'] as JsonObject[]) : [];
    const availableCondition =
      available >= desired - maxUnavailable
        ? condition(
            old,
            'Available',
            'True',
            'MinimumReplicasAvailable',
            'Deployment has minimum availability.',
            now,
          )
        : condition(
            old,
            'Available',
            'False',
            'MinimumReplicasUnavailable',
            'Deployment does not have minimum availability.',
            now,
          );
    const rsName = newRs?.object.metadata.name ?? '';
    const olderPods = all.some((rs) => rs !== newRs && rs.statusReplicas > 0);
    const complete =
      newRs !== undefined &&
      updated === desired &&
      replicas === desired &&
      available >= desired &&
      !olderPods;
    const progressing = createdName
      ? condition(
          old,
          'Progressing',
          'True',
          'NewReplicaSetCreated',
          `Created new replica set "${createdName}"`,
          now,
        )
      : complete
        ? condition(
            old,
            'Progressing',
            'True',
            'NewReplicaSetAvailable',
            `ReplicaSet "${rsName}" has successfully progressed.`,
            now,
          )
        : newRs
          ? condition(
              old,
              'Progressing',
              'True',
              'ReplicaSetUpdated',
              `ReplicaSet "${rsName}" is progressing.`,
              now,
            )
          : old.find((c) => c['type'] === 'Progressing');
    status['conditions'] = [availableCondition, ...(progressing ? [progressing] : [])];
    if (previous['collisionCount'] !== undefined) status['collisionCount'] = previous['collisionCount'];

    const revision = newRs ? String(newRs.revision) : undefined;
    const annotations = { ...(deployment.metadata.annotations ?? {}) };
    if (revision !== undefined) annotations[REVISION] = revision;
    const sameAnnotations = deepEqual(annotations, deployment.metadata.annotations ?? {});
    if (deepEqual(status, previous) && sameAnnotations) return;
    const next: StoredObject = { ...clone(deployment), status };
    if (!sameAnnotations) next.metadata.annotations = annotations;
    // Through /status, as the real controller does: the revision annotation must not bump generation.
    this.ctx.storage.commitUpdate(deploymentType, deployment, next, {
      ...CONTROLLER_MANAGER,
      subresource: 'status',
    });
  }
}
