import { ApiError } from '../api-status';
import { clone, deepEqual, getArray, getObject, isObject, type JsonObject } from '../json';
import { timestamp, type StoredObject } from '../object-meta';
import { CRD_CLEANUP_FINALIZER } from '../storage';
import { type Controller, type ControllerContext, requireType, WorkQueue } from './controller-kit';

const CRDS = 'apiextensions.k8s.io/customresourcedefinitions';
/** The apiextensions-apiserver writes CRD status under this manager. */
const APISERVER = { manager: 'kube-apiserver' };

/**
 * The apiextensions side of CustomResourceDefinitions (part of the API server, so it runs even
 * without the controllers): a new or changed CRD is served at once and marked NamesAccepted and
 * Established; a deleted one has its custom resources deleted, stops being served, and goes.
 */
export class CrdController implements Controller {
  readonly name = 'crd-controller';
  private readonly queue: WorkQueue;
  private unsubscribe: (() => void) | undefined;

  constructor(private readonly ctx: ControllerContext) {
    this.queue = new WorkQueue(this.name, (name) => this.sync(name), ctx.onError);
  }

  start(): void {
    this.unsubscribe = this.ctx.store.subscribe((event) => {
      if (event.typeId === CRDS) {
        if (event.type === 'DELETED') this.ctx.registry.unregisterCustom(event.object.metadata.name ?? '');
        else this.establish(event.object);
        this.queue.add(event.object.metadata.name ?? '');
        return;
      }
      if (event.type === 'DELETED') {
        const crdName = this.ctx.registry.byId(event.typeId)?.custom?.crdName;
        if (crdName) this.queue.add(crdName);
      }
    });
  }

  stop(): void {
    this.unsubscribe?.();
    this.queue.stop();
  }

  /** Serving starts synchronously with the write, so a client may use the kind right after. */
  private establish(crd: StoredObject): void {
    if (!crd.metadata.deletionTimestamp) this.ctx.registry.registerCustom(crd);
  }

  private sync(name: string): void {
    const crd = this.ctx.store.get(CRDS, '', name);
    if (!crd) return;
    const crdType = requireType(this.ctx.registry, CRDS);
    if (crd.metadata.deletionTimestamp) {
      this.cleanup(crd);
      return;
    }
    const status = this.establishedStatus(crd);
    if (deepEqual(status, crd['status'])) return;
    this.ctx.storage.commitUpdate(
      crdType,
      crd,
      { ...clone(crd), status },
      { ...APISERVER, subresource: 'status' },
    );
  }

  private establishedStatus(crd: StoredObject): JsonObject {
    const previous = getObject(crd, ['status']) ?? {};
    const conditions = (getArray(previous, ['conditions']) ?? []).filter(isObject);
    const now = timestamp();
    const keep = (type: string, reason: string, message: string): JsonObject => {
      const old = conditions.find((c) => c['type'] === type && c['status'] === 'True');
      return {
        type,
        status: 'True',
        lastTransitionTime: old?.['lastTransitionTime'] ?? now,
        reason,
        message,
      };
    };
    const names = clone(getObject(crd, ['spec', 'names']) ?? {});
    const storage = (getArray(crd, ['spec', 'versions']) ?? []).find(
      (v) => isObject(v) && v['storage'] === true,
    );
    const stored = new Set(
      (getArray(previous, ['storedVersions']) ?? []).filter((v): v is string => typeof v === 'string'),
    );
    if (isObject(storage) && typeof storage['name'] === 'string') stored.add(storage['name']);
    return {
      conditions: [
        keep('NamesAccepted', 'NoConflicts', 'no conflicts found'),
        keep('Established', 'InitialNamesAccepted', 'the initial names have been accepted'),
      ],
      acceptedNames: names,
      storedVersions: [...stored],
    };
  }

  /** Deletes the custom resources, then lets the CRD go (its cleanup finalizer removed). */
  private cleanup(crd: StoredObject): void {
    const name = crd.metadata.name ?? '';
    const types = this.ctx.registry.all().filter((t) => t.custom?.crdName === name);
    const type = types[0];
    let remaining = 0;
    if (type) {
      for (const object of this.ctx.store.list(type.id)) {
        if (!object.metadata.deletionTimestamp) {
          try {
            this.ctx.storage.delete(type, object.metadata.namespace, object.metadata.name ?? '', {});
          } catch (error) {
            if (!(error instanceof ApiError) || error.code !== 404) throw error;
          }
        }
      }
      remaining = this.ctx.store.list(type.id).length;
    }
    const crdType = requireType(this.ctx.registry, CRDS);
    const current = this.ctx.store.get(CRDS, '', name);
    if (!current) return;
    if (remaining > 0) {
      const status = clone(getObject(current, ['status']) ?? {});
      const all = (getArray(status, ['conditions']) ?? []).filter(isObject);
      const terminating = all.find((c) => c['type'] === 'Terminating');
      if (terminating?.['reason'] === 'InstanceDeletionInProgress') return;
      const conditions = all.filter((c) => c['type'] !== 'Terminating');
      status['conditions'] = [
        ...conditions,
        {
          type: 'Terminating',
          status: 'True',
          lastTransitionTime: terminating?.['lastTransitionTime'] ?? timestamp(),
          reason: 'InstanceDeletionInProgress',
          message: 'CustomResource deletion is in progress',
        },
      ];
      this.ctx.storage.commitUpdate(
        crdType,
        current,
        { ...clone(current), status },
        { ...APISERVER, subresource: 'status' },
      );
      return;
    }
    this.ctx.registry.unregisterCustom(name);
    const next = clone(current);
    next.metadata.finalizers = (next.metadata.finalizers ?? []).filter((f) => f !== CRD_CLEANUP_FINALIZER);
    if (next.metadata.finalizers.length === 0) delete next.metadata.finalizers;
    this.ctx.storage.commitUpdate(crdType, current, next, APISERVER);
  }
}
