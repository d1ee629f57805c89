import type { IncomingMessage, ServerResponse } from 'node:http';

import { ApiError, errors } from './api-status';
import { apiGroup, apiGroupList, apiResourceList, apiVersions, SANDBOX_VERSION } from './discovery';
import { isObject } from './json';
import type { StoredObject } from './object-meta';
import type { ResourceRegistry } from './resource-registry';
import type { ResourceType } from './resource-types';
import { route } from './routing';
import type { ApiStorage, DeleteOptions, PatchType, WriteOptions } from './storage';
import { bindPod, finalizeNamespace, getScale, patchScale, updateScale } from './subresources';
import { serveWatch, type WatchSettings } from './watch-stream';
import { parseJsonOrYaml } from './yaml-body';

const MAX_BODY_BYTES = 3 * 1024 * 1024;

const PATCH_TYPES: Record<string, PatchType> = {
  'application/merge-patch+json': 'merge',
  'application/json-patch+json': 'json',
  'application/strategic-merge-patch+json': 'strategic',
  'application/apply-patch+yaml': 'apply',
};

export interface HttpApiOptions {
  token: string;
  /** `host:port` for `/api`'s serverAddressByClientCIDRs. */
  serverAddress(): string;
  watch: Omit<WatchSettings, 'present'>;
}

/**
 * The HTTP face of the sandbox: bearer-token authentication, routing, body decoding and the
 * mapping of verbs (and their query parameters) onto ApiStorage.
 */
export class HttpApi {
  private readonly watches = new Set<() => void>();

  constructor(
    private readonly storage: ApiStorage,
    private readonly registry: ResourceRegistry,
    private readonly options: HttpApiOptions,
  ) {}

  /** Ends every open watch (stop, or a test simulating a restart). */
  closeWatches(): void {
    for (const finish of [...this.watches]) finish();
  }

