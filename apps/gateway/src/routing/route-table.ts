import type { AuthzAction, AuthzResource } from '@stratum/authz';
import type { ServiceName } from '@stratum/contracts';

export type HttpMethod = 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE';

/**
 * Where the tenant that owns the resource comes from, for the gateway's decision (R-AU-1):
 * - `path`: the `:tenantId` segment (`/api/v1/tenants/:tenantId/…`);
 * - `platform`: a platform-wide record (a network or NFS server record, the list of all tenants);
 * - `caller`: a record addressed by its own id (an operation, a deployment): the gateway decides as if
 *   it were in the caller's tenant, and the service, which knows the owner, refuses another tenant's.
 */
export type TenantSource = 'path' | 'platform' | 'caller';

/** One route: what it is, who serves it, and what it needs from the permission table. */
export interface RouteSpec {
  method: HttpMethod;
  /** `/api/v1/…` with `:param` for one segment and `*param` (last only) for the rest of the path. */
  path: string;
  /** The service that serves it; `gateway` for the gateway's own routes. */
  service: ServiceName;
  resource: AuthzResource;
  action: AuthzAction;
  tenant: TenantSource;
  /** The parameter naming the resource, for the audit entry (default: the last one). */
  idParam?: string;
}

/** Route families, for documentation and for the table-driven authorization test. */
export interface RouteFamily {
  name: string;
  routes: RouteSpec[];
}

const T = '/api/v1/tenants/:tenantId';

/** The usual five routes of a collection under a tenant. */
function tenantCollection(
  service: ServiceName,
  resource: AuthzResource,
  collection: string,
  idParam: string,
  update: 'PUT' | 'PATCH' = 'PUT',
): RouteSpec[] {
  const base = `${T}/${collection}`;
  return [
    { method: 'GET', path: base, service, resource, action: 'read', tenant: 'path' },
    { method: 'POST', path: base, service, resource, action: 'create', tenant: 'path' },
    { method: 'GET', path: `${base}/:${idParam}`, service, resource, action: 'read', tenant: 'path' },
    { method: update, path: `${base}/:${idParam}`, service, resource, action: 'update', tenant: 'path' },
    { method: 'DELETE', path: `${base}/:${idParam}`, service, resource, action: 'delete', tenant: 'path' },
  ];
}

function platformCollection(
  service: ServiceName,
  resource: AuthzResource,
  collection: string,
  idParam: string,
): RouteSpec[] {
  const base = `/api/v1/${collection}`;
  return [
    { method: 'GET', path: base, service, resource, action: 'read', tenant: 'platform' },
    { method: 'POST', path: base, service, resource, action: 'create', tenant: 'platform' },
    { method: 'GET', path: `${base}/:${idParam}`, service, resource, action: 'read', tenant: 'platform' },
    { method: 'PUT', path: `${base}/:${idParam}`, service, resource, action: 'update', tenant: 'platform' },
    {
      method: 'DELETE',
      path: `${base}/:${idParam}`,
      service,
      resource,
      action: 'delete',
      tenant: 'platform',
    },
  ];
}

/**
 * The route table as data (issue #6 §3): every `/api/v1` route behind the gateway. Anything not listed
 * is answered 404 by the gateway and never reaches a service. A service built later adds its family
 * here (and its upstream variable in the gateway's config). The resource and action of each route are
 * the permission table's (libs/authz); services check the same table again with the owning tenant.
 */
