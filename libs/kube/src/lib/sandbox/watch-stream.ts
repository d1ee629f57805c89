import type { IncomingMessage, ServerResponse } from 'node:http';

import { errors } from './api-status';
import type { StoredObject } from './object-meta';
import type { ObjectStore, StoreEvent } from './object-store';
import type { ResourceType } from './resource-types';
import { matchesFields, matchesLabels, parseFieldSelector, parseLabelSelector } from './selectors';

export interface WatchRequest {
  type: ResourceType;
  /** Undefined: all namespaces (or a cluster-scoped kind). */
  namespace: string | undefined;
  resourceVersion: string | undefined;
  labelSelector: string | undefined;
  fieldSelector: string | undefined;
  timeoutSeconds: number | undefined;
  allowBookmarks: boolean;
}

export interface WatchSettings {
  bookmarkIntervalMs: number;
  /** Watches without timeoutSeconds end after this long (the real server picks 30–60 min). */
  defaultTimeoutMs: number;
  /** Presents a stored object as the requested version (custom resources served in several). */
  present(type: ResourceType, object: StoredObject): StoredObject;
}

/**
 * Serves one watch: newline-delimited `{type, object}` events. From resourceVersion unset or "0":
 * ADDED for what exists, then changes; from a resourceVersion still in the store's window: the
 * changes after it; from an older one: a single ERROR event carrying a 410 Expired Status, then
 * the end, exactly like the real watch cache. Objects moving into or out of a selector arrive as
 * ADDED or DELETED.
 */
export function serveWatch(
  request: WatchRequest,
  store: ObjectStore,
  settings: WatchSettings,
  req: IncomingMessage,
  res: ServerResponse,
  onClose: (cleanup: () => void) => void,
): void {
  const labels = parseLabelSelector(request.labelSelector);
  const fields = parseFieldSelector(request.fieldSelector, request.type.id);
  const { type, namespace } = request;
  const matches = (object: StoredObject | undefined): boolean =>
    object !== undefined &&
    (namespace === undefined || object.metadata.namespace === namespace) &&
    (labels.length === 0 || matchesLabels(labels, object.metadata.labels)) &&
    (fields.length === 0 || matchesFields(fields, object, type.id));

  let requested: number | undefined;
  if (
    request.resourceVersion !== undefined &&
    request.resourceVersion !== '' &&
    request.resourceVersion !== '0'
  ) {
    requested = Number(request.resourceVersion);
    if (!Number.isInteger(requested) || requested < 0) {
      throw errors.invalidResourceVersion(request.resourceVersion);
    }
  }

  res.writeHead(200, {
    'Content-Type': 'application/json',
    'Cache-Control': 'no-cache, private',
    'Transfer-Encoding': 'chunked',
  });
  res.flushHeaders();
  const write = (eventType: string, object: unknown) => {
    if (!res.writableEnded) res.write(`${JSON.stringify({ type: eventType, object })}\n`);
  };

  let cursor: number;
  const backlog: StoreEvent[] = [];
  if (requested === undefined) {
    cursor = store.resourceVersion;
    for (const object of store.list(type.id, type.namespaced ? namespace : undefined)) {
      if (matches(object)) write('ADDED', settings.present(type, object));
    }
  } else {
    const since = store.eventsSince(requested);
    if (!Array.isArray(since)) {
      write('ERROR', errors.expired(`too old resource version: ${requested} (${since.oldest})`).status);
      res.end();
      return;
    }
    backlog.push(...since);
    cursor = requested;
  }

  const deliver = (event: StoreEvent): void => {
    if (event.typeId !== type.id || event.resourceVersion <= cursor) return;
    cursor = event.resourceVersion;
    const now = matches(event.object);
    const before = event.type === 'MODIFIED' && matches(event.previous);
    if (event.type === 'DELETED') {
      if (matches(event.previous ?? event.object)) write('DELETED', settings.present(type, event.object));
    } else if (event.type === 'ADDED') {
      if (now) write('ADDED', settings.present(type, event.object));
    } else if (now && before) write('MODIFIED', settings.present(type, event.object));
    else if (now) write('ADDED', settings.present(type, event.object));
    else if (before) write('DELETED', settings.present(type, event.object));
  };
  for (const event of backlog) deliver(event);
  // Subscribing in the same tick as the replay: no event can fall between the two.
  const unsubscribe = store.subscribe(deliver);

  const timers: NodeJS.Timeout[] = [];
  const timeoutMs =
    request.timeoutSeconds !== undefined ? request.timeoutSeconds * 1000 : settings.defaultTimeoutMs;
  const finish = () => {
    unsubscribe();
    for (const timer of timers) clearTimeout(timer);
    if (!res.writableEnded) res.end();
  };
  timers.push(setTimeout(finish, timeoutMs));
  if (request.allowBookmarks) {
    const bookmark = () =>
      write('BOOKMARK', {
        kind: type.kind,
        apiVersion: type.apiVersion,
        metadata: { resourceVersion: String(store.resourceVersion) },
      });
    timers.push(setInterval(bookmark, settings.bookmarkIntervalMs));
  }
  req.on('close', finish);
  res.on('close', finish);
  onClose(finish);
}
