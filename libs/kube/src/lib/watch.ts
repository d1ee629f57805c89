import { type KubeConfig, Watch } from '@kubernetes/client-node';
import { type KubeError, toKubeError } from './errors';
import { type KubeObject, resourcePath, type ResourceInfo } from './resources';

export interface WatchOptions {
  namespace?: string;
  /** Start after this version; unset = the current state as ADDED events, then changes. */
  resourceVersion?: string;
  labelSelector?: string;
  fieldSelector?: string;
  /**
   * The server closes the watch after this long and the caller re-watches from the last version.
   * Kept under client-node's 30 s inactivity abort (kubernetes-client/javascript#3020).
   */
  timeoutSeconds?: number;
}

export type WatchEvent<T extends KubeObject = KubeObject> =
  | { type: 'ADDED' | 'MODIFIED' | 'DELETED'; object: T }
  /** Progress notification: nothing changed up to this version. */
  | { type: 'BOOKMARK'; resourceVersion: string };

export interface WatchHandle {
  /** Resolves when the server ends the watch normally; rejects with GoneError, UnavailableError, … */
  readonly done: Promise<void>;
  /** Ends the watch; `done` then resolves. */
  stop(): void;
}

/** One watch request through client-node's Watch. Informer builds resumption on top of this. */
export async function watchResource<T extends KubeObject>(
  config: KubeConfig,
  info: ResourceInfo,
  options: WatchOptions,
  onEvent: (event: WatchEvent<T>) => void,
  cluster?: string,
): Promise<WatchHandle> {
  const operation = `watch ${info.kind}${options.namespace ? ` in ${options.namespace}` : ''}`;
  let stopped = false;
  let settle!: (error?: KubeError) => void;
  const done = new Promise<void>((resolve, reject) => {
    settle = (error) => (error ? reject(error) : resolve());
  });
  done.catch(() => undefined); // the caller may only stop() and never await
  let failure: KubeError | undefined;
  let controller: AbortController | undefined;

  const query: Record<string, string | number | boolean | undefined> = {
    allowWatchBookmarks: true,
    timeoutSeconds: options.timeoutSeconds ?? 25,
    resourceVersion: options.resourceVersion || undefined,
    labelSelector: options.labelSelector,
    fieldSelector: options.fieldSelector,
  };
  try {
    controller = await new Watch(config).watch(
      resourcePath(info, options.namespace),
      query,
      (type, object: unknown) => {
        if (stopped || failure) return;
        if (type === 'ERROR') {
          // In-band failure, e.g. 410 "too old resource version": a Status object.
          const status = object as { code?: number; message?: string; reason?: string };
          failure = toKubeError(
            { code: status.code ?? 500, body: status, message: status.message },
            { cluster, operation },
          );
          controller?.abort();
          return;
        }
        if (type === 'BOOKMARK') {
          const version = (object as KubeObject).metadata?.resourceVersion;
          if (version) onEvent({ type, resourceVersion: version });
          return;
        }
        if (type === 'ADDED' || type === 'MODIFIED' || type === 'DELETED') {
          const item = object as T;
          onEvent({ type, object: { apiVersion: info.apiVersion, kind: info.kind, ...item } });
        }
      },
      (error: unknown) => {
        if (stopped) return settle();
        if (failure) return settle(failure);
        if (error === null || error === undefined) return settle();
        settle(toKubeError(error, { cluster, operation }));
      },
    );
  } catch (error) {
    settle(toKubeError(error, { cluster, operation }));
  }
  return {
    done,
    stop() {
      if (stopped) return;
      stopped = true;
      controller?.abort();
      settle();
    },
  };
}
