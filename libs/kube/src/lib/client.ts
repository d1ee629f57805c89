import {
  ApiException,
  KubeConfig,
  type KubernetesObject,
  KubernetesObjectApi,
  PatchStrategy,
  type ResponseContext,
} from '@kubernetes/client-node';
import { backoffDelay, sleep } from '@stratum/util';
import { ConflictError, NotFoundError, UnavailableError, toKubeError } from './errors';
import {
  builtInResource,
  describeRef,
  type KubeObject,
  type ObjectRef,
  refOf,
  resourcePath,
  type ResourceInfo,
} from './resources';
import { type WatchEvent, type WatchHandle, type WatchOptions, watchResource } from './watch';

type Method = 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE';
const RAW_JSON = 'stratum:raw-json';

/** The generic client from @kubernetes/client-node, with its raw request path opened up. */
class RawObjectApi extends KubernetesObjectApi {
  /** Discovery (`/api/v1`, `/apis/<g>/<v>`), cached by client-node and refreshed on a miss. */
  discover(apiVersion: string, kind: string) {
    return this.resource(apiVersion, kind);
  }

  /** One REST call with the kubeconfig's auth and TLS; the body comes back as plain JSON. */
  async send<T>(
    method: Method,
    path: string,
    options: { query?: Record<string, string | undefined>; body?: unknown; contentType?: string } = {},
  ): Promise<T> {
    const context = this.configuration.baseServer.makeRequestContext(
      path,
      method as Parameters<typeof this.configuration.baseServer.makeRequestContext>[1],
    );
    context.setHeaderParam('Accept', 'application/json');
    for (const [name, value] of Object.entries(options.query ?? {})) {
      if (value !== undefined) context.setQueryParam(name, value);
    }
    if (options.body !== undefined) {
      context.setHeaderParam('Content-Type', options.contentType ?? 'application/json');
      context.setBody(JSON.stringify(options.body));
    }
    return (await this.requestPromise(context, RAW_JSON)) as T;
  }

  /**
   * Our calls keep the JSON as it came: client-node's model classes would turn timestamps into Date
   * objects, unlike the objects watches deliver, and drop fields of kinds it does not know.
   */
  protected override async processResponse<T extends KubernetesObject>(
    response: ResponseContext,
    type?: string,
  ): Promise<T> {
    if (type !== RAW_JSON) return super.processResponse<T>(response, type);
    if (response.httpStatusCode >= 200 && response.httpStatusCode <= 299) {
      const text = await response.body.text();
      return (text ? JSON.parse(text) : {}) as T;
    }
    throw new ApiException(
      response.httpStatusCode,
      'Unsuccessful HTTP Request',
      await response.getBodyAsAny(),
      response.headers,
    );
  }
}

export interface RetryPolicy {
  /** Attempts for a retryable failure, the first included. */
  attempts: number;
  baseDelayMs: number;
  maxDelayMs: number;
}

export interface KubeClientOptions {
  /** The server-side-apply field manager: one per service (R-ARCH-2), e.g. "stratum-resource-manager". */
  fieldManager: string;
  /** Name used in messages and metrics; defaults to the kubeconfig's current context. */
  cluster?: string;
  retry?: Partial<RetryPolicy>;
}

export interface ListOptions {
  namespace?: string;
  labelSelector?: string;
  fieldSelector?: string;
}

export interface KubeList<T extends KubeObject = KubeObject> {
  items: T[];
  /** The collection's resourceVersion: watch from here to see every later change. */
  resourceVersion: string;
}

export interface ApplyOptions {
  /** Take ownership of fields another manager owns instead of failing with ConflictError. */
  force?: boolean;
  dryRun?: boolean;
}

export interface DeleteOptions {
  propagationPolicy?: 'Foreground' | 'Background' | 'Orphan';
  gracePeriodSeconds?: number;
}

export interface Scale {
  replicas: number;
  /** Replicas the workload controller reports. */
  statusReplicas: number;
  /** Label selector of the workload's pods, as a string. */
  selector?: string;
  resourceVersion?: string;
}

const SCALABLE = new Set(['Deployment', 'ReplicaSet', 'StatefulSet']);
const DEFAULT_RETRY: RetryPolicy = { attempts: 5, baseDelayMs: 100, maxDelayMs: 2_000 };

