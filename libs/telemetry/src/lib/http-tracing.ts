import { context, propagation, SpanKind, SpanStatusCode, trace } from '@opentelemetry/api';
import type { NextFunction, Request, Response } from 'express';

/**
 * A server span per HTTP request that continues the caller's trace (W3C `traceparent`), so events a
 * request writes to the outbox carry the same trace id through the bus to their consumers.
 */
export function httpTracingMiddleware(serviceName: string) {
  const tracer = trace.getTracer(`stratum-${serviceName}-http`);
  return (request: Request, response: Response, next: NextFunction): void => {
    const parent = propagation.extract(context.active(), request.headers);
    const span = tracer.startSpan(
      `${request.method}`,
      {
        kind: SpanKind.SERVER,
        attributes: { 'http.request.method': request.method, 'url.path': request.path },
      },
      parent,
    );
    response.on('finish', () => {
      const route = request.route?.path as string | undefined;
      if (route) span.updateName(`${request.method} ${route}`);
      span.setAttribute('http.response.status_code', response.statusCode);
      if (response.statusCode >= 500) span.setStatus({ code: SpanStatusCode.ERROR });
      span.end();
    });
    context.with(trace.setSpan(parent, span), next);
  };
}
