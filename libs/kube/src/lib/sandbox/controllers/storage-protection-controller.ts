import { clone, getArray, getObject, getString, isObject } from '../json';
import type { StoredObject } from '../object-meta';
import {
  CONTROLLER_MANAGER,
  type Controller,
  type ControllerContext,
  keyOf,
  onEvents,
  requireType,
  splitKey,
  WorkQueue,
} from './controller-kit';

const VOLUMES = '/persistentvolumes';
const CLAIMS = '/persistentvolumeclaims';
const PODS = '/pods';
export const PVC_PROTECTION = 'kubernetes.io/pvc-protection';
export const PV_PROTECTION = 'kubernetes.io/pv-protection';

/**
 * The pvc-protection and pv-protection controllers: the StorageObjectInUseProtection admission
 * plugin gives every new claim and volume a finalizer (see prepareForCreate); a deleted claim keeps
 * it while a scheduled pod mounts the claim, a deleted volume while it is Bound.
 */
export class StorageProtectionController implements Controller {
  readonly name = 'storage-protection-controller';
  private readonly queue: WorkQueue;
  private unsubscribe: (() => void) | undefined;

  constructor(private readonly ctx: ControllerContext) {
    this.queue = new WorkQueue(this.name, (key) => this.sync(key), ctx.onError);
  }

  start(): void {
    this.unsubscribe = onEvents(this.ctx.store, [VOLUMES, CLAIMS, PODS], (event) => {
      if (event.typeId === PODS) {
        // A pod going (or leaving its node) may free the claims it mounts.
        const namespace = event.object.metadata.namespace ?? '';
        for (const claim of claimsOf(event.object)) this.queue.add(`${CLAIMS}|${namespace}/${claim}`);
      } else if (event.type !== 'DELETED' && event.object.metadata.deletionTimestamp) {
        this.queue.add(`${event.typeId}|${keyOf(event.object)}`);
      }
    });
    for (const typeId of [VOLUMES, CLAIMS])
      for (const object of this.ctx.store.list(typeId))
        if (object.metadata.deletionTimestamp) this.queue.add(`${typeId}|${keyOf(object)}`);
  }

  stop(): void {
    this.unsubscribe?.();
    this.queue.stop();
  }

  private sync(key: string): void {
    const bar = key.indexOf('|');
    const typeId = key.slice(0, bar);
    const { namespace, name } = splitKey(key.slice(bar + 1));
    const object = this.ctx.store.get(typeId, namespace, name);
    if (!object?.metadata.deletionTimestamp) return;
    const finalizer = typeId === CLAIMS ? PVC_PROTECTION : PV_PROTECTION;
    if (!(object.metadata.finalizers ?? []).includes(finalizer)) return;
    const inUse =
      typeId === CLAIMS
        ? this.ctx.store
            .list(PODS, namespace)
            .some((pod) => getString(pod, ['spec', 'nodeName']) && claimsOf(pod).includes(name))
        : getString(object, ['status', 'phase']) === 'Bound';
    if (inUse) return;
    const next = clone(object);
    next.metadata.finalizers = (object.metadata.finalizers ?? []).filter((f) => f !== finalizer);
    if (next.metadata.finalizers.length === 0) delete next.metadata.finalizers;
    this.ctx.storage.commitUpdate(requireType(this.ctx.registry, typeId), object, next, CONTROLLER_MANAGER);
  }
}

function claimsOf(pod: StoredObject): string[] {
  return (getArray(pod, ['spec', 'volumes']) ?? [])
    .filter(isObject)
    .map((volume) => getString(getObject(volume, ['persistentVolumeClaim']), ['claimName']))
    .filter((claim): claim is string => claim !== undefined);
}