/**
 * One cluster, through @kubernetes/client-node. Everything is plain JSON objects; failures are the
 * typed errors of ./errors. Retries happen only where repeating the call cannot do harm:
 *  - reads, server-side apply and absolute scale changes are idempotent: retried on Unavailable;
 *  - delete is retried, and NotFound after a retry means the first attempt did it;
 *  - create, replace and merge patches are retried only when the request certainly never reached
 *    the server (connection refused) or the server refused it before doing anything (429, or 500
 *    ServerTimeout with a Retry-After), waiting as long as it asks.
 */
export class KubeClient {
  readonly cluster: string;
  readonly fieldManager: string;
  private readonly api: RawObjectApi;
  private readonly retry: RetryPolicy;
  private readonly connections: { close(): Promise<void> };

  constructor(
    readonly config: KubeConfig,
    options: KubeClientOptions,
  ) {
    this.cluster = options.cluster ?? config.getCurrentContext();
    this.fieldManager = options.fieldManager;
    this.retry = { ...DEFAULT_RETRY, ...options.retry };
    this.connections = reuseConnections(config);
    this.api = config.makeApiClient(RawObjectApi);
  }

  /** Resolves where a kind lives: the built-in table first, then the cluster's discovery (CRDs). */
  async resource(apiVersion: string, kind: string): Promise<ResourceInfo> {
    const known = builtInResource(apiVersion, kind);
    if (known) return known;
    const found = await this.call('discover', true, () => this.api.discover(apiVersion, kind)).catch(
      (error: unknown) => {
        // An unknown group answers 404: the kind is not served (CRD missing).
        if (error instanceof NotFoundError) return undefined;
        throw error;
      },
    );
    if (!found) {
      throw new NotFoundError(
        `${this.cluster}: ${apiVersion} ${kind} is not served by this cluster; is its CustomResourceDefinition installed?`,
        { status: 404, reason: 'NotFound', cluster: this.cluster, operation: 'discover' },
      );
    }
    return { apiVersion, kind, plural: found.name, namespaced: found.namespaced };
  }

  /**
   * Closes the kept-alive connections (stop watches and informers first). The client stays usable:
   * a later call opens new ones.
   */
  async close(): Promise<void> {
    await this.connections.close();
  }

  /** The server's version (`/version`): a cheap reachability check. */
  async version(options: { attempts?: number } = {}): Promise<string> {
    const info = await this.call(
      'version',
      true,
      () => this.api.send<{ gitVersion?: string }>('GET', '/version'),
      options.attempts,
    );
    return info.gitVersion ?? 'unknown';
  }

  async get<T extends KubeObject = KubeObject>(ref: ObjectRef): Promise<T> {
    const info = await this.resource(ref.apiVersion, ref.kind);
    return this.call(`get ${describeRef(ref)}`, true, () =>
      this.api.send<T>('GET', resourcePath(info, ref.namespace, ref.name)),
    );
  }

  /** Like get, but undefined when the object does not exist. */
  async find<T extends KubeObject = KubeObject>(ref: ObjectRef): Promise<T | undefined> {
    try {
      return await this.get<T>(ref);
    } catch (error) {
      if (error instanceof NotFoundError) return undefined;
      throw error;
    }
  }

  async list<T extends KubeObject = KubeObject>(
    apiVersion: string,
    kind: string,
    options: ListOptions = {},
  ): Promise<KubeList<T>> {
    const info = await this.resource(apiVersion, kind);
    const body = await this.call(`list ${kind}`, true, () =>
      this.api.send<{ items?: T[]; metadata?: { resourceVersion?: string } }>(
        'GET',
        resourcePath(info, options.namespace),
        { query: { labelSelector: options.labelSelector, fieldSelector: options.fieldSelector } },
      ),
    );
    // List items carry no apiVersion/kind; put them back so every object is self-describing.
    const items = (body.items ?? []).map((item) => ({ apiVersion, kind, ...item }) as T);
    return { items, resourceVersion: body.metadata?.resourceVersion ?? '' };
  }

