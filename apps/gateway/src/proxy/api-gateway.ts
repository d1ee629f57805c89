import { authorize, IDENTITY_HEADER } from '@stratum/authz';
import type { ServiceName } from '@stratum/contracts';
import type { Log } from '@stratum/telemetry';
import { context, type Span, trace } from '@opentelemetry/api';
import { endServerSpan, startServerSpan, tracingExported } from '@stratum/telemetry';
import type { IncomingMessage, RequestListener, ServerResponse } from 'node:http';
import { randomUUID, type KeyObject } from 'node:crypto';
import type { AuditEntry, AuditSink } from '../audit/audit-writer';
import type { Authenticator, Caller } from '../keystone/authenticator';
import { IdentityUnavailable } from '../keystone/identity-provider';
import { type RouteMatch, type RouteMatcher, type RouteSpec } from '../routing/route-table';
import type { ForwardFailure, Upstream } from './forwarder';
import type { RateLimiter } from './rate-limiter';
import { type GatewayMetrics } from './gateway-metrics';
import { CallerIdentities } from './caller-identities';

/** The caller's Keystone token (R-AU-2), as OpenStack clients send it. */
export const AUTH_TOKEN_HEADER = 'x-auth-token';
export const REQUEST_ID_HEADER = 'x-request-id';
const REQUEST_ID = /^[A-Za-z0-9._:-]{1,64}$/;

/** Routes the gateway serves itself, before authentication (logins, the registry token service, the API document). */
export const PUBLIC_PATHS = new Set([
  '/api/v1/auth/tokens',
  '/api/v1/auth/registry-token',
  '/api/v1/openapi.json',
]);

/** A route the gateway answers itself once authorized (a tenant's members). */
export type OwnRouteHandler = (
  match: RouteMatch,
  caller: Caller,
  request: IncomingMessage,
  response: ServerResponse,
) => Promise<number>;

export interface ApiGatewayOptions {
  matcher: RouteMatcher;
  authenticator: Authenticator;
  signingKey: KeyObject;
  upstreams: ReadonlyMap<ServiceName, Upstream>;
  limiter: RateLimiter;
  audit: AuditSink;
  log: Log;
  metrics: GatewayMetrics;
  ownRoutes?: OwnRouteHandler;
  /** The development identity provider is on: every answer says so (`x-stratum-dev-identity`). */
  developmentIdentity?: boolean;
}

/** Every error the gateway writes itself has the services' shape: `{ error: { code, message, hint? } }`. */
export function sendError(
  response: ServerResponse,
  status: number,
  code: string,
  message: string,
  hint?: string,
  headers: Record<string, string> = {},
): number {
  const body = JSON.stringify({ error: hint ? { code, message, hint } : { code, message } });
  response.writeHead(status, {
    'content-type': 'application/json; charset=utf-8',
    'content-length': Buffer.byteLength(body),
    ...headers,
  });
  response.end(body);
  return status;
}

/**
 * The gateway's request path (R-AU-1): authenticate (Keystone, cached) → match the route table →
 * authorize with the permission table → per-tenant rate limit → the caller's signed identity → proxy →
 * audit. Runs as plain Node middleware ahead of Nest's router: the body is streamed to the service,
 * never parsed here, and a request costs one map lookup for the token, one tree walk for the route,
 * and an Ed25519 signature only when the caller's last one is older than IDENTITY_REUSE_SECONDS (10 s).
 */
export class ApiGateway {
  private readonly identities: CallerIdentities;

  constructor(private readonly options: ApiGatewayOptions) {
    this.identities = new CallerIdentities(options.signingKey);
  }

  private readonly tracer = trace.getTracer('stratum-gateway-proxy');

