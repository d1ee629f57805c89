import { ApiError } from '../api-status';
import {
  clone,
  deepEqual,
  getArray,
  getNumber,
  getObject,
  getString,
  isObject,
  type JsonObject,
} from '../json';
import { controllerRef, fnv32a, ownerRefTo, safeEncode, type StoredObject } from '../object-meta';
import type { ResourceType } from '../resource-types';
import {
  CONTROLLER_MANAGER,
  followOwnerAndOwned,
  type Controller,
  type ControllerContext,
  isActivePod,
  isPodReady,
  requireType,
  splitKey,
  WorkQueue,
} from './controller-kit';

const STS = 'apps/statefulsets';
const PODS = '/pods';
const PVCS = '/persistentvolumeclaims';
const REVISION_LABEL = 'controller-revision-hash';
const POD_NAME_LABEL = 'statefulset.kubernetes.io/pod-name';

/**
 * StatefulSet → Pods `<name>-<ordinal>`, like the real controller: with OrderedReady (the default)
 * one pod at a time, each waiting for its predecessors to be Running and Ready, scaling down from
 * the highest ordinal; with Parallel all at once. Claims from volumeClaimTemplates are created as
 * `<claim>-<pod>`. A template change rolls pods from the highest ordinal down to the partition.
 */
export class StatefulSetController implements Controller {
  readonly name = 'statefulset-controller';
  private readonly queue: WorkQueue;
  private unsubscribe: (() => void) | undefined;

  constructor(private readonly ctx: ControllerContext) {
    this.queue = new WorkQueue(this.name, (key) => this.sync(key), ctx.onError);
  }

  start(): void {
    this.unsubscribe = followOwnerAndOwned(this.ctx.store, this.queue, STS, 'StatefulSet', PODS);
  }

  stop(): void {
    this.unsubscribe?.();
    this.queue.stop();
  }

  private sync(key: string): void {
    const { namespace, name } = splitKey(key);
    const sts = this.ctx.store.get(STS, namespace, name);
    if (!sts) return;
    const podType = requireType(this.ctx.registry, PODS);
    const replicas = getNumber(sts, ['spec', 'replicas']) ?? 1;
    const parallel = getString(sts, ['spec', 'podManagementPolicy']) === 'Parallel';
    const revision = `${name}-${safeEncode(String(fnv32a(JSON.stringify(getObject(sts, ['spec', 'template']) ?? {}))))}`;
    const pods = this.ownedPods(sts);
    const byOrdinal = new Map<number, StoredObject>();
    for (const pod of pods) {
      const ordinal = ordinalOf(name, pod.metadata.name ?? '');
      if (ordinal !== undefined) byOrdinal.set(ordinal, pod);
    }

    if (!sts.metadata.deletionTimestamp) {
      const anyTerminating = pods.some((p) => p.metadata.deletionTimestamp !== undefined);
      let blocked = false;
      for (let ordinal = 0; ordinal < replicas && !blocked; ordinal++) {
        const pod = byOrdinal.get(ordinal);
        if (!pod) {
          if (!this.createPod(sts, podType, ordinal, revision)) return;
          if (!parallel) blocked = true;
        } else if (!parallel && (!isRunningAndReady(pod) || pod.metadata.deletionTimestamp)) {
          blocked = true;
        }
      }
      const condemned = [...byOrdinal.entries()]
        .filter(([ordinal]) => ordinal >= replicas)
        .sort(([a], [b]) => b - a);
      if (condemned.length > 0 && (parallel || !anyTerminating)) {
        for (const [, pod] of parallel ? condemned : condemned.slice(0, 1)) {
          if (!pod.metadata.deletionTimestamp) this.deletePod(podType, pod);
        }
      } else if (
        !blocked &&
        !anyTerminating &&
        getString(sts, ['spec', 'updateStrategy', 'type']) !== 'OnDelete'
      ) {
        // Rolling update: replace the highest-ordinal pod still on an old revision, once all are ready.
        const partition = getNumber(sts, ['spec', 'updateStrategy', 'rollingUpdate', 'partition']) ?? 0;
        const allReady = [...byOrdinal.values()].every(isRunningAndReady);
        const stale = [...byOrdinal.entries()]
          .filter(
            ([ordinal, pod]) =>
              ordinal >= partition &&
              ordinal < replicas &&
              pod.metadata.labels?.[REVISION_LABEL] !== revision,
          )
          .sort(([a], [b]) => b - a);
        if (stale.length > 0 && (allReady || parallel)) this.deletePod(podType, stale[0][1]);
      }
    }

    const fresh = this.ctx.store.get(STS, namespace, name);
    if (fresh) this.writeStatus(fresh, revision);
  }

  private ownedPods(sts: StoredObject): StoredObject[] {
    const uid = sts.metadata.uid;
    return this.ctx.store
      .dependents(uid ?? '')
      .filter((d) => d.typeId === PODS && controllerRef(d.object)?.uid === uid)
      .map((d) => d.object);
  }