  /** Creates the object; ConflictError (reason AlreadyExists) when it is already there. */
  async create<T extends KubeObject = KubeObject>(object: T, options: { dryRun?: boolean } = {}): Promise<T> {
    const { apiVersion, kind } = requireKind(object);
    const info = await this.resource(apiVersion, kind);
    const namespace = object.metadata?.namespace;
    return this.call(
      `create ${kind} ${namespace ? `${namespace}/` : ''}${object.metadata?.name ?? object.metadata?.generateName ?? ''}`,
      false,
      () =>
        this.api.send<T>('POST', resourcePath(info, namespace), {
          body: object,
          query: { fieldManager: this.fieldManager, dryRun: options.dryRun ? 'All' : undefined },
        }),
    );
  }

  /**
   * Server-side apply (field manager = this service). The object states every field this service
   * wants to own; fields it owned before and omits now are removed. ConflictError when another
   * manager owns a field with a different value, unless `force`.
   */
  async apply<T extends KubeObject = KubeObject>(object: T, options: ApplyOptions = {}): Promise<T> {
    const ref = refOf(object);
    const info = await this.resource(ref.apiVersion, ref.kind);
    return this.call(`apply ${describeRef(ref)}`, true, () =>
      this.api.send<T>('PATCH', resourcePath(info, ref.namespace, ref.name), {
        body: object,
        contentType: PatchStrategy.ServerSideApply,
        query: {
          fieldManager: this.fieldManager,
          force: options.force ? 'true' : undefined,
          dryRun: options.dryRun ? 'All' : undefined,
        },
      }),
    );
  }

  /** Replaces the object; ConflictError (reason Conflict) when its resourceVersion is stale. */
  async replace<T extends KubeObject = KubeObject>(object: T): Promise<T> {
    const ref = refOf(object);
    const info = await this.resource(ref.apiVersion, ref.kind);
    return this.call(`replace ${describeRef(ref)}`, false, () =>
      this.api.send<T>('PUT', resourcePath(info, ref.namespace, ref.name), {
        body: object,
        query: { fieldManager: this.fieldManager },
      }),
    );
  }

  /** JSON merge patch of the object or one of its subresources (`status`). */
  async mergePatch<T extends KubeObject = KubeObject>(
    ref: ObjectRef,
    patch: Record<string, unknown>,
    options: { subresource?: 'status' } = {},
  ): Promise<T> {
    const info = await this.resource(ref.apiVersion, ref.kind);
    return this.call(
      `patch ${describeRef(ref)}${options.subresource ? `/${options.subresource}` : ''}`,
      false,
      () =>
        this.api.send<T>('PATCH', resourcePath(info, ref.namespace, ref.name, options.subresource), {
          body: patch,
          contentType: PatchStrategy.MergePatch,
          query: { fieldManager: this.fieldManager },
        }),
    );
  }

  /**
   * Deletes the object. Returns false when it was not there. With finalizers the object stays,
   * marked for deletion, until its finalizers are removed.
   */
  async delete(ref: ObjectRef, options: DeleteOptions = {}): Promise<boolean> {
    const info = await this.resource(ref.apiVersion, ref.kind);
    let attempt = 0;
    try {
      await this.call(`delete ${describeRef(ref)}`, true, () => {
        attempt++;
        return this.api.send('DELETE', resourcePath(info, ref.namespace, ref.name), {
          body: {
            apiVersion: 'v1',
            kind: 'DeleteOptions',
            propagationPolicy: options.propagationPolicy ?? 'Background',
            gracePeriodSeconds: options.gracePeriodSeconds,
          },
        });
      });
      return true;
    } catch (error) {
      // After a retry, NotFound means an earlier attempt got through.
      if (error instanceof NotFoundError) return attempt > 1;
      throw error;
    }
  }

  /** Reads the scale subresource of a Deployment, ReplicaSet or StatefulSet. */
  async getScale(ref: ObjectRef): Promise<Scale> {
    const info = await this.scalable(ref);
    const scale = await this.call(`get scale of ${describeRef(ref)}`, true, () =>
      this.api.send<ScaleObject>('GET', resourcePath(info, ref.namespace, ref.name, 'scale')),
    );
    return fromScaleObject(scale);
  }

  /** Sets replicas through the scale subresource (an absolute value: safe to retry). */
  async scale(ref: ObjectRef, replicas: number): Promise<Scale> {
    if (!Number.isInteger(replicas) || replicas < 0) {
      throw new RangeError(`replicas must be a non-negative integer, got ${replicas}`);
    }
    const info = await this.scalable(ref);
    const scale = await this.call(`scale ${describeRef(ref)} to ${replicas}`, true, () =>
      this.api.send<ScaleObject>('PATCH', resourcePath(info, ref.namespace, ref.name, 'scale'), {
        body: { spec: { replicas } },
        // The default JSON-patch content type is refused with 400 for this body.
        contentType: PatchStrategy.MergePatch,
        query: { fieldManager: this.fieldManager },
      }),
    );
    return fromScaleObject(scale);
  }

