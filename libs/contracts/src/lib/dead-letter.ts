import { z } from 'zod';
import { defineEvent, type EventDefinition } from './envelope';
import { TimestampSchema } from './primitives';
import { SERVICE_NAMES, type ServiceName } from './services';
import { defineTopic, TOPIC_NAME_PATTERN, type TopicSpec } from './topic';
import { TOPIC_CLEANUP, TOPIC_PARTITIONS } from './topic-defaults';

/** Why a consumed message was set aside instead of being handled. */
export const DeadLetterReasonSchema = z.enum(['schema-invalid', 'handler-failed', 'unknown-topic']);
export type DeadLetterReason = z.infer<typeof DeadLetterReasonSchema>;

/** A message a consumer could not handle, kept with everything needed to inspect and replay it. */
export const DeadLetterSchema = z.object({
  originalTopic: z.string().min(1),
  partition: z.number().int().nonnegative(),
  /** Kafka offsets are 64-bit, so they travel as decimal strings. */
  offset: z.string().regex(/^\d+$/, 'must be a decimal offset'),
  key: z.string().nullable(),
  /** Consumer group that failed to handle it. */
  groupId: z.string().min(1),
  reason: DeadLetterReasonSchema,
  error: z.object({
    message: z.string(),
    name: z.string().optional(),
    stack: z.string().optional(),
  }),
  /** Handler attempts made before giving up (0 when it never reached the handler). */
  attempts: z.number().int().nonnegative(),
  failedAt: TimestampSchema,
  /** The envelope id, when the message was readable enough to have one. */
  eventId: z.string().min(1).nullable(),
  /** The raw message text, untouched, so it can be replayed. */
  originalValue: z.string(),
  originalHeaders: z.record(z.string(), z.string()),
});
export type DeadLetter = z.infer<typeof DeadLetterSchema>;

export type DeadLetterEvent = EventDefinition<typeof DeadLetterSchema>;

const SERVICE_SEGMENT = /^[a-z][a-z0-9-]*$/;

function checkService(service: string): void {
  if (!SERVICE_SEGMENT.test(service)) {
    throw new Error(
      `Service name "${service}" cannot name a dead-letter topic: use lower-case letters, digits and "-"`,
    );
  }
}

/** `stratum.<service>.dead-letter.v1`: where a service's consumers put what they cannot handle. */
export function deadLetterTopicFor(service: ServiceName | string): string {
  checkService(service);
  const name = `stratum.${service}.dead-letter.v1`;
  if (!TOPIC_NAME_PATTERN.test(name))
    throw new Error(`Dead-letter topic "${name}" is not a valid topic name`);
  return name;
}

/** The event a service's dead letters travel as: type `<service>.dead-letter`, keyed by original topic. */
export function deadLetterEventFor(service: ServiceName | string): DeadLetterEvent {
  checkService(service);
  return defineEvent({
    type: `${service}.dead-letter`,
    version: 1,
    schema: DeadLetterSchema,
    keyOf: (data) => data.originalTopic,
  });
}

export function deadLetterTopicSpecFor(service: ServiceName): TopicSpec<DeadLetterEvent> {
  return defineTopic({
    name: deadLetterTopicFor(service),
    event: deadLetterEventFor(service),
    partitions: TOPIC_PARTITIONS.admin,
    key: 'original topic',
    cleanup: TOPIC_CLEANUP.deadLetter,
    producers: [service],
    // Read by operators' tools for inspection and replay, not by a service.
    consumers: [],
    description: `Messages the ${service} could not handle (invalid, failing or on an unknown topic), kept for inspection and replay.`,
  });
}

/** The dead-letter topics of the seven services. */
export const DEAD_LETTER_TOPICS: readonly TopicSpec<DeadLetterEvent>[] =
  SERVICE_NAMES.map(deadLetterTopicSpecFor);