export const ROUTE_FAMILIES: readonly RouteFamily[] = [
  // resource-manager (R-NW, R-ST)
  { name: 'networks', routes: platformCollection('resource-manager', 'network', 'networks', 'networkId') },
  {
    name: 'nfs-servers',
    routes: platformCollection('resource-manager', 'nfs-server', 'nfs-servers', 'nfsServerId'),
  },
  {
    name: 'tenants',
    routes: [
      {
        method: 'GET',
        path: '/api/v1/tenants',
        service: 'resource-manager',
        resource: 'tenant',
        action: 'read',
        tenant: 'platform',
      },
      {
        method: 'GET',
        path: T,
        service: 'resource-manager',
        resource: 'tenant',
        action: 'read',
        tenant: 'path',
      },
      {
        method: 'PUT',
        path: T,
        service: 'resource-manager',
        resource: 'tenant',
        action: 'update',
        tenant: 'path',
      },
    ],
  },
  {
    name: 'environments',
    routes: [
      {
        method: 'GET',
        path: `${T}/environments`,
        service: 'resource-manager',
        resource: 'environment',
        action: 'read',
        tenant: 'path',
      },
      {
        method: 'GET',
        path: `${T}/environments/:environmentId`,
        service: 'resource-manager',
        resource: 'environment',
        action: 'read',
        tenant: 'path',
      },
    ],
  },
  {
    name: 'network-assignments',
    routes: [
      {
        method: 'PUT',
        path: `${T}/networks/:networkId`,
        service: 'resource-manager',
        resource: 'network-assignment',
        action: 'create',
        tenant: 'path',
      },
      {
        method: 'DELETE',
        path: `${T}/networks/:networkId`,
        service: 'resource-manager',
        resource: 'network-assignment',
        action: 'delete',
        tenant: 'path',
      },
    ],
  },
  {
    name: 'nfs-assignments',
    routes: [
      {
        method: 'GET',
        path: `${T}/nfs-servers`,
        service: 'resource-manager',
        resource: 'nfs-assignment',
        action: 'read',
        tenant: 'path',
      },
      {
        method: 'PUT',
        path: `${T}/nfs-servers/:nfsServerId`,
        service: 'resource-manager',
        resource: 'nfs-assignment',
        action: 'create',
        tenant: 'path',
      },
      {
        method: 'DELETE',
        path: `${T}/nfs-servers/:nfsServerId`,
        service: 'resource-manager',
        resource: 'nfs-assignment',
        action: 'delete',
        tenant: 'path',
      },
    ],
  },
  { name: 'volumes', routes: tenantCollection('resource-manager', 'volume', 'volumes', 'volumeId', 'PATCH') },
  {
    name: 'operations',
    routes: [
      {
        method: 'GET',
        path: `${T}/operations`,
        service: 'resource-manager',
        resource: 'operation',
        action: 'read',
        tenant: 'path',
      },
      {
        method: 'GET',
        path: '/api/v1/operations/:operationId',
        service: 'resource-manager',
        resource: 'operation',
        action: 'read',
        tenant: 'caller',
      },
    ],
  },
  // orchestrator (R-OR): stacks, their revisions, rollbacks and deployments
  {
    name: 'stacks',
    routes: [
      {
        method: 'GET',
        path: `${T}/stacks`,
        service: 'orchestrator',
        resource: 'stack',
        action: 'read',
        tenant: 'path',
      },
      {
        method: 'POST',
        path: `${T}/stacks/:name/validate`,
        service: 'orchestrator',
        resource: 'stack',
        action: 'read',
        tenant: 'path',
        idParam: 'name',
      },
      {
        method: 'PUT',
        path: `${T}/stacks/:name`,
        service: 'orchestrator',
        resource: 'stack',
        action: 'update',
        tenant: 'path',
      },
      {
        method: 'GET',
        path: `${T}/stacks/:name`,
        service: 'orchestrator',
        resource: 'stack',
        action: 'read',
        tenant: 'path',
      },
      {
        method: 'DELETE',
        path: `${T}/stacks/:name`,
        service: 'orchestrator',
        resource: 'stack',
        action: 'delete',
        tenant: 'path',
      },
      {
        method: 'POST',
        path: `${T}/stacks/:name/rollback`,
        service: 'orchestrator',
        resource: 'stack',
        action: 'update',
        tenant: 'path',
        idParam: 'name',
      },
    ],
  },
  {
    name: 'revisions',
    routes: [
      {
        method: 'GET',
        path: `${T}/stacks/:name/revisions`,
        service: 'orchestrator',
        resource: 'stack',
        action: 'read',
        tenant: 'path',
        idParam: 'name',
      },
      {
        method: 'GET',
        path: `${T}/stacks/:name/revisions/:revision`,
        service: 'orchestrator',
        resource: 'stack',
        action: 'read',
        tenant: 'path',
      },
    ],
  },
  {
    name: 'deployments',
    routes: [
      {
        method: 'GET',
        path: `${T}/stacks/:name/deployments`,
        service: 'orchestrator',
        resource: 'stack',
        action: 'read',
        tenant: 'path',
        idParam: 'name',
      },
      {
        method: 'GET',
        path: `${T}/deployments/:deploymentId`,
        service: 'orchestrator',
        resource: 'stack',
        action: 'read',
        tenant: 'path',
      },
    ],
  },
  // autoscaler (R-AS)
  {
    name: 'autoscaling-policies',
    routes: tenantCollection('autoscaler', 'autoscaling-policy', 'autoscaling-policies', 'policyId'),
  },
  // monitor (R-MO): views are read-only; alert rules and log settings are the tenant's to set
  {
    name: 'monitoring-views',
    routes: [
      {
        method: 'GET',
        path: `${T}/metrics/*view`,
        service: 'monitor',
        resource: 'monitoring-view',
        action: 'read',
        tenant: 'path',
      },
      {
        method: 'GET',
        path: `${T}/events`,
        service: 'monitor',
        resource: 'monitoring-view',
        action: 'read',
        tenant: 'path',
      },
      {
        method: 'GET',
        path: `${T}/alerts`,
        service: 'monitor',
        resource: 'monitoring-view',
        action: 'read',
        tenant: 'path',
      },
    ],
  },
  { name: 'alert-rules', routes: tenantCollection('monitor', 'alert-rule', 'alert-rules', 'ruleId') },
  {
    name: 'log-settings',
    routes: [
      {
        method: 'GET',
        path: `${T}/log-settings`,
        service: 'monitor',
        resource: 'log-setting',
        action: 'read',
        tenant: 'path',
      },
      {
        method: 'PUT',
        path: `${T}/log-settings`,
        service: 'monitor',
        resource: 'log-setting',
        action: 'update',
        tenant: 'path',
      },
    ],
  },
  // image-sync (R-IM): registry namespaces, images and their states, sync rules
  {
    name: 'registry-namespaces',
    routes: [
      {
        method: 'GET',
        path: `${T}/registry-namespaces`,
        service: 'image-sync',
        resource: 'registry-namespace',
        action: 'read',
        tenant: 'path',
      },
      {
        method: 'PUT',
        path: `${T}/registry-namespaces/:namespace`,
        service: 'image-sync',
        resource: 'registry-namespace',
        action: 'create',
        tenant: 'path',
      },
      {
        method: 'DELETE',
        path: `${T}/registry-namespaces/:namespace`,
        service: 'image-sync',
        resource: 'registry-namespace',
        action: 'delete',
        tenant: 'path',
      },
    ],
  },
  {
    name: 'images',
    routes: [
      {
        method: 'GET',
        path: `${T}/images`,
        service: 'image-sync',
        resource: 'image',
        action: 'read',
        tenant: 'path',
      },
      {
        method: 'GET',
        path: `${T}/images/*repository`,
        service: 'image-sync',
        resource: 'image',
        action: 'read',
        tenant: 'path',
      },
      {
        method: 'DELETE',
        path: `${T}/images/*repository`,
        service: 'image-sync',
        resource: 'image',
        action: 'delete',
        tenant: 'path',
      },
    ],
  },
  {
    name: 'image-states',
    routes: [
      {
        method: 'GET',
        path: `${T}/image-states`,
        service: 'image-sync',
        resource: 'image-state',
        action: 'read',
        tenant: 'path',
      },
      {
        method: 'PUT',
        path: `${T}/image-states/*repository`,
        service: 'image-sync',
        resource: 'image-state',
        action: 'update',
        tenant: 'path',
      },
    ],
  },
  { name: 'sync-rules', routes: tenantCollection('image-sync', 'sync-rule', 'sync-rules', 'ruleId') },
  // the gateway itself: a tenant's members as Keystone has them (read-only, R-AU-2)
  {
    name: 'members',
    routes: [
      {
        method: 'GET',
        path: `${T}/members`,
        service: 'gateway',
        resource: 'role-assignment',
        action: 'read',
        tenant: 'path',
      },
    ],
  },
];