  async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    try {
      await this.dispatch(req, res);
    } catch (error) {
      if (res.headersSent) {
        if (!res.writableEnded) res.end();
        return;
      }
      if (error instanceof ApiError) this.send(res, error.code, error.status);
      else {
        const message = error instanceof Error ? error.message : String(error);
        this.send(res, 500, errors.internal(message).status);
      }
    }
  }

  private async dispatch(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = new URL(req.url ?? '/', 'http://sandbox');
    const target = route(url.pathname);
    if (target.kind === 'version') return this.send(res, 200, SANDBOX_VERSION);
    if (target.kind === 'health') {
      res.writeHead(200, { 'Content-Type': 'text/plain; charset=utf-8' });
      res.end('ok');
      return;
    }
    if (req.headers.authorization !== `Bearer ${this.options.token}`) throw errors.unauthorized();
    switch (target.kind) {
      case 'apiVersions':
        return this.send(res, 200, apiVersions(this.options.serverAddress()));
      case 'groupList':
        return this.send(res, 200, apiGroupList(this.registry));
      case 'group': {
        const group = apiGroup(this.registry, target.group);
        return group ? this.send(res, 200, group) : this.pageNotFound(res);
      }
      case 'resourceList': {
        const list = apiResourceList(this.registry, target.group, target.version);
        return list ? this.send(res, 200, list) : this.pageNotFound(res);
      }
      case 'unknown':
        return this.pageNotFound(res);
    }
    const type = this.registry.find(target.group, target.version, target.plural);
    if (!type) {
      const served = apiResourceList(this.registry, target.group, target.version);
      if (!served) return this.pageNotFound(res);
      throw errors.pathNotFound();
    }
    // A namespaced kind addressed without namespace is only a cross-namespace collection; a
    // cluster-scoped kind is never under namespaces/<ns>.
    if (
      (type.namespaced && target.namespace === undefined && target.name !== undefined) ||
      (!type.namespaced && target.namespace !== undefined)
    ) {
      throw errors.pathNotFound();
    }
    const query = url.searchParams;
    const method = req.method ?? 'GET';
    const body = method === 'GET' || method === 'HEAD' ? undefined : await readBody(req);
    const namespace = type.namespaced ? target.namespace : undefined;
    const write: WriteOptions = { manager: managerOf(req, query), dryRun: query.get('dryRun') === 'All' };

    if (target.name === undefined) {
      if (method === 'GET') {
        if (target.watchPath || isTrue(query.get('watch')))
          return this.watch(req, res, type, namespace, query);
        return this.send(res, 200, this.listBody(type, namespace, query));
      }
      // Across namespaces a namespaced kind is read-only (list and watch).
      if (type.namespaced && namespace === undefined) throw errors.methodNotAllowed();
      if (method === 'POST') {
        const created = this.storage.create(type, namespace, decode(req, body), write);
        return this.send(res, 201, this.present(type, created));
      }
      // Namespaces and services have no deletecollection verb (405, as in the real server).
      if (method === 'DELETE' && type.verbs.includes('deletecollection')) {
        return this.send(res, 200, this.deleteCollection(type, namespace, query, body));
      }
      throw errors.methodNotAllowed();
    }

    const name = target.name;
    const sub = target.subresource;
    if (sub === undefined) {
      switch (method) {
        case 'GET':
          return this.send(res, 200, this.present(type, this.storage.get(type, namespace ?? '', name)));
        case 'PUT': {
          const { object, created } = this.storage.update(type, namespace, name, decode(req, body), write);
          return this.send(res, created ? 201 : 200, this.present(type, object));
        }
        case 'PATCH':
          return this.patch(req, res, type, namespace, name, body, write, query);
        case 'DELETE': {
          const result = this.storage.delete(type, namespace, name, deleteOptions(query, body));
          const response = this.storage.deleteResponse(type, result);
          return this.send(
            res,
            200,
            'kind' in response && response.kind === 'Status'
              ? response
              : this.present(type, response as StoredObject),
          );
        }
      }
      throw errors.methodNotAllowed();
    }

    if (sub === 'status' && type.statusSubresource) {
      const status: WriteOptions = { ...write, subresource: 'status' };
      switch (method) {
        case 'GET':
          return this.send(res, 200, this.present(type, this.storage.get(type, namespace ?? '', name)));
        case 'PUT': {
          const { object } = this.storage.update(type, namespace, name, decode(req, body), status);
          return this.send(res, 200, this.present(type, object));
        }
        case 'PATCH':
          return this.patch(req, res, type, namespace, name, body, status, query);
      }
      throw errors.methodNotAllowed();
    }
    if (sub === 'scale' && type.scaleSubresource) {
      switch (method) {
        case 'GET':
          return this.send(res, 200, getScale(this.storage, type, namespace ?? '', name));
        case 'PUT':
          return this.send(
            res,
            200,
            updateScale(this.storage, type, namespace ?? '', name, decode(req, body), write),
          );
        case 'PATCH':
          return this.send(
            res,
            200,
            patchScale(this.storage, type, namespace ?? '', name, patchTypeOf(req), decode(req, body), write),
          );
      }
      throw errors.methodNotAllowed();
    }
    if (sub === 'binding' && type.id === '/pods' && method === 'POST') {
      return this.send(
        res,
        201,
        bindPod(this.storage, type, namespace ?? '', name, decode(req, body), write),
      );
    }
    if (sub === 'finalize' && type.id === '/namespaces' && method === 'PUT') {
      return this.send(
        res,
        200,
        this.present(type, finalizeNamespace(this.storage, type, name, decode(req, body), write)),
      );
    }
    throw errors.pathNotFound();
  }

  private patch(
    req: IncomingMessage,
    res: ServerResponse,
    type: ResourceType,
    namespace: string | undefined,
    name: string,
    body: string | undefined,
    write: WriteOptions,
    query: URLSearchParams,
  ): void {
    const patchType = patchTypeOf(req);
    if (patchType === 'apply' && !query.get('fieldManager')) {
      throw new ApiError({
        kind: 'Status',
        apiVersion: 'v1',
        metadata: {},
        status: 'Failure',
        message:
          'PatchOptions.meta.k8s.io "" is invalid: fieldManager: Required value: is required for apply patch',
        reason: 'Invalid',
        details: {
          group: 'meta.k8s.io',
          kind: 'PatchOptions',
          causes: [
            {
              reason: 'FieldValueRequired',
              message: 'Required value: is required for apply patch',
              field: 'fieldManager',
            },
          ],
        },
        code: 422,
      });
    }
    const document = patchType === 'apply' ? decodeYaml(body) : decodePatchJson(body);
    const { object, created } = this.storage.patch(type, namespace, name, patchType, document, {
      ...write,
      force: isTrue(query.get('force')),
    });
    this.send(res, created ? 201 : 200, this.present(type, object));
  }

  private listBody(type: ResourceType, namespace: string | undefined, query: URLSearchParams) {
    const limit = Number(query.get('limit') ?? 0);
    const page = this.storage.list(type, namespace, {
      labelSelector: query.get('labelSelector') ?? undefined,
      fieldSelector: query.get('fieldSelector') ?? undefined,
      limit: Number.isFinite(limit) ? limit : 0,
      continueToken: query.get('continue') ?? undefined,
    });
    // Custom resource lists (unstructured) always carry `continue`, empty on the last page.
    const metadata: Record<string, unknown> = type.custom
      ? { continue: '', resourceVersion: page.resourceVersion }
      : { resourceVersion: page.resourceVersion };
    if (page.continueToken) {
      metadata['continue'] = page.continueToken;
      metadata['remainingItemCount'] = page.remaining;
    }
    return {
      kind: type.listKind,
      apiVersion: type.apiVersion,
      metadata,
      items: page.items.map((item) => this.listItem(type, item)),
    };
  }

  /** Built-in list items carry no kind/apiVersion (the real server's typed lists); custom ones do. */
  private listItem(type: ResourceType, object: StoredObject): unknown {
    if (type.custom) return this.present(type, object);
    const rest: Record<string, unknown> = { ...object };
    delete rest['kind'];
    delete rest['apiVersion'];
    return rest;
  }

  private deleteCollection(
    type: ResourceType,
    namespace: string | undefined,
    query: URLSearchParams,
    body: string | undefined,
  ) {
    const page = this.storage.list(type, namespace, {
      labelSelector: query.get('labelSelector') ?? undefined,
      fieldSelector: query.get('fieldSelector') ?? undefined,
    });
    const options = deleteOptions(query, body);
    const items: unknown[] = [];
    for (const object of page.items) {
      try {
        const result = this.storage.delete(
          type,
          object.metadata.namespace,
          object.metadata.name ?? '',
          options,
        );
        items.push(this.listItem(type, result.object));
      } catch (error) {
        if (!(error instanceof ApiError) || error.code !== 404) throw error;
      }
    }
    return {
      kind: type.listKind,
      apiVersion: type.apiVersion,
      metadata: { resourceVersion: String(this.storage.store.resourceVersion) },
      items,
    };
  }

  private watch(
    req: IncomingMessage,
    res: ServerResponse,
    type: ResourceType,
    namespace: string | undefined,
    query: URLSearchParams,
  ): void {
    const timeout = query.get('timeoutSeconds');
    serveWatch(
      {
        type,
        namespace,
        resourceVersion: query.get('resourceVersion') ?? undefined,
        labelSelector: query.get('labelSelector') ?? undefined,
        fieldSelector: query.get('fieldSelector') ?? undefined,
        timeoutSeconds: timeout !== null && Number.isFinite(Number(timeout)) ? Number(timeout) : undefined,
        allowBookmarks: isTrue(query.get('allowWatchBookmarks')),
      },
      this.storage.store,
      { ...this.options.watch, present: (t, o) => this.present(t, o) },
      req,
      res,
      (finish) => {
        this.watches.add(finish);
        res.on('close', () => this.watches.delete(finish));
      },
    );
  }

  /** Custom resources served in several versions are stored once: answer in the requested one. */
  private present(type: ResourceType, object: StoredObject): StoredObject {
    return object.apiVersion === type.apiVersion ? object : { ...object, apiVersion: type.apiVersion };
  }

  private send(res: ServerResponse, code: number, body: unknown): void {
    const text = JSON.stringify(body);
    res.writeHead(code, {
      'Content-Type': 'application/json',
      'Content-Length': Buffer.byteLength(text),
      'Cache-Control': 'no-cache, private',
    });
    res.end(text);
  }

  private pageNotFound(res: ServerResponse): void {
    res.writeHead(404, { 'Content-Type': 'text/plain; charset=utf-8' });
    res.end('404 page not found\n');
  }
}