  private createPod(sts: StoredObject, podType: ResourceType, ordinal: number, revision: string): boolean {
    const name = `${sts.metadata.name}-${ordinal}`;
    const template = getObject(sts, ['spec', 'template']) ?? {};
    const templateMeta = getObject(template, ['metadata']) ?? {};
    const spec = clone(getObject(template, ['spec']) ?? {});
    spec['hostname'] = name;
    const serviceName = getString(sts, ['spec', 'serviceName']);
    if (serviceName) spec['subdomain'] = serviceName;
    const volumes = (getArray(spec, ['volumes']) ?? []).filter(isObject);
    for (const claim of (getArray(sts, ['spec', 'volumeClaimTemplates']) ?? []).filter(isObject)) {
      const claimName = getString(claim, ['metadata', 'name']);
      if (!claimName) continue;
      this.ensureClaim(sts, claim, `${claimName}-${name}`);
      const volume = { name: claimName, persistentVolumeClaim: { claimName: `${claimName}-${name}` } };
      const at = volumes.findIndex((v) => v['name'] === claimName);
      if (at >= 0) volumes[at] = volume;
      else volumes.push(volume);
    }
    if (volumes.length > 0) spec['volumes'] = volumes;
    const pod: StoredObject = {
      apiVersion: 'v1',
      kind: 'Pod',
      metadata: {
        name,
        namespace: sts.metadata.namespace,
        labels: {
          ...((templateMeta['labels'] as Record<string, string> | undefined) ?? {}),
          [REVISION_LABEL]: revision,
          [POD_NAME_LABEL]: name,
        },
        ...(templateMeta['annotations']
          ? { annotations: clone(templateMeta['annotations'] as Record<string, string>) }
          : {}),
        ownerReferences: [ownerRefTo(sts, 'apps/v1', 'StatefulSet')],
      },
      spec,
    };
    try {
      this.ctx.storage.create(podType, sts.metadata.namespace, pod, CONTROLLER_MANAGER);
      return true;
    } catch (error) {
      if (error instanceof ApiError && (error.code === 403 || error.code === 409)) return false;
      throw error;
    }
  }

  private ensureClaim(sts: StoredObject, template: JsonObject, name: string): void {
    const pvcType = requireType(this.ctx.registry, PVCS);
    if (this.ctx.store.get(PVCS, sts.metadata.namespace ?? '', name)) return;
    const selectorLabels = (getObject(sts, ['spec', 'selector', 'matchLabels']) ?? {}) as Record<
      string,
      string
    >;
    const claim: StoredObject = {
      apiVersion: 'v1',
      kind: 'PersistentVolumeClaim',
      metadata: {
        ...clone((getObject(template, ['metadata']) ?? {}) as Record<string, unknown>),
        name,
        namespace: sts.metadata.namespace,
        labels: {
          ...((getObject(template, ['metadata', 'labels']) as Record<string, string> | undefined) ?? {}),
          ...selectorLabels,
        },
      },
      spec: clone(getObject(template, ['spec']) ?? {}),
    };
    try {
      this.ctx.storage.create(pvcType, sts.metadata.namespace, claim, CONTROLLER_MANAGER);
    } catch (error) {
      if (!(error instanceof ApiError) || (error.code !== 409 && error.code !== 403)) throw error;
    }
  }

  private deletePod(podType: ResourceType, pod: StoredObject): void {
    try {
      this.ctx.storage.delete(podType, pod.metadata.namespace, pod.metadata.name ?? '', {});
    } catch (error) {
      if (!(error instanceof ApiError) || error.code !== 404) throw error;
    }
  }

  private writeStatus(sts: StoredObject, updateRevision: string): void {
    const stsType = requireType(this.ctx.registry, STS);
    const pods = this.ownedPods(sts).filter(isActivePod);
    const previous = getObject(sts, ['status']) ?? {};
    const updated = pods.filter((p) => p.metadata.labels?.[REVISION_LABEL] === updateRevision).length;
    const ready = pods.filter(isPodReady).length;
    const replicas = getNumber(sts, ['spec', 'replicas']) ?? 1;
    // The current revision catches up with the update revision once every pod runs it.
    const currentRevision =
      updated === pods.length && pods.length === replicas
        ? updateRevision
        : ((previous['currentRevision'] as string | undefined) ?? updateRevision);
    const current = pods.filter((p) => p.metadata.labels?.[REVISION_LABEL] === currentRevision).length;
    const status: JsonObject = { observedGeneration: sts.metadata.generation ?? 1, replicas: pods.length };
    if (ready > 0) status['readyReplicas'] = ready;
    if (current > 0) status['currentReplicas'] = current;
    if (updated > 0) status['updatedReplicas'] = updated;
    status['currentRevision'] = currentRevision;
    status['updateRevision'] = updateRevision;
    status['collisionCount'] = previous['collisionCount'] ?? 0;
    if (deepEqual(status, previous)) return;
    this.ctx.storage.commitUpdate(
      stsType,
      sts,
      { ...clone(sts), status },
      { ...CONTROLLER_MANAGER, subresource: 'status' },
    );
  }
}

function ordinalOf(setName: string, podName: string): number | undefined {
  if (!podName.startsWith(`${setName}-`)) return undefined;
  const tail = podName.slice(setName.length + 1);
  return /^(0|[1-9][0-9]*)$/.test(tail) ? Number(tail) : undefined;
}

function isRunningAndReady(pod: StoredObject): boolean {
  return getString(pod, ['status', 'phase']) === 'Running' && isPodReady(pod);
}