  /**
   * The HTTP server's request listener, put in front of Nest's Express application: requests under
   * `/api/v1` (except the public paths) are the gateway's and never enter Express (measured: Express's
   * router, the kit's tracing and metrics middleware were a third of the gateway's own CPU per request);
   * everything else — its own routes, health, metrics — goes on to `fallback`. The gateway keeps its own
   * metrics (stratum_gateway_*), and makes a server span only when spans are exported.
   */
  frontDoor(fallback: RequestListener): RequestListener {
    return (request, response) => {
      const url = request.url ?? '/';
      const q = url.indexOf('?');
      const path = q < 0 ? url : url.slice(0, q);
      if (!path.startsWith('/api/v1/') || PUBLIC_PATHS.has(path)) {
        fallback(request, response);
        return;
      }
      if (!tracingExported()) {
        void this.handle(request, response, path, url);
        return;
      }
      // Named by the route template once matched (a name per tenant or record id would make every
      // request its own operation in the tracing backend); unmatched requests keep the method alone.
      const { span, context: active } = startServerSpan(this.tracer, request, path);
      response.once('close', () => endServerSpan(span, response.statusCode));
      context.with(active, () => void this.handle(request, response, path, url, span));
    };
  }

  private async handle(
    request: IncomingMessage,
    response: ServerResponse,
    path: string,
    url: string,
    span?: Span,
  ) {
    const started = performance.now();
    const offered = request.headers[REQUEST_ID_HEADER];
    const requestId = typeof offered === 'string' && REQUEST_ID.test(offered) ? offered : randomUUID();
    response.setHeader(REQUEST_ID_HEADER, requestId);
    if (this.options.developmentIdentity)
      response.setHeader('x-stratum-dev-identity', 'enabled; not for production');
    const method = request.method ?? 'GET';
    const entry: Partial<AuditEntry> & { route?: RouteSpec; params?: Record<string, string> } = {};
    let caller: Caller | undefined;
    let status: number;
    let reason: string | undefined;
    let allowed = false;
    try {
      const token = request.headers[AUTH_TOKEN_HEADER];
      if (typeof token !== 'string' || token.length === 0) {
        reason = 'no X-Auth-Token header';
        status = sendError(
          response,
          401,
          'UNAUTHENTICATED',
          'This API needs a Keystone token in the X-Auth-Token header.',
          'Get one from Keystone, or with POST /api/v1/auth/tokens {"username","password","project"}.',
        );
        return;
      }
      const authn = await this.options.authenticator.authenticate(token);
      if (!authn.ok) {
        reason = authn.reason;
        status = sendError(
          response,
          401,
          'UNAUTHENTICATED',
          `The X-Auth-Token is not valid: ${authn.reason}.`,
        );
        return;
      }
      caller = authn.caller;
      const match = this.options.matcher.match(method, path);
      if (match === undefined || match === 'method') {
        reason = match ? `${method} is not allowed on ${path}` : `no route ${path}`;
        status = match
          ? sendError(response, 405, 'METHOD_NOT_ALLOWED', `${method} is not supported on ${path}.`)
          : sendError(
              response,
              404,
              'NOT_FOUND',
              `No API route ${path}; GET /api/v1/openapi.json lists them.`,
            );
        return;
      }
      const { route, params } = match;
      span?.updateName(`${method} ${route.path}`).setAttribute('http.route', route.path);
      entry.route = route;
      entry.params = params;
      const tenantId =
        route.tenant === 'path'
          ? (params.tenantId ?? null)
          : route.tenant === 'caller'
            ? caller.tenantId
            : null;
      const decision = authorize(caller, { resource: route.resource, action: route.action, tenantId });
      if (!decision.allowed) {
        reason = decision.reason;
        status = sendError(response, 403, 'FORBIDDEN', `Forbidden: ${decision.reason}.`);
        return;
      }
      const wait = this.options.limiter.take(caller.tenantId ?? `user:${caller.userId}`);
      if (wait > 0) {
        reason = 'rate limit';
        const seconds = Math.max(1, Math.ceil(wait));
        status = sendError(
          response,
          429,
          'RATE_LIMITED',
          `Tenant ${caller.tenantName ?? caller.tenantId ?? caller.userName} is over its limit of ${this.options.limiter.ratePerSecond} requests per second.`,
          `Retry after ${seconds} s, or ask the platform admin for a higher limit.`,
          { 'retry-after': String(seconds) },
        );
        return;
      }
      if (!this.options.audit.accepting) {
        reason = 'audit trail unavailable';
        status = sendError(
          response,
          503,
          'DEPENDENCY_UNAVAILABLE',
          'The gateway cannot record the audit trail (its database is not answering), so it serves nothing.',
          'Retry shortly; operators: check the gateway database.',
        );
        return;
      }
      allowed = true;
      if (route.service === 'gateway') {
        status = this.options.ownRoutes
          ? await this.options.ownRoutes(match, caller, request, response)
          : sendError(response, 404, 'NOT_FOUND', `No API route ${path}.`);
        return;
      }
      const upstream = this.options.upstreams.get(route.service);
      if (!upstream) {
        status = sendError(
          response,
          503,
          'DEPENDENCY_UNAVAILABLE',
          `The ${route.service} is not configured behind this gateway.`,
          `Operators: set UPSTREAM_${route.service.toUpperCase().replace(/-/g, '_')}.`,
        );
        return;
      }
      try {
        status = await upstream.forward(request, response, url, {
          [IDENTITY_HEADER]: this.identities.tokenFor(caller),
          [REQUEST_ID_HEADER]: requestId,
          'x-forwarded-for': request.socket.remoteAddress ?? '',
          'x-forwarded-proto': 'http',
        });
      } catch (error) {
        const failure = error as ForwardFailure;
        status =
          failure.kind === 'timeout'
            ? sendError(
                response,
                504,
                'UPSTREAM_TIMEOUT',
                `${failure.message}.`,
                'The change may still complete; check its status before retrying.',
              )
            : sendError(response, 503, 'DEPENDENCY_UNAVAILABLE', `${failure.message}.`, 'Retry shortly.');
      }
    } catch (error) {
      if (error instanceof IdentityUnavailable) {
        reason = `identity service unavailable: ${error.message}`;
        status = sendError(
          response,
          503,
          'DEPENDENCY_UNAVAILABLE',
          `Keystone is not answering and this token has not been validated recently, so the gateway refuses it (${error.message}).`,
          'Retry when Keystone is back; tokens validated within the cache TTL keep working meanwhile.',
        );
      } else {
        reason = `internal error: ${(error as Error).message}`;
        this.options.log.error('gateway request failed', { requestId, error: (error as Error).stack });
        status = response.headersSent
          ? response.statusCode
          : sendError(
              response,
              500,
              'INTERNAL',
              'Internal error in the gateway; its log has the details.',
              `Quote request id ${requestId}.`,
            );
        if (!response.writableEnded) response.end();
      }
    } finally {
      const latencyMs = performance.now() - started;
      this.options.metrics.observe(entry.route?.service ?? 'gateway', status!, latencyMs);
      this.options.audit.record(
        auditEntry({
          caller,
          entry,
          allowed,
          reason,
          status: status!,
          latencyMs,
          method,
          path,
          requestId,
          clientIp: request.socket.remoteAddress,
        }),
      );
    }
  }
}