function isTrue(value: string | null): boolean {
  return value === 'true' || value === '1';
}

/** The field manager of an Update: `fieldManager`, else the user agent's product name, as in the real server. */
function managerOf(req: IncomingMessage, query: URLSearchParams): string {
  const explicit = query.get('fieldManager');
  if (explicit) return explicit;
  const agent = req.headers['user-agent'] ?? '';
  const product = agent.split('/')[0].trim();
  return product || 'unknown';
}

function patchTypeOf(req: IncomingMessage): PatchType {
  const contentType = (req.headers['content-type'] ?? '').split(';')[0].trim().toLowerCase();
  const patchType = PATCH_TYPES[contentType];
  if (!patchType) throw errors.unsupportedMediaType();
  return patchType;
}

function decode(req: IncomingMessage, body: string | undefined): unknown {
  const contentType = (req.headers['content-type'] ?? 'application/json').split(';')[0].trim().toLowerCase();
  if (contentType === 'application/yaml') return decodeYaml(body);
  if (contentType !== 'application/json' && contentType !== '' && !contentType.endsWith('+json'))
    throw errors.unsupportedMediaType();
  return decodeJson(body);
}

function decodeJson(body: string | undefined): unknown {
  try {
    return JSON.parse(body ?? '') as unknown;
  } catch (error) {
    throw errors.badRequest(
      `couldn't get version/kind; json parse error: ${error instanceof Error ? error.message : String(error)}`,
    );
  }
}

