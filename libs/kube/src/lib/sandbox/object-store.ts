import type { StoredObject } from './object-meta';

export type StoreEventType = 'ADDED' | 'MODIFIED' | 'DELETED';

/** One committed change, as watches and controllers see it. */
export interface StoreEvent {
  readonly type: StoreEventType;
  readonly typeId: string;
  readonly resourceVersion: number;
  /** The new state; for DELETED the last state, stamped with the deletion's resourceVersion. */
  readonly object: StoredObject;
  /** The state before (MODIFIED, DELETED), so selector watches can tell objects leaving them. */
  readonly previous?: StoredObject;
}

export type StoreListener = (event: StoreEvent) => void;

interface Location {
  typeId: string;
  namespace: string;
  name: string;
}

/**
 * The sandbox's etcd: objects by type, namespace and name, one global resourceVersion counter, and a
 * bounded window of recent events so watches can resume from a resourceVersion (older ones get 410
 * Expired, as from the real watch cache). Stored objects are never mutated: every write stores a
 * new object, so readers may hand them out without copying.
 */
export class ObjectStore {
  private revision: number;
  private readonly objects = new Map<string, Map<string, Map<string, StoredObject>>>();
  private readonly history: StoreEvent[];
  private historyStart = 0;
  private historyLength = 0;
  /** Watches may resume from any resourceVersion >= floor. */
  private floor: number;
  private readonly listeners = new Set<StoreListener>();
  private readonly pending: StoreEvent[] = [];
  private dispatching = false;
  private readonly byUid = new Map<string, Location>();
  private readonly dependentsByOwner = new Map<string, Set<string>>();

  constructor(historySize: number, initialRevision = 0) {
    this.history = new Array<StoreEvent>(Math.max(1, historySize));
    this.revision = initialRevision;
    this.floor = initialRevision;
  }

  get resourceVersion(): number {
    return this.revision;
  }

  get(typeId: string, namespace: string, name: string): StoredObject | undefined {
    return this.objects.get(typeId)?.get(namespace)?.get(name);
  }

  /** Objects of a type, in one namespace or all, sorted by namespace then name like etcd keys. */
  list(typeId: string, namespace?: string): StoredObject[] {
    const byNamespace = this.objects.get(typeId);
    if (!byNamespace) return [];
    const namespaces = namespace === undefined ? [...byNamespace.keys()].sort() : [namespace];
    const out: StoredObject[] = [];
    for (const ns of namespaces) {
      const names = byNamespace.get(ns);
      if (!names) continue;
      for (const name of [...names.keys()].sort()) out.push(names.get(name) as StoredObject);
    }
    return out;
  }

  /** Counts without sorting (namespace deletion, scheduler spreading). */
  count(typeId: string, namespace: string): number {
    return this.objects.get(typeId)?.get(namespace)?.size ?? 0;
  }

  typeIds(): string[] {
    return [...this.objects.keys()];
  }

  locate(uid: string): (Location & { object: StoredObject }) | undefined {
    const at = this.byUid.get(uid);
    if (!at) return undefined;
    const object = this.get(at.typeId, at.namespace, at.name);
    return object ? { ...at, object } : undefined;
  }

  /** Objects whose ownerReferences name this uid. */
  dependents(ownerUid: string): Array<Location & { object: StoredObject }> {
    const keys = this.dependentsByOwner.get(ownerUid);
    if (!keys) return [];
    const out: Array<Location & { object: StoredObject }> = [];
    for (const uid of keys) {
      const found = this.locate(uid);
      if (found) out.push(found);
    }
    return out;
  }

  /** Stores a new or changed object, stamping the next resourceVersion on it. */
  put(typeId: string, object: StoredObject): StoredObject {
    const namespace = object.metadata.namespace ?? '';
    const name = object.metadata.name ?? '';
    const previous = this.get(typeId, namespace, name);
    this.revision += 1;
    object.metadata.resourceVersion = String(this.revision);
    this.place(typeId, namespace, name, object, previous);
    this.record({
      type: previous ? 'MODIFIED' : 'ADDED',
      typeId,
      resourceVersion: this.revision,
      object,
      previous,
    });
    return object;
  }

  remove(typeId: string, namespace: string, name: string): StoredObject | undefined {
    const previous = this.get(typeId, namespace, name);
    if (!previous) return undefined;
    this.revision += 1;
    const names = this.objects.get(typeId)?.get(namespace);
    names?.delete(name);
    if (names && names.size === 0) this.objects.get(typeId)?.delete(namespace);
    this.unindex(previous);
    const tombstone: StoredObject = {
      ...previous,
      metadata: { ...previous.metadata, resourceVersion: String(this.revision) },
    };
    this.record({ type: 'DELETED', typeId, resourceVersion: this.revision, object: tombstone, previous });
    return tombstone;
  }

