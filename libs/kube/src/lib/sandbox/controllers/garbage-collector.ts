import { ApiError } from '../api-status';
import { clone } from '../json';
import type { StoredObject } from '../object-meta';
import type { ResourceType } from '../resource-types';
import { CONTROLLER_MANAGER, type Controller, type ControllerContext, WorkQueue } from './controller-kit';

const FOREGROUND = 'foregroundDeletion';
const ORPHAN = 'orphan';

/**
 * The garbage collector over ownerReferences: a dependent whose owners are all gone is deleted
 * (one whose owners are partly gone loses the dangling references); an owner deleted in the
 * foreground deletes its dependents and keeps its `foregroundDeletion` finalizer until those that
 * block owner deletion are gone; an owner deleted with Orphan releases its dependents first.
 */
export class GarbageCollector implements Controller {
  readonly name = 'garbage-collector';
  private readonly queue: WorkQueue;
  private unsubscribe: (() => void) | undefined;

  constructor(private readonly ctx: ControllerContext) {
    this.queue = new WorkQueue(this.name, (key) => this.sync(key), ctx.onError);
  }

  start(): void {
    this.unsubscribe = this.ctx.store.subscribe((event) => {
      const uid = event.object.metadata.uid;
      if (!uid) return;
      if (event.type === 'DELETED') {
        for (const dependent of this.ctx.store.dependents(uid))
          this.queue.add(`dependent:${dependent.object.metadata.uid}`);
        // An owner waiting in the foreground may now be free to go.
        for (const ref of event.object.metadata.ownerReferences ?? []) this.queue.add(`owner:${ref.uid}`);
        return;
      }
      const finalizers = event.object.metadata.finalizers ?? [];
      if (
        event.object.metadata.deletionTimestamp &&
        (finalizers.includes(FOREGROUND) || finalizers.includes(ORPHAN))
      ) {
        this.queue.add(`owner:${uid}`);
      }
      if (event.type === 'ADDED' && (event.object.metadata.ownerReferences?.length ?? 0) > 0) {
        // Created with an owner that is already gone (or never existed).
        this.queue.add(`dependent:${uid}`);
      }
    });
    // After a restart: anything whose owners vanished meanwhile, and owners mid-deletion.
    for (const typeId of this.ctx.store.typeIds()) {
      for (const object of this.ctx.store.list(typeId)) {
        if ((object.metadata.ownerReferences?.length ?? 0) > 0)
          this.queue.add(`dependent:${object.metadata.uid}`);
        if (object.metadata.deletionTimestamp) this.queue.add(`owner:${object.metadata.uid}`);
      }
    }
  }

  stop(): void {
    this.unsubscribe?.();
    this.queue.stop();
  }

  private sync(key: string): void {
    const colon = key.indexOf(':');
    const uid = key.slice(colon + 1);
    if (key.startsWith('dependent:')) this.collectDependent(uid);
    else this.processOwner(uid);
  }

  private typeOf(typeId: string): ResourceType | undefined {
    return this.ctx.registry.byId(typeId);
  }

  private collectDependent(uid: string): void {
    const found = this.ctx.store.locate(uid);
    if (!found || found.object.metadata.deletionTimestamp) return;
    const refs = found.object.metadata.ownerReferences ?? [];
    if (refs.length === 0) return;
    const absent = refs.filter((ref) => this.ctx.store.locate(ref.uid) === undefined);
    if (absent.length === 0) return;
    const type = this.typeOf(found.typeId);
    if (!type) return;
    if (absent.length === refs.length) {
      this.remove(type, found.object, 'Background');
      return;
    }
    const next = clone(found.object);
    next.metadata.ownerReferences = refs.filter((ref) => !absent.includes(ref));
    this.ctx.storage.commitUpdate(type, found.object, next, CONTROLLER_MANAGER);
  }

  private processOwner(uid: string): void {
    const found = this.ctx.store.locate(uid);
    if (!found || !found.object.metadata.deletionTimestamp) return;
    const owner = found.object;
    const type = this.typeOf(found.typeId);
    if (!type) return;
    const finalizers = owner.metadata.finalizers ?? [];
    const dependents = this.ctx.store.dependents(uid);
    if (finalizers.includes(ORPHAN)) {
      for (const dependent of dependents) {
        const dependentType = this.typeOf(dependent.typeId);
        if (!dependentType) continue;
        const next = clone(dependent.object);
        next.metadata.ownerReferences = (next.metadata.ownerReferences ?? []).filter(
          (ref) => ref.uid !== uid,
        );
        if (next.metadata.ownerReferences.length === 0) delete next.metadata.ownerReferences;
        this.ctx.storage.commitUpdate(dependentType, dependent.object, next, CONTROLLER_MANAGER);
      }
      this.dropFinalizer(type, owner, ORPHAN);
      return;
    }
    if (!finalizers.includes(FOREGROUND)) return;
    for (const dependent of dependents) {
      if (dependent.object.metadata.deletionTimestamp) continue;
      const dependentType = this.typeOf(dependent.typeId);
      if (dependentType) this.remove(dependentType, dependent.object, 'Foreground');
    }
    const blocking = this.ctx.store
      .dependents(uid)
      .some(
        (d) => d.object.metadata.ownerReferences?.find((r) => r.uid === uid)?.blockOwnerDeletion === true,
      );
    if (!blocking) this.dropFinalizer(type, owner, FOREGROUND);
  }

  private remove(type: ResourceType, object: StoredObject, policy: 'Background' | 'Foreground'): void {
    try {
      this.ctx.storage.delete(type, object.metadata.namespace, object.metadata.name ?? '', {
        propagationPolicy: policy,
      });
    } catch (error) {
      if (!(error instanceof ApiError) || error.code !== 404) throw error;
    }
  }

  private dropFinalizer(type: ResourceType, object: StoredObject, finalizer: string): void {
    const current = this.ctx.store.get(type.id, object.metadata.namespace ?? '', object.metadata.name ?? '');
    if (!current || !(current.metadata.finalizers ?? []).includes(finalizer)) return;
    const next = clone(current);
    next.metadata.finalizers = (next.metadata.finalizers ?? []).filter((f) => f !== finalizer);
    if (next.metadata.finalizers.length === 0) delete next.metadata.finalizers;
    this.ctx.storage.commitUpdate(type, current, next, CONTROLLER_MANAGER);
  }
}
