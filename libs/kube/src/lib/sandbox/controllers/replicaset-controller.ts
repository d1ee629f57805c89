import { ApiError } from '../api-status';
import { clone, deepEqual, getNumber, getObject, getString } from '../json';
import { controllerRef, ownerRefTo, type StoredObject } from '../object-meta';
import { fromLabelSelectorObject, matchesLabels } from '../selectors';
import {
  availableIn,
  CONTROLLER_MANAGER,
  followOwnerAndOwned,
  type Controller,
  type ControllerContext,
  isActivePod,
  isPodReady,
  keyOf,
  requireType,
  splitKey,
  WorkQueue,
} from './controller-kit';

const RS = 'apps/replicasets';
const PODS = '/pods';

/**
 * ReplicaSet → Pods: creates pods from the template (named `<rs>-<5 chars>`, owned by the replica
 * set) until there are spec.replicas active ones, deletes the surplus (unscheduled, then not ready,
 * then newest first), and reports replicas / ready / available in the status.
 */
export class ReplicaSetController implements Controller {
  readonly name = 'replicaset-controller';
  private readonly queue: WorkQueue;
  private unsubscribe: (() => void) | undefined;

  constructor(private readonly ctx: ControllerContext) {
    this.queue = new WorkQueue(this.name, (key) => this.sync(key), ctx.onError);
  }

  start(): void {
    this.unsubscribe = followOwnerAndOwned(this.ctx.store, this.queue, RS, 'ReplicaSet', PODS);
  }

  stop(): void {
    this.unsubscribe?.();
    this.queue.stop();
  }

  private sync(key: string): void {
    const { namespace, name } = splitKey(key);
    const rs = this.ctx.store.get(RS, namespace, name);
    if (!rs) return;
    const rsType = requireType(this.ctx.registry, RS);
    const podType = requireType(this.ctx.registry, PODS);
    const uid = rs.metadata.uid;
    const owned = this.ctx.store
      .dependents(uid ?? '')
      .filter((d) => d.typeId === PODS && controllerRef(d.object)?.uid === uid)
      .map((d) => d.object);
    const active = owned.filter(isActivePod);
    const desired = getNumber(rs, ['spec', 'replicas']) ?? 1;

    if (!rs.metadata.deletionTimestamp) {
      if (active.length < desired) {
        for (let i = active.length; i < desired; i++) {
          if (!this.createPod(rs, podType)) break;
        }
      } else if (active.length > desired) {
        for (const pod of rankForDeletion(active).slice(0, active.length - desired)) {
          this.deletePod(podType, pod);
        }
      }
    }

    const now = this.ctx.store.get(RS, namespace, name);
    if (now) this.writeStatus(rsType, now);
  }

  private createPod(rs: StoredObject, podType: ReturnType<typeof requireType>): boolean {
    const template = getObject(rs, ['spec', 'template']) ?? {};
    const templateMeta = getObject(template, ['metadata']) ?? {};
    const pod: StoredObject = {
      apiVersion: 'v1',
      kind: 'Pod',
      metadata: {
        generateName: `${rs.metadata.name}-`,
        namespace: rs.metadata.namespace,
        ...(templateMeta['labels']
          ? { labels: clone(templateMeta['labels'] as Record<string, string>) }
          : {}),
        ...(templateMeta['annotations']
          ? { annotations: clone(templateMeta['annotations'] as Record<string, string>) }
          : {}),
        ownerReferences: [ownerRefTo(rs, 'apps/v1', 'ReplicaSet')],
      },
      spec: clone(getObject(template, ['spec']) ?? {}),
    };
    try {
      this.ctx.storage.create(podType, rs.metadata.namespace, pod, CONTROLLER_MANAGER);
      return true;
    } catch (error) {
      // A terminating namespace refuses new pods (403): nothing to do, the namespace is going.
      if (error instanceof ApiError && error.code === 403) return false;
      throw error;
    }
  }

  private deletePod(podType: ReturnType<typeof requireType>, pod: StoredObject): void {
    try {
      this.ctx.storage.delete(podType, pod.metadata.namespace, pod.metadata.name ?? '', {});
    } catch (error) {
      if (!(error instanceof ApiError) || error.code !== 404) throw error;
    }
  }

  private writeStatus(rsType: ReturnType<typeof requireType>, rs: StoredObject): void {
    const uid = rs.metadata.uid;
    const pods = this.ctx.store
      .dependents(uid ?? '')
      .filter((d) => d.typeId === PODS && controllerRef(d.object)?.uid === uid)
      .map((d) => d.object)
      .filter(isActivePod);
    const minReady = getNumber(rs, ['spec', 'minReadySeconds']) ?? 0;
    const templateLabels = (getObject(rs, ['spec', 'template', 'metadata', 'labels']) ?? {}) as Record<
      string,
      string
    >;
    const templateSelector = fromLabelSelectorObject({ matchLabels: templateLabels }) ?? [];
    let ready = 0;
    let available = 0;
    let soonest = Infinity;
    for (const pod of pods) {
      if (!isPodReady(pod)) continue;
      ready++;
      const wait = availableIn(pod, minReady);
      if (wait === 0) available++;
      else soonest = Math.min(soonest, wait);
    }
    if (soonest !== Infinity) this.queueLater(rs, soonest);
    const fullyLabeled = pods.filter((p) => matchesLabels(templateSelector, p.metadata.labels)).length;
    // Zero counts are omitted (omitempty), except replicas.
    const status: Record<string, unknown> = { replicas: pods.length };
    if (fullyLabeled > 0) status['fullyLabeledReplicas'] = fullyLabeled;
    if (ready > 0) status['readyReplicas'] = ready;
    if (available > 0) status['availableReplicas'] = available;
    if (rs.metadata.generation !== undefined) status['observedGeneration'] = rs.metadata.generation;
    const conditions = getObject(rs, ['status'])?.['conditions'];
    if (conditions) status['conditions'] = conditions;
    if (deepEqual(status, rs['status'])) return;
    this.ctx.storage.commitUpdate(
      rsType,
      rs,
      { ...clone(rs), status },
      { ...CONTROLLER_MANAGER, subresource: 'status' },
    );
  }

  private queueLater(rs: StoredObject, delayMs: number): void {
    this.queue.addAfter(keyOf(rs), delayMs + 5);
  }
}

/** The real ranking of pods to delete first: unassigned, pending, not ready, then the newest. */
function rankForDeletion(pods: StoredObject[]): StoredObject[] {
  const score = (pod: StoredObject): number[] => {
    const assigned = getString(pod, ['spec', 'nodeName']) ? 1 : 0;
    const phase = getString(pod, ['status', 'phase']);
    const phaseRank = phase === 'Pending' ? 0 : phase === 'Unknown' ? 1 : 2;
    const ready = isPodReady(pod) ? 1 : 0;
    const created = -(Date.parse(pod.metadata.creationTimestamp ?? '') || 0);
    return [assigned, phaseRank, ready, created];
  };
  return [...pods].sort((a, b) => {
    const sa = score(a);
    const sb = score(b);
    for (let i = 0; i < sa.length; i++) if (sa[i] !== sb[i]) return sa[i] - sb[i];
    return 0;
  });
}