export const ROUTES: readonly RouteSpec[] = ROUTE_FAMILIES.flatMap((family) => family.routes);

export interface RouteMatch {
  route: RouteSpec;
  params: Record<string, string>;
}

interface Node {
  literal: Map<string, Node>;
  param?: { name: string; node: Node };
  rest?: { name: string; routes: Map<string, RouteSpec> };
  routes: Map<string, RouteSpec>;
}

const newNode = (): Node => ({ literal: new Map(), routes: new Map() });

/**
 * Matches a method and path against the table: a segment tree, literal segments before parameters, so
 * a lookup costs one pass over the path whatever the size of the table. Method mismatch on a known path
 * is reported (405) apart from an unknown path (404).
 */
export class RouteMatcher {
  private readonly root = newNode();

  constructor(routes: readonly RouteSpec[]) {
    for (const route of routes) this.add(route);
  }

  private add(route: RouteSpec): void {
    let node = this.root;
    const segments = route.path.split('/').filter(Boolean);
    for (const [i, segment] of segments.entries()) {
      if (segment.startsWith('*')) {
        if (i !== segments.length - 1) throw new Error(`${route.path}: *${segment} must be last`);
        node.rest ??= { name: segment.slice(1), routes: new Map() };
        this.put(node.rest.routes, route);
        return;
      }
      if (segment.startsWith(':')) {
        const name = segment.slice(1);
        if (node.param && node.param.name !== name) {
          throw new Error(
            `${route.path}: parameter :${name} clashes with :${node.param.name} at the same place`,
          );
        }
        node.param ??= { name, node: newNode() };
        node = node.param.node;
      } else {
        let next = node.literal.get(segment);
        if (!next) node.literal.set(segment, (next = newNode()));
        node = next;
      }
    }
    this.put(node.routes, route);
  }

