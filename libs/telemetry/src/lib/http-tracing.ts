import {
  type Context,
  context,
  propagation,
  type Span,
  SpanKind,
  SpanStatusCode,
  trace,
  type Tracer,
} from '@opentelemetry/api';
import type { NextFunction, Request, Response } from 'express';
import type { IncomingMessage } from 'node:http';

/**
 * A server span for `request` that continues the caller's trace (W3C `traceparent`), and the context
 * to run its handling in. End it with {@link endServerSpan}.
 */
export function startServerSpan(
  tracer: Tracer,
  request: IncomingMessage,
  path: string,
  name: string = request.method ?? 'GET',
): { span: Span; context: Context } {
  const parent = propagation.extract(context.active(), request.headers);
  const span = tracer.startSpan(
    name,
    { kind: SpanKind.SERVER, attributes: { 'http.request.method': request.method, 'url.path': path } },
    parent,
  );
  return { span, context: trace.setSpan(parent, span) };
}

/** Ends a server span with the response's status (5xx marks it an error). */
export function endServerSpan(span: Span, statusCode: number): void {
  span.setAttribute('http.response.status_code', statusCode);
  if (statusCode >= 500) span.setStatus({ code: SpanStatusCode.ERROR });
  span.end();
}

/**
 * A server span per HTTP request that continues the caller's trace (W3C `traceparent`), so events a
 * request writes to the outbox carry the same trace id through the bus to their consumers.
 */
export function httpTracingMiddleware(serviceName: string) {
  const tracer = trace.getTracer(`stratum-${serviceName}-http`);
  return (request: Request, response: Response, next: NextFunction): void => {
    const { span, context: active } = startServerSpan(tracer, request, request.path);
    response.on('finish', () => {
      const route = request.route?.path as string | undefined;
      if (route) span.updateName(`${request.method} ${route}`);
      endServerSpan(span, response.statusCode);
    });
    context.with(active, next);
  };
}