function auditEntry(input: {
  caller: Caller | undefined;
  entry: { route?: RouteSpec; params?: Record<string, string> };
  allowed: boolean;
  reason: string | undefined;
  status: number;
  latencyMs: number;
  method: string;
  path: string;
  requestId: string;
  clientIp?: string;
}): AuditEntry {
  const { caller, entry } = input;
  const route = entry.route;
  const params = entry.params ?? {};
  const idParam =
    route?.idParam ??
    Object.keys(params)
      .filter((p) => p !== 'tenantId')
      .at(-1);
  const tenantId = route?.tenant === 'path' ? (params.tenantId ?? null) : (caller?.tenantId ?? null);
  return {
    actor: {
      userId: caller?.userId ?? null,
      userName: caller?.userName ?? null,
      roles: caller?.roles ?? [],
    },
    tenantId,
    action: route ? `${route.resource}.${route.action}` : 'api.request',
    resource: { kind: route?.resource ?? 'api', id: idParam ? (params[idParam] ?? null) : null },
    outcome: input.allowed ? 'allowed' : 'denied',
    ...(input.reason && !input.allowed ? { reason: input.reason.slice(0, 500) } : {}),
    latencyMs: Math.round(input.latencyMs * 1000) / 1000,
    sourceService: 'gateway',
    occurredAt: new Date().toISOString(),
    requestId: input.requestId,
    http: {
      method: input.method,
      path: input.path.slice(0, 2048),
      status: input.status,
      ...(input.clientIp ? { clientIp: input.clientIp.slice(0, 64) } : {}),
    },
  };
}