  /**
   * Events after `resourceVersion`, or 'expired' when the window no longer reaches back that far.
   * `oldest` is what the real message reports: "too old resource version: X (oldest)".
   */
  eventsSince(resourceVersion: number): StoreEvent[] | { expired: true; oldest: number } {
    if (resourceVersion < this.floor) return { expired: true, oldest: this.floor };
    const out: StoreEvent[] = [];
    // Events are in resourceVersion order: binary search for the first one after the cursor.
    let low = 0;
    let high = this.historyLength;
    while (low < high) {
      const mid = (low + high) >> 1;
      if (this.at(mid).resourceVersion <= resourceVersion) low = mid + 1;
      else high = mid;
    }
    for (let i = low; i < this.historyLength; i++) out.push(this.at(i));
    return out;
  }

  subscribe(listener: StoreListener): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /** Everything, for the persistence snapshot. */
  snapshot(): { resourceVersion: number; objects: Record<string, StoredObject[]> } {
    const objects: Record<string, StoredObject[]> = {};
    for (const typeId of this.objects.keys()) objects[typeId] = this.list(typeId);
    return { resourceVersion: this.revision, objects };
  }

  /** Restores objects without events (the history starts empty after a restart, like a new cache). */
  restore(typeId: string, object: StoredObject): void {
    const namespace = object.metadata.namespace ?? '';
    const name = object.metadata.name ?? '';
    this.place(typeId, namespace, name, object, this.get(typeId, namespace, name));
    const rv = Number(object.metadata.resourceVersion);
    if (Number.isFinite(rv) && rv > this.revision) {
      this.revision = rv;
      this.floor = rv;
    }
  }

  setRevision(revision: number): void {
    if (revision > this.revision) {
      this.revision = revision;
      this.floor = revision;
    }
  }

  private place(
    typeId: string,
    namespace: string,
    name: string,
    object: StoredObject,
    previous?: StoredObject,
  ): void {
    let byNamespace = this.objects.get(typeId);
    if (!byNamespace) {
      byNamespace = new Map();
      this.objects.set(typeId, byNamespace);
    }
    let names = byNamespace.get(namespace);
    if (!names) {
      names = new Map();
      byNamespace.set(namespace, names);
    }
    names.set(name, object);
    if (previous) this.unindex(previous);
    this.index(typeId, namespace, name, object);
  }

  private index(typeId: string, namespace: string, name: string, object: StoredObject): void {
    const uid = object.metadata.uid;
    if (!uid) return;
    this.byUid.set(uid, { typeId, namespace, name });
    for (const ref of object.metadata.ownerReferences ?? []) {
      let set = this.dependentsByOwner.get(ref.uid);
      if (!set) {
        set = new Set();
        this.dependentsByOwner.set(ref.uid, set);
      }
      set.add(uid);
    }
  }

  private unindex(object: StoredObject): void {
    const uid = object.metadata.uid;
    if (!uid) return;
    this.byUid.delete(uid);
    for (const ref of object.metadata.ownerReferences ?? []) {
      const set = this.dependentsByOwner.get(ref.uid);
      set?.delete(uid);
      if (set && set.size === 0) this.dependentsByOwner.delete(ref.uid);
    }
  }

  private at(i: number): StoreEvent {
    return this.history[(this.historyStart + i) % this.history.length];
  }

  private record(event: StoreEvent): void {
    if (this.historyLength === this.history.length) {
      this.floor = this.history[this.historyStart].resourceVersion;
      this.history[this.historyStart] = event;
      this.historyStart = (this.historyStart + 1) % this.history.length;
    } else {
      this.history[(this.historyStart + this.historyLength) % this.history.length] = event;
      this.historyLength += 1;
    }
    // Listeners may write (controllers creating a namespace's service account); those events
    // queue behind this one, so every listener sees events in resourceVersion order.
    this.pending.push(event);
    if (this.dispatching) return;
    this.dispatching = true;
    try {
      for (let next = this.pending.shift(); next; next = this.pending.shift()) {
        for (const listener of this.listeners) {
          try {
            listener(next);
          } catch {
            // One listener's failure must not keep the event from the others.
          }
        }
      }
    } finally {
      this.dispatching = false;
      this.pending.length = 0;
    }
  }
}
