import { context, propagation, trace } from '@opentelemetry/api';
import { W3CTraceContextPropagator } from '@opentelemetry/core';
import { OTLPTraceExporter } from '@opentelemetry/exporter-trace-otlp-http';
import { resourceFromAttributes } from '@opentelemetry/resources';
import { BatchSpanProcessor, type SpanExporter, SimpleSpanProcessor } from '@opentelemetry/sdk-trace-base';
import { NodeTracerProvider } from '@opentelemetry/sdk-trace-node';
import { ATTR_SERVICE_NAME, ATTR_SERVICE_VERSION } from '@opentelemetry/semantic-conventions';

export interface TelemetryOptions {
  serviceName: string;
  version?: string;
  /** OTLP/HTTP endpoint (e.g. http://collector:4318); without one spans are created but not exported. */
  otlpEndpoint?: string;
  /** Extra exporter, e.g. an in-memory one in tests (exported synchronously). */
  exporter?: SpanExporter;
}

let provider: NodeTracerProvider | undefined;
let exporting = false;

/**
 * Whether spans go anywhere (an OTLP endpoint or an exporter was configured). Hot paths that would
 * only create spans to drop them (the gateway's proxy) check this and pass the caller's trace context
 * through instead.
 */
export function tracingExported(): boolean {
  return exporting;
}

/**
 * Tracing first, before anything else starts (STYLE bootstrap order). W3C trace context is the
 * propagator, so trace ids travel in HTTP headers and in bus message headers alike.
 * Idempotent: the all-in-one process initialises once for all services.
 */
export function initTelemetry(options: TelemetryOptions): { shutdown(): Promise<void> } {
  if (!provider) {
    const spanProcessors = [];
    if (options.otlpEndpoint) {
      spanProcessors.push(
        new BatchSpanProcessor(
          new OTLPTraceExporter({ url: `${options.otlpEndpoint.replace(/\/$/, '')}/v1/traces` }),
        ),
      );
    }
    if (options.exporter) spanProcessors.push(new SimpleSpanProcessor(options.exporter));
    provider = new NodeTracerProvider({
      resource: resourceFromAttributes({
        [ATTR_SERVICE_NAME]: options.serviceName,
        [ATTR_SERVICE_VERSION]: options.version ?? '0.1.0',
      }),
      spanProcessors,
    });
    provider.register({ propagator: new W3CTraceContextPropagator() });
    exporting = spanProcessors.length > 0;
  }
  return {
    async shutdown() {
      const current = provider;
      provider = undefined;
      exporting = false;
      await current?.shutdown();
      trace.disable();
      context.disable();
      propagation.disable();
    },
  };
}
