import {
  context,
  type Context,
  type Link,
  propagation,
  type Span,
  SpanKind,
  SpanStatusCode,
  trace,
} from '@opentelemetry/api';
import type { TraceContext } from '@stratum/contracts';

const tracer = () => trace.getTracer('stratum-messaging');

/** W3C trace context of the active span, for an event's envelope and headers. */
export function currentTraceContext(): TraceContext | null {
  const carrier: Record<string, string> = {};
  propagation.inject(context.active(), carrier);
  if (!carrier.traceparent) return null;
  return carrier.tracestate
    ? { traceparent: carrier.traceparent, tracestate: carrier.tracestate }
    : { traceparent: carrier.traceparent };
}

export function traceHeaders(trace: TraceContext | null): Record<string, string> {
  if (!trace) return {};
  return trace.tracestate
    ? { traceparent: trace.traceparent, tracestate: trace.tracestate }
    : { traceparent: trace.traceparent };
}

/**
 * Runs `work` in a consumer span. One message: the span continues the producer's trace found in its
 * headers. Several (a batch handler): the span is linked to each producer's span.
 */
export async function withConsumerSpan<T>(
  headers: Record<string, string>[],
  name: string,
  attributes: Record<string, string | number>,
  work: (span: Span) => Promise<T>,
): Promise<T> {
  const single = headers.length === 1;
  const parent: Context = single ? propagation.extract(context.active(), headers[0]) : context.active();
  const links: Link[] = single
    ? []
    : headers.flatMap((h) => {
        const spanContext = trace.getSpanContext(propagation.extract(context.active(), h));
        return spanContext ? [{ context: spanContext }] : [];
      });
  return tracer().startActiveSpan(
    name,
    { kind: SpanKind.CONSUMER, attributes, links },
    parent,
    async (span) => {
      try {
        return await work(span);
      } catch (error) {
        span.recordException(error as Error);
        span.setStatus({ code: SpanStatusCode.ERROR, message: (error as Error).message });
        throw error;
      } finally {
        span.end();
      }
    },
  );
}

/** A producer span around writing an event to the outbox, so the event carries this span's context. */
export function withProducerSpan<T>(
  name: string,
  attributes: Record<string, string>,
  work: () => Promise<T>,
): Promise<T> {
  return tracer().startActiveSpan(name, { kind: SpanKind.PRODUCER, attributes }, async (span) => {
    try {
      return await work();
    } finally {
      span.end();
    }
  });
}