  private put(routes: Map<string, RouteSpec>, route: RouteSpec): void {
    if (routes.has(route.method)) throw new Error(`duplicate route ${route.method} ${route.path}`);
    routes.set(route.method, route);
  }

  /** The route and its decoded parameters; `'method'` when the path exists with other methods; `undefined` otherwise. */
  match(method: string, path: string): RouteMatch | 'method' | undefined {
    const segments = path.split('/').filter(Boolean);
    const params: Record<string, string> = {};
    const found = this.walk(this.root, segments, 0, params);
    if (!found) return undefined;
    const route = found.get(method === 'HEAD' ? 'GET' : method);
    return route ? { route, params } : 'method';
  }

  private walk(
    node: Node,
    segments: string[],
    i: number,
    params: Record<string, string>,
  ): Map<string, RouteSpec> | undefined {
    if (i === segments.length) return node.routes.size ? node.routes : undefined;
    const segment = segments[i]!;
    const literal = node.literal.get(segment);
    if (literal) {
      const found = this.walk(literal, segments, i + 1, params);
      if (found) return found;
    }
    if (node.param) {
      const value = decodeSegment(segment);
      if (value !== undefined) {
        const found = this.walk(node.param.node, segments, i + 1, params);
        if (found) {
          params[node.param.name] = value;
          return found;
        }
      }
    }
    if (node.rest) {
      const parts = segments.slice(i).map(decodeSegment);
      if (parts.every((p) => p !== undefined)) {
        params[node.rest.name] = parts.join('/');
        return node.rest.routes;
      }
    }
    return undefined;
  }
}

function decodeSegment(segment: string): string | undefined {
  try {
    const value = decodeURIComponent(segment);
    // A parameter never carries a path separator or a dot segment (no traversal into another route).
    return value === '' || value === '.' || value === '..' || value.includes('/') ? undefined : value;
  } catch {
    return undefined;
  }
}