  /** A single watch from `resourceVersion`; see Informer for the resuming, re-listing kind. */
  async watch<T extends KubeObject = KubeObject>(
    apiVersion: string,
    kind: string,
    options: WatchOptions,
    onEvent: (event: WatchEvent<T>) => void,
  ): Promise<WatchHandle> {
    const info = await this.resource(apiVersion, kind);
    return watchResource<T>(this.config, info, options, onEvent, this.cluster);
  }

  private async scalable(ref: ObjectRef): Promise<ResourceInfo> {
    if (!SCALABLE.has(ref.kind)) {
      throw new TypeError(`${ref.kind} has no scale subresource here (Deployment, ReplicaSet, StatefulSet)`);
    }
    return this.resource(ref.apiVersion, ref.kind);
  }

  /** Runs one API call, mapping errors and retrying as the class comment says. */
  private async call<T>(
    operation: string,
    idempotent: boolean,
    fn: () => Promise<T>,
    attempts = this.retry.attempts,
  ): Promise<T> {
    for (let attempt = 1; ; attempt++) {
      try {
        return await fn();
      } catch (raw) {
        const error = toKubeError(raw, { cluster: this.cluster, operation });
        // 429 and ServerTimeout: the server says it did not do it and asks to come back (e.g. a pod
        // created before its namespace's service-account token exists) — safe for every verb.
        const refusedByServer = error.status === 429 || error.reason === 'ServerTimeout';
        const retryable =
          error instanceof UnavailableError && (idempotent || error.notSent || refusedByServer);
        if (!retryable || attempt >= attempts) throw error;
        const delay = error.retryAfterSeconds
          ? Math.min(error.retryAfterSeconds * 1_000, this.retry.maxDelayMs)
          : backoffDelay(attempt, this.retry.baseDelayMs, this.retry.maxDelayMs);
        await sleep(delay);
      }
    }
  }
}

/**
 * client-node 2.0.1 builds a new undici Agent for every request, so every call opened a new TLS
 * connection (bench:kube: 131 applies/s against the real API server). One dispatcher per kubeconfig
 * (per cluster here) keeps connections alive. Its TLS settings (CA, client certificate) are read once:
 * rotating a client certificate needs a new KubeClusters.
 */
function reuseConnections(config: KubeConfig): { close(): Promise<void> } {
  const target = config as unknown as {
    createDispatcher?: (...args: unknown[]) => unknown;
    __stratumShared?: { close(): Promise<void> };
  };
  if (target.__stratumShared) return target.__stratumShared;
  let shared: { close?: () => Promise<void> } | undefined;
  const handle = {
    async close() {
      const dispatcher = shared;
      shared = undefined;
      await dispatcher?.close?.();
    },
  };
  target.__stratumShared = handle;
  if (typeof target.createDispatcher !== 'function') return handle;
  const create = target.createDispatcher.bind(config);
  target.createDispatcher = (...args: unknown[]) =>
    (shared ??= create(...args) as { close?: () => Promise<void> });
  return handle;
}

interface ScaleObject {
  metadata?: { resourceVersion?: string };
  spec?: { replicas?: number };
  status?: { replicas?: number; selector?: string };
}

function fromScaleObject(scale: ScaleObject): Scale {
  return {
    replicas: scale.spec?.replicas ?? 0,
    statusReplicas: scale.status?.replicas ?? 0,
    selector: scale.status?.selector,
    resourceVersion: scale.metadata?.resourceVersion,
  };
}

function requireKind(object: KubeObject): { apiVersion: string; kind: string } {
  if (!object.apiVersion || !object.kind)
    throw new TypeError('a Kubernetes object needs apiVersion and kind');
  return { apiVersion: object.apiVersion, kind: object.kind };
}

/** True for the errors that mean "someone else has it" on create. */
export function isAlreadyExists(error: unknown): boolean {
  return error instanceof ConflictError && error.reason === 'AlreadyExists';
}
