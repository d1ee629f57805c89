import { ApiError } from '../api-status';
import type { StoredObject } from '../object-meta';
import type { ObjectStore, StoreEvent } from '../object-store';
import type { ResourceRegistry } from '../resource-registry';
import type { ResourceType } from '../resource-types';
import type { ApiStorage, WriteOptions } from '../storage';

/** What every in-process controller gets: the registry semantics, the raw store, the types. */
export interface ControllerContext {
  storage: ApiStorage;
  store: ObjectStore;
  registry: ResourceRegistry;
  /** Reports a failure a controller could not handle by retrying (logged by the cluster). */
  onError(controller: string, error: unknown): void;
}

export interface Controller {
  readonly name: string;
  start(): void;
  stop(): void;
}

/** Controllers write as the real ones do: the controller-manager's field manager, no dry run. */
export const CONTROLLER_MANAGER: WriteOptions = { manager: 'kube-controller-manager' };
export const SCHEDULER: WriteOptions = { manager: 'kube-scheduler' };

export function keyOf(object: StoredObject): string {
  return `${object.metadata.namespace ?? ''}/${object.metadata.name ?? ''}`;
}

export function splitKey(key: string): { namespace: string; name: string } {
  const slash = key.indexOf('/');
  return { namespace: key.slice(0, slash), name: key.slice(slash + 1) };
}

export function requireType(registry: ResourceRegistry, id: string): ResourceType {
  const type = registry.byId(id);
  if (!type) throw new Error(`the sandbox serves no ${id}`);
  return type;
}

/**
 * A deduplicating queue of object keys, drained asynchronously (after the write that triggered it
 * has answered, as with the real controllers' informers). A key that fails with a conflict or a
 * not-found is retried with backoff; the store being single-threaded, each sync sees a consistent
 * state.
 */
export class WorkQueue {
  private readonly pending = new Set<string>();
  private readonly retries = new Map<string, number>();
  private readonly timers = new Set<NodeJS.Timeout>();
  private scheduled = false;
  private stopped = false;

  constructor(
    private readonly name: string,
    private readonly sync: (key: string) => void,
    private readonly onError: (controller: string, error: unknown) => void,
  ) {}

  add(key: string): void {
    if (this.stopped) return;
    this.pending.add(key);
    if (!this.scheduled) {
      this.scheduled = true;
      setImmediate(() => this.drain());
    }
  }

  addAfter(key: string, delayMs: number): void {
    if (this.stopped) return;
    const timer = setTimeout(() => {
      this.timers.delete(timer);
      this.add(key);
    }, delayMs);
    this.timers.add(timer);
  }

  stop(): void {
    this.stopped = true;
    for (const timer of this.timers) clearTimeout(timer);
    this.timers.clear();
    this.pending.clear();
  }

  private drain(): void {
    this.scheduled = false;
    if (this.stopped) return;
    // A bounded slice of work per turn, so a burst (a thousand deployments applied at once) does
    // not keep the API server from answering meanwhile.
    const deadline = Date.now() + 20;
    for (const key of this.pending) {
      if (this.stopped) return;
      if (Date.now() > deadline) {
        this.scheduled = true;
        setImmediate(() => this.drain());
        return;
      }
      this.pending.delete(key);
      try {
        this.sync(key);
        this.retries.delete(key);
      } catch (error) {
        const attempt = (this.retries.get(key) ?? 0) + 1;
        this.retries.set(key, attempt);
        const retryable =
          error instanceof ApiError && (error.code === 409 || error.code === 404 || error.code >= 500);
        if (!retryable || attempt > 5) this.onError(this.name, error);
        if (attempt <= 20) this.addAfter(key, Math.min(10 * 2 ** attempt, 2_000));
      }
    }
  }
}

/** Subscribes to store events for some types; returns the unsubscribe function. */
export function onEvents(
  store: ObjectStore,
  typeIds: readonly string[],
  handler: (event: StoreEvent) => void,
): () => void {
  const wanted = new Set(typeIds);
  return store.subscribe((event) => {
    if (wanted.has(event.typeId)) handler(event);
  });
}

/**
 * The usual controller wiring: queue every owner (`ownerType`, kind `ownerKind`) that exists or
 * changes, and the controlling owner of every owned object (`ownedType`) that changes, before and
 * after the change. Returns the unsubscribe function.
 */
export function followOwnerAndOwned(
  store: ObjectStore,
  queue: WorkQueue,
  ownerType: string,
  ownerKind: string,
  ownedType: string,
): () => void {
  const unsubscribe = onEvents(store, [ownerType, ownedType], (event) => {
    if (event.typeId === ownerType) {
      if (event.type !== 'DELETED') queue.add(keyOf(event.object));
      return;
    }
    for (const owned of [event.object, event.previous]) {
      const owner = controllerKey(owned, ownerKind);
      if (owner) queue.add(owner);
    }
  });
  for (const owner of store.list(ownerType)) queue.add(keyOf(owner));
  return unsubscribe;
}

/** The owner (by controller reference) of a given kind, as a queue key. */
export function controllerKey(object: StoredObject | undefined, kind: string): string | undefined {
  const ref = object?.metadata.ownerReferences?.find((r) => r.controller === true && r.kind === kind);
  return ref ? `${object?.metadata.namespace ?? ''}/${ref.name}` : undefined;
}

/** Status conditions: True when the pod reports Ready. */
export function isPodReady(pod: StoredObject): boolean {
  const conditions = (pod['status'] as { conditions?: Array<{ type?: string; status?: string }> } | undefined)
    ?.conditions;
  return conditions?.some((c) => c.type === 'Ready' && c.status === 'True') ?? false;
}

/** Ready for at least minReadySeconds; otherwise the milliseconds until it will be (or Infinity). */
export function availableIn(pod: StoredObject, minReadySeconds: number, now = Date.now()): number {
  const conditions = (
    pod['status'] as
      { conditions?: Array<{ type?: string; status?: string; lastTransitionTime?: string }> } | undefined
  )?.conditions;
  const ready = conditions?.find((c) => c.type === 'Ready' && c.status === 'True');
  if (!ready) return Infinity;
  if (minReadySeconds <= 0) return 0;
  const since = Date.parse(ready.lastTransitionTime ?? '') || now;
  return Math.max(0, since + minReadySeconds * 1000 - now);
}

/** Pods that count as running replicas: not terminating, not finished. */
export function isActivePod(pod: StoredObject): boolean {
  const phase = (pod['status'] as { phase?: string } | undefined)?.phase;
  return pod.metadata.deletionTimestamp === undefined && phase !== 'Succeeded' && phase !== 'Failed';
}
