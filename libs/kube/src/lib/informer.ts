import { backoffDelay, sleep } from '@stratum/util';
import type { KubeClient } from './client';
import { GoneError, type KubeError, toKubeError } from './errors';
import type { KubeObject } from './resources';
import type { WatchEvent, WatchHandle } from './watch';

export interface InformerOptions {
  namespace?: string;
  labelSelector?: string;
  fieldSelector?: string;
  /** Server-side watch timeout; the informer re-watches from its last version afterwards. */
  watchTimeoutSeconds?: number;
  /** Backoff between failed attempts while the API server is unreachable. */
  retryBaseMs?: number;
  retryMaxMs?: number;
  /** Told about every failure the informer recovers from (API server down, 410, …). */
  onError?: (error: KubeError) => void;
}

export interface InformerStats {
  lists: number;
  watches: number;
  /** Watches refused with 410 (resourceVersion too old): each is followed by a re-list. */
  expired: number;
  errors: number;
}

type Handler<T> = (object: T, previous?: T) => void;

function keyOf(object: KubeObject): string {
  return `${object.metadata?.namespace ?? ''}/${object.metadata?.name ?? ''}`;
}

/**
 * A cache of one kind of object kept in step with the cluster: list, then watch from the list's
 * resourceVersion; when a watch ends it resumes from the last version seen (events or bookmarks);
 * when that version is too old (410) it lists again and reports the difference as add/update/delete,
 * so deletions that happened while it was away are not missed. It survives the API server
 * restarting: failures are retried with backoff until stop().
 */
export class Informer<T extends KubeObject = KubeObject> {
  readonly stats: InformerStats = { lists: 0, watches: 0, expired: 0, errors: 0 };
  private readonly cache = new Map<string, T>();
  private readonly handlers = {
    add: [] as Handler<T>[],
    update: [] as Handler<T>[],
    delete: [] as Handler<T>[],
  };
  private version: string | undefined;
  private running: Promise<void> | undefined;
  private readonly abort = new AbortController();
  private current: WatchHandle | undefined;
  private synced!: () => void;
  private readonly syncedPromise = new Promise<void>((resolve) => (this.synced = resolve));

  constructor(
    private readonly client: KubeClient,
    readonly apiVersion: string,
    readonly kind: string,
    private readonly options: InformerOptions = {},
  ) {}

  on(event: 'add' | 'update' | 'delete', handler: Handler<T>): this {
    this.handlers[event].push(handler);
    return this;
  }

  /** Starts the list/watch loop; resolves once the first list is in the cache. */
  async start(): Promise<void> {
    this.running ??= this.run();
    await Promise.race([this.syncedPromise, this.running]);
  }

  async stop(): Promise<void> {
    this.abort.abort();
    this.current?.stop();
    await this.running;
  }

  /** The cached objects (a snapshot). */
  list(): T[] {
    return [...this.cache.values()];
  }

  get(name: string, namespace?: string): T | undefined {
    return this.cache.get(`${namespace ?? ''}/${name}`);
  }

  /** The last resourceVersion the cache reflects. */
  get resourceVersion(): string | undefined {
    return this.version;
  }

  private async run(): Promise<void> {
    const signal = this.abort.signal;
    let failures = 0;
    while (!signal.aborted) {
      try {
        if (this.version === undefined) {
          const listed = await this.client.list<T>(this.apiVersion, this.kind, this.options);
          this.stats.lists++;
          this.replaceAll(listed.items);
          this.version = listed.resourceVersion;
          this.synced();
        }
        this.stats.watches++;
        this.current = await this.client.watch<T>(
          this.apiVersion,
          this.kind,
          {
            ...this.options,
            resourceVersion: this.version,
            timeoutSeconds: this.options.watchTimeoutSeconds,
          },
          (event) => this.apply(event),
        );
        if (signal.aborted) this.current.stop();
        await this.current.done;
        failures = 0;
      } catch (raw) {
        if (signal.aborted) break;
        const error = toKubeError(raw, { cluster: this.client.cluster, operation: `informer ${this.kind}` });
        this.options.onError?.(error);
        if (error instanceof GoneError) {
          // Our version was compacted away: list again and diff.
          this.stats.expired++;
          this.version = undefined;
          continue;
        }
        this.stats.errors++;
        failures++;
        await sleep(
          backoffDelay(failures, this.options.retryBaseMs ?? 100, this.options.retryMaxMs ?? 2_000),
          signal,
        );
      }
    }
  }

  private apply(event: WatchEvent<T>): void {
    if (event.type === 'BOOKMARK') {
      this.version = event.resourceVersion;
      return;
    }
    const object = event.object;
    const key = keyOf(object);
    const previous = this.cache.get(key);
    if (event.type === 'DELETED') {
      this.cache.delete(key);
      this.emit('delete', object);
    } else {
      this.cache.set(key, object);
      this.emit(previous ? 'update' : 'add', object, previous);
    }
    if (object.metadata?.resourceVersion) this.version = object.metadata.resourceVersion;
  }

  /** After a (re-)list: the new state replaces the cache, reported as the differences. */
  private replaceAll(items: T[]): void {
    const seen = new Set<string>();
    for (const item of items) {
      const key = keyOf(item);
      seen.add(key);
      const previous = this.cache.get(key);
      this.cache.set(key, item);
      if (!previous) this.emit('add', item);
      else if (previous.metadata?.resourceVersion !== item.metadata?.resourceVersion)
        this.emit('update', item, previous);
    }
    for (const [key, object] of [...this.cache]) {
      if (seen.has(key)) continue;
      this.cache.delete(key);
      this.emit('delete', object);
    }
  }

  private emit(event: 'add' | 'update' | 'delete', object: T, previous?: T): void {
    for (const handler of this.handlers[event]) {
      try {
        handler(object, previous);
      } catch (error) {
        // A handler's bug must not stop the cache from following the cluster.
        this.options.onError?.(
          toKubeError(error, {
            cluster: this.client.cluster,
            operation: `informer ${this.kind} ${event} handler`,
          }),
        );
      }
    }
  }
}
