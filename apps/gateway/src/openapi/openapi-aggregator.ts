import { Inject, Injectable } from '@nestjs/common';
import type { ServiceName } from '@stratum/contracts';
import { ServiceRuntime } from '@stratum/service-kit';
import type { Upstream } from '../proxy/forwarder';
import { ROUTE_FAMILIES, ROUTES } from '../routing/route-table';
import { gatewayOpenApiPaths } from './gateway-paths';
import { UpstreamsToken } from '../gateway.tokens';

/** Refetch a service's document at most this often. */
const REFRESH_MS = 60_000;

type Doc = {
  paths?: Record<string, Record<string, unknown>>;
  components?: { schemas?: Record<string, unknown> };
};

/**
 * One OpenAPI document for everything behind the gateway (issue #6 §7): the gateway's own routes plus
 * each service's `/api/v1/openapi.json`, keeping only the operations the route table exposes (a route a
 * service documents but the gateway does not route is not reachable, so it is not listed). A service
 * that does not answer is named in `x-stratum-unavailable` and its last good document is used.
 */
@Injectable()
export class OpenApiAggregator {
  private readonly cache = new Map<string, { doc: Doc; at: number }>();

  constructor(
    private readonly runtime: ServiceRuntime,
    @Inject(UpstreamsToken) private readonly upstreams: Map<ServiceName, Upstream>,
  ) {}

  async document(): Promise<Record<string, unknown>> {
    const unavailable: string[] = [];
    const paths: Record<string, Record<string, unknown>> = { ...gatewayOpenApiPaths() };
    const schemas: Record<string, unknown> = {};
    const routed = new Set(ROUTES.map((r) => `${r.method.toLowerCase()} ${toOpenApiPath(r.path)}`));
    await Promise.all(
      [...this.upstreams].map(async ([service, upstream]) => {
        const doc = await this.fetch(service, upstream.baseUrl);
        if (!doc) {
          unavailable.push(service);
          return;
        }
        for (const [path, operations] of Object.entries(doc.paths ?? {})) {
          for (const [method, operation] of Object.entries(operations)) {
            if (!routed.has(`${method} ${path}`)) continue;
            (paths[path] ??= {})[method] = { ...(operation as object), tags: [service] };
          }
        }
        Object.assign(schemas, doc.components?.schemas ?? {});
      }),
    );
    const sorted = Object.fromEntries(Object.entries(paths).sort(([a], [b]) => a.localeCompare(b)));
    return {
      openapi: '3.1.0',
      info: {
        title: 'Stratum API',
        version: '1',
        description:
          'Every call goes through the gateway with a Keystone token in X-Auth-Token (R-AU-1); the permission table is in docs/identity.md. Route families: ' +
          ROUTE_FAMILIES.map((f) => f.name).join(', ') +
          '.',
      },
      security: [{ keystoneToken: [] }],
      paths: sorted,
      components: {
        securitySchemes: { keystoneToken: { type: 'apiKey', in: 'header', name: 'X-Auth-Token' } },
        schemas,
      },
      ...(unavailable.length ? { 'x-stratum-unavailable': unavailable.sort() } : {}),
    };
  }

  private async fetch(service: string, baseUrl: string): Promise<Doc | undefined> {
    const cached = this.cache.get(service);
    if (cached && Date.now() - cached.at < REFRESH_MS) return cached.doc;
    try {
      const response = await fetch(`${baseUrl}/api/v1/openapi.json`, { signal: AbortSignal.timeout(3_000) });
      if (!response.ok) throw new Error(`HTTP ${response.status}`);
      const doc = (await response.json()) as Doc;
      this.cache.set(service, { doc, at: Date.now() });
      return doc;
    } catch (error) {
      this.runtime.log.warn('a service did not give its OpenAPI document', {
        service,
        error: (error as Error).message,
      });
      return cached?.doc;
    }
  }
}

/** `/api/v1/tenants/:tenantId/x/*rest` → `/api/v1/tenants/{tenantId}/x/{rest}`. */
export function toOpenApiPath(path: string): string {
  return path.replace(/[:*](\w+)/g, '{$1}');
}
