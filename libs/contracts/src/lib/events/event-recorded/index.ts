import { z } from 'zod';
import { defineEvent } from '../../envelope';
import { SERVICE_NAMES } from '../../services';
import { IdSchema, TenantIdSchema, TimestampSchema } from '../../primitives';
import { defineTopic } from '../../topic';
import { TOPIC_CLEANUP, TOPIC_PARTITIONS } from '../../topic-defaults';

export const AuditOutcomeSchema = z.enum(['allowed', 'denied', 'succeeded', 'failed']);
export type AuditOutcome = z.infer<typeof AuditOutcomeSchema>;

/**
 * One entry of the event audit trail (R-MO-4), including every authorization decision (R-AU-6).
 * The envelope id is the entry's id.
 */
export const Schema = z.object({
  /** Who acted; user fields are null for the platform itself (timers, automatic sync). */
  actor: z.object({
    userId: IdSchema.nullable(),
    userName: z.string().min(1).nullable(),
    roles: z.array(z.string().min(1)),
  }),
  /** Null for platform-wide actions. */
  tenantId: TenantIdSchema.nullable(),
  /** `<noun>.<verb>`, e.g. `network.assign`. */
  action: z.string().min(1),
  resource: z.object({
    kind: z.string().min(1),
    id: IdSchema.nullable(),
  }),
  /** `allowed`/`denied` for authorization decisions, `succeeded`/`failed` for completed actions. */
  outcome: AuditOutcomeSchema,
  reason: z.string().optional(),
  latencyMs: z.number().nonnegative().optional(),
  /** The gateway's request id (also in the services' logs and the identity they received). */
  requestId: z.string().min(1).max(128).optional(),
  /** For decisions on API requests (the gateway, R-AU-1): the request and the status it got. */
  http: z
    .object({
      method: z.string().min(1).max(16),
      path: z.string().min(1).max(2_048),
      status: z.number().int().min(100).max(599),
      clientIp: z.string().max(64).optional(),
    })
    .optional(),
  sourceService: z.enum(SERVICE_NAMES),
  occurredAt: TimestampSchema,
});
export type Value = z.infer<typeof Schema>;

/** Key for platform-wide entries. */
export const PLATFORM_KEY = 'platform';

export const Event = defineEvent({
  type: 'audit.event-recorded',
  version: 1,
  schema: Schema,
  keyOf: (data) => data.tenantId ?? PLATFORM_KEY,
  tenantOf: (data) => data.tenantId,
});

export const Topic = defineTopic({
  name: 'stratum.audit.event-recorded.v1',
  event: Event,
  partitions: TOPIC_PARTITIONS.highVolume,
  key: `tenant id, or "${PLATFORM_KEY}" for platform-wide entries`,
  cleanup: TOPIC_CLEANUP.audit,
  producers: '*',
  consumers: ['monitor'],
  description:
    'Audit trail entries from every service, written by the monitor to the event audit database (R-MO-4, R-AU-6).',
});
