/**
 * URL shapes of the Kubernetes REST API:
 *   /api/v1[/watch][/namespaces/<ns>]/<plural>[/<name>[/<subresource>]]
 *   /apis/<group>/<version>[/watch][/namespaces/<ns>]/<plural>[/<name>[/<subresource>]]
 * plus discovery and health paths.
 */
export type Route =
  | { kind: 'version' }
  | { kind: 'health' }
  | { kind: 'apiVersions' }
  | { kind: 'groupList' }
  | { kind: 'group'; group: string }
  | { kind: 'resourceList'; group: string; version: string }
  | {
      kind: 'resource';
      group: string;
      version: string;
      plural: string;
      namespace?: string;
      name?: string;
      subresource?: string;
      /** The deprecated `/watch/` path form. */
      watchPath: boolean;
    }
  | { kind: 'unknown' };

const HEALTH = /^\/(healthz|livez|readyz)(\/.*)?$/;

export function route(pathname: string): Route {
  if (pathname === '/version' || pathname === '/version/') return { kind: 'version' };
  if (HEALTH.test(pathname)) return { kind: 'health' };
  const segments = pathname
    .split('/')
    .filter((s) => s !== '')
    .map(decodeURIComponent);
  let group: string;
  let version: string;
  let rest: string[];
  if (segments[0] === 'api') {
    if (segments.length === 1) return { kind: 'apiVersions' };
    group = '';
    version = segments[1];
    rest = segments.slice(2);
  } else if (segments[0] === 'apis') {
    if (segments.length === 1) return { kind: 'groupList' };
    if (segments.length === 2) return { kind: 'group', group: segments[1] };
    group = segments[1];
    version = segments[2];
    rest = segments.slice(3);
  } else {
    return { kind: 'unknown' };
  }
  if (rest.length === 0) return { kind: 'resourceList', group, version };
  let watchPath = false;
  if (rest[0] === 'watch') {
    watchPath = true;
    rest = rest.slice(1);
  }
  // namespaces/<ns>/<plural>/... is namespaced content; namespaces, namespaces/<name> and
  // namespaces/<name>/{status,finalize} are the Namespace resource itself (core group only).
  if (
    rest[0] === 'namespaces' &&
    rest.length >= 3 &&
    !(group === '' && rest.length === 3 && isNamespaceSubresource(rest[2]))
  ) {
    const [, namespace, plural, name, subresource, ...extra] = rest;
    if (extra.length > 0) return { kind: 'unknown' };
    return { kind: 'resource', group, version, namespace, plural, name, subresource, watchPath };
  }
  const [plural, name, subresource, ...extra] = rest;
  if (extra.length > 0) return { kind: 'unknown' };
  return { kind: 'resource', group, version, plural, name, subresource, watchPath };
}

function isNamespaceSubresource(segment: string): boolean {
  return segment === 'status' || segment === 'finalize';
}