function decodePatchJson(body: string | undefined): unknown {
  try {
    return JSON.parse(body ?? '') as unknown;
  } catch {
    throw errors.malformedPatch();
  }
}

function decodeYaml(body: string | undefined): unknown {
  const parsed = parseJsonOrYaml(body ?? '');
  if (!parsed.ok)
    throw errors.badRequest(`error decoding YAML: error converting YAML to JSON: yaml: ${parsed.error}`);
  return parsed.value;
}

function deleteOptions(query: URLSearchParams, body: string | undefined): DeleteOptions {
  const options: DeleteOptions = { dryRun: query.get('dryRun') === 'All' };
  let parsed: unknown;
  if (body && body.trim() !== '') {
    try {
      parsed = JSON.parse(body) as unknown;
    } catch {
      throw errors.badRequest('the DeleteOptions body is not valid JSON');
    }
  }
  const fromBody = isObject(parsed) ? parsed : {};
  const policy = query.get('propagationPolicy') ?? fromBody['propagationPolicy'];
  if (policy === 'Background' || policy === 'Foreground' || policy === 'Orphan')
    options.propagationPolicy = policy;
  const orphan = query.get('orphanDependents') ?? fromBody['orphanDependents'];
  if (options.propagationPolicy === undefined && (orphan === true || orphan === 'true'))
    options.propagationPolicy = 'Orphan';
  const grace = query.get('gracePeriodSeconds') ?? fromBody['gracePeriodSeconds'];
  if (grace !== undefined && grace !== null && Number.isFinite(Number(grace)))
    options.gracePeriodSeconds = Number(grace);
  const preconditions = fromBody['preconditions'];
  if (isObject(preconditions)) {
    options.preconditions = {
      uid: typeof preconditions['uid'] === 'string' ? preconditions['uid'] : undefined,
      resourceVersion:
        typeof preconditions['resourceVersion'] === 'string' ? preconditions['resourceVersion'] : undefined,
    };
  }
  if (Array.isArray(fromBody['dryRun']) && fromBody['dryRun'].includes('All')) options.dryRun = true;
  return options;
}

function readBody(req: IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    req.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size > MAX_BODY_BYTES) {
        reject(errors.requestTooLarge());
        req.destroy();
        return;
      }
      chunks.push(chunk);
    });
    req.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
    req.on('error', reject);
  });
}
