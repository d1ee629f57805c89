import { context, propagation } from '@opentelemetry/api';
import { tracingExported } from '@stratum/telemetry';
import {
  Agent,
  type IncomingHttpHeaders,
  type ClientRequest,
  type IncomingMessage,
  request,
  type ServerResponse,
} from 'node:http';

/** Headers that describe one connection, not the message (RFC 9110 §7.6.1): never forwarded. */
const HOP_BY_HOP = new Set([
  'connection',
  'keep-alive',
  'proxy-authenticate',
  'proxy-authorization',
  'proxy-connection',
  'te',
  'trailer',
  'transfer-encoding',
  'upgrade',
  'host',
]);

/**
 * Request headers a client may not pass through: credentials stay at the gateway (services never see
 * a Keystone token), `x-stratum-*` is the gateway's to set (a forged identity header is dropped, not
 * merely overwritten), and forwarding and trace headers are set by the gateway itself.
 */
function droppedRequestHeader(name: string): boolean {
  return (
    HOP_BY_HOP.has(name) ||
    name === 'x-auth-token' ||
    name === 'authorization' ||
    name === 'cookie' ||
    name.startsWith('x-stratum-') ||
    name.startsWith('x-forwarded-') ||
    name === 'forwarded' ||
    name === 'x-request-id' ||
    name === 'traceparent' ||
    name === 'tracestate' ||
    name === 'baggage'
  );
}

/** W3C trace context, version 00, not the all-zero ids. */
const TRACEPARENT = /^00-(?!0{32})[0-9a-f]{32}-(?!0{16})[0-9a-f]{16}-[0-9a-f]{2}$/;

/** Methods that change nothing (RFC 9110 §9.2.1): the only ones the gateway sends again by itself. */
const SAFE_METHODS = new Set(['GET', 'HEAD', 'OPTIONS']);
/** How a pooled connection the service had already closed fails when reused. */
const STALE_CONNECTION = new Set(['ECONNRESET', 'EPIPE']);
/** Each resend takes another pooled connection or opens a new one; a few stale ones in a row is the most. */
const MAX_RESENDS = 3;

function hasBody(incoming: IncomingMessage): boolean {
  const length = incoming.headers['content-length'];
  return incoming.headers['transfer-encoding'] !== undefined || (length !== undefined && length !== '0');
}

export type ForwardFailure = { kind: 'unavailable' | 'timeout'; message: string };

/** One service behind the gateway: its base URL and a keep-alive connection pool. */
export class Upstream {
  private readonly agent: Agent;
  readonly host: string;
  readonly port: number;
  /** Requests sent again after a pooled connection was found closed by the service. */
  resent = 0;

  constructor(
    readonly service: string,
    readonly baseUrl: string,
    private readonly timeoutMs: number,
  ) {
    const url = new URL(baseUrl);
    if (url.protocol !== 'http:')
      throw new Error(`${service}: only http:// upstreams are supported (${baseUrl})`);
    this.host = url.hostname;
    this.port = Number(url.port || 80);
    // Every connection the pool opened is kept for reuse while the service keeps it: with fewer idle ones
    // kept than opened, each burst closed and reopened hundreds of them (seen in bench:gateway).
    // With an idle timeout set, Node's agent also honours the service's `Keep-Alive: timeout=N` and
    // closes an idle connection a second before the service would, so reuse rarely races its close.
    this.agent = new Agent({
      keepAlive: true,
      maxSockets: 512,
      maxFreeSockets: 512,
      scheduling: 'lifo',
      timeout: timeoutMs,
    });
  }

  /**
   * Streams the request to the service with `headers` added and the response back. The body is never
   * buffered. Resolves with the status sent, or rejects with a {@link ForwardFailure} before any byte
   * of the response was written (the caller then answers with an error of its own).
   */
  forward(
    incoming: IncomingMessage,
    outgoing: ServerResponse,
    path: string,
    added: Record<string, string>,
  ): Promise<number> {
    const headers: Record<string, string | string[]> = {};
    for (const [name, value] of Object.entries(incoming.headers as IncomingHttpHeaders)) {
      if (value !== undefined && !droppedRequestHeader(name)) headers[name] = value;
    }
    Object.assign(headers, added);
    if (tracingExported()) {
      propagation.inject(context.active(), headers);
    } else {
      // Not tracing here: the caller's trace continues at the service (a well-formed traceparent only).
      const parent = incoming.headers.traceparent;
      if (typeof parent === 'string' && TRACEPARENT.test(parent)) {
        headers.traceparent = parent;
        const state = incoming.headers.tracestate;
        if (typeof state === 'string' && state.length <= 512) headers.tracestate = state;
      }
    }
    // A safe request without a body can be sent again if a pooled connection turns out to have been
    // closed by the service (its keep-alive timeout raced our reuse): nothing of it was processed.
    const resendable = SAFE_METHODS.has(incoming.method ?? '') && !hasBody(incoming);
    return new Promise((resolve, reject) => {
      let current: ClientRequest | undefined;
      // The client went away: stop the upstream request too.
      outgoing.on('close', () => {
        if (!outgoing.writableFinished) current?.destroy();
      });
      const attempt = (resends: number) => {
        const upstream = request(
          {
            host: this.host,
            port: this.port,
            method: incoming.method,
            path,
            headers,
            agent: this.agent,
            timeout: this.timeoutMs,
          },
          (response) => {
            const out: Record<string, string | string[]> = {};
            for (const [name, value] of Object.entries(response.headers)) {
              if (value !== undefined && !HOP_BY_HOP.has(name)) out[name] = value;
            }
            outgoing.writeHead(response.statusCode ?? 502, out);
            response.pipe(outgoing);
            response.on('end', () => resolve(response.statusCode ?? 502));
            response.on('error', () => {
              outgoing.destroy();
              resolve(response.statusCode ?? 502);
            });
          },
        );
        current = upstream;
        upstream.on('timeout', () => {
          upstream.destroy(Object.assign(new Error('timeout'), { code: 'ETIMEDOUT_GATEWAY' }));
        });
        upstream.on('error', (error: NodeJS.ErrnoException) => {
          if (outgoing.headersSent) {
            outgoing.destroy();
            resolve(outgoing.statusCode);
            return;
          }
          if (
            resendable &&
            upstream.reusedSocket &&
            STALE_CONNECTION.has(error.code ?? '') &&
            resends < MAX_RESENDS &&
            !outgoing.destroyed
          ) {
            this.resent += 1;
            attempt(resends + 1);
            return;
          }
          const failure: ForwardFailure =
            error.code === 'ETIMEDOUT_GATEWAY'
              ? { kind: 'timeout', message: `the ${this.service} did not answer within ${this.timeoutMs} ms` }
              : {
                  kind: 'unavailable',
                  message: `the ${this.service} is not reachable at ${this.baseUrl} (${error.code ?? error.message})`,
                };
          reject(failure);
        });
        if (resends === 0) incoming.pipe(upstream);
        else upstream.end();
      };
      attempt(0);
    });
  }

  close(): void {
    this.agent.destroy();
  }
}
