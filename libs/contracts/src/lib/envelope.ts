import { randomUUID } from 'node:crypto';
import { z } from 'zod';

/**
 * W3C trace context carried with an event so that one trace spans producer and consumer.
 * Also copied into Kafka headers (`traceparent`, `tracestate`) by the bus.
 */
export const TraceContextSchema = z.object({
  traceparent: z.string().regex(/^[0-9a-f]{2}-[0-9a-f]{32}-[0-9a-f]{16}-[0-9a-f]{2}$/),
  tracestate: z.string().optional(),
});
export type TraceContext = z.infer<typeof TraceContextSchema>;

/** The versioned envelope every event travels in, whatever the transport. */
export const EnvelopeSchema = z.object({
  /** Unique per event; consumers dedupe on it (inbox). */
  id: z.uuid(),
  /** Event type, e.g. `resource.network-assigned`. */
  type: z.string().min(1),
  /** Schema version of `data`; a breaking change is a new version and a new topic. */
  version: z.number().int().positive(),
  /** Producing service. */
  source: z.string().min(1),
  /** Tenant (Keystone project id) the event concerns; null for platform-wide events. */
  tenant: z.string().min(1).nullable(),
  /** When the state change happened (ISO-8601, UTC). */
  time: z.iso.datetime({ offset: true }),
  /** Partition key: events with the same key keep their order. */
  key: z.string().min(1),
  trace: TraceContextSchema.nullable(),
  data: z.unknown(),
});

export interface EventEnvelope<TData = unknown> {
  id: string;
  type: string;
  version: number;
  source: string;
  tenant: string | null;
  time: string;
  key: string;
  trace: TraceContext | null;
  data: TData;
}

/** One event contract: which type/version it is, how its payload looks and what its key is. */
export interface EventDefinition<TSchema extends z.ZodType = z.ZodType> {
  readonly type: string;
  readonly version: number;
  readonly schema: TSchema;
  /** The aggregate key, which fixes the partition and so the order. */
  readonly keyOf: (data: z.infer<TSchema>) => string;
  /** The tenant the event concerns, if any. */
  readonly tenantOf: (data: z.infer<TSchema>) => string | null;
}

export function defineEvent<TSchema extends z.ZodType>(definition: {
  type: string;
  version: number;
  schema: TSchema;
  keyOf: (data: z.infer<TSchema>) => string;
  tenantOf?: (data: z.infer<TSchema>) => string | null;
}): EventDefinition<TSchema> {
  return { tenantOf: () => null, ...definition };
}

export type EventData<TDef> = TDef extends EventDefinition<infer S> ? z.infer<S> : never;

/** Builds a complete envelope for `data`; validates `data` against the contract first. */
export function createEnvelope<TSchema extends z.ZodType>(
  definition: EventDefinition<TSchema>,
  data: z.infer<TSchema>,
  options: { source: string; id?: string; time?: Date; trace?: TraceContext | null; tenant?: string | null },
): EventEnvelope<z.infer<TSchema>> {
  const parsed = definition.schema.parse(data);
  return {
    id: options.id ?? randomUUID(),
    type: definition.type,
    version: definition.version,
    source: options.source,
    tenant: options.tenant !== undefined ? options.tenant : definition.tenantOf(parsed),
    time: (options.time ?? new Date()).toISOString(),
    key: definition.keyOf(parsed),
    trace: options.trace ?? null,
    data: parsed,
  };
}

export type EnvelopeValidation<T> = { ok: true; envelope: EventEnvelope<T> } | { ok: false; reason: string };

/** Validates a decoded message (already JSON-parsed) against the envelope and the event contract. */
export function validateEnvelope<TSchema extends z.ZodType>(
  definition: EventDefinition<TSchema>,
  value: unknown,
): EnvelopeValidation<z.infer<TSchema>> {
  const envelope = EnvelopeSchema.safeParse(value);
  if (!envelope.success) return { ok: false, reason: `envelope: ${formatIssues(envelope.error)}` };
  const e = envelope.data;
  if (e.type !== definition.type || e.version !== definition.version) {
    return {
      ok: false,
      reason: `envelope: expected ${definition.type} v${definition.version}, got ${e.type} v${e.version}`,
    };
  }
  const data = definition.schema.safeParse(e.data);
  if (!data.success) return { ok: false, reason: `data: ${formatIssues(data.error)}` };
  return { ok: true, envelope: { ...e, data: data.data } as EventEnvelope<z.infer<TSchema>> };
}

export function formatIssues(error: z.ZodError): string {
  return error.issues
    .map((issue) => `${issue.path.length ? issue.path.join('.') : '(root)'}: ${issue.message}`)
    .join('; ');
}
