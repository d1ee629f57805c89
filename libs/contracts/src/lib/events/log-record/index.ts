import { z } from 'zod';
import { defineEvent } from '../../envelope';
import { IdSchema, K8sNamespaceSchema, TenantIdSchema, TimestampSchema } from '../../primitives';
import { defineTopic } from '../../topic';
import { TOPIC_CLEANUP, TOPIC_PARTITIONS } from '../../topic-defaults';

/** The three log sources (R-LG-1). */
export const LogSourceSchema = z.enum(['host', 'container', 'application']);
export type LogSource = z.infer<typeof LogSourceSchema>;

export const ContainerInfoSchema = z.object({
  id: IdSchema,
  name: z.string().min(1),
  podName: z.string().min(1),
  namespace: K8sNamespaceSchema,
  image: z.string().min(1),
});

export const ApplicationInfoSchema = z.object({
  tenantId: TenantIdSchema,
  stackId: IdSchema,
  service: z.string().min(1),
});

/** One formatted log record, as shipped to Kafka for downstream analytics (R-LG-1..5). */
export const Schema = z
  .object({
    /** The host's identity, fixed when the agent starts (R-LG-4). */
    host: z.object({ id: IdSchema, name: z.string().min(1) }),
    source: LogSourceSchema,
    /** File the line was read from, as seen on the host. */
    path: z.string().min(1),
    line: z.string(),
    /** Collection point's local time with its offset (R-LG-4). */
    collectedAt: TimestampSchema,
    container: ContainerInfoSchema.optional(),
    application: ApplicationInfoSchema.optional(),
  })
  .superRefine((value, ctx) => {
    // Container and application records carry their metadata (R-LG-4).
    if (value.source !== 'host' && value.container === undefined) {
      ctx.addIssue({
        code: 'custom',
        message: `a ${value.source} record carries its container`,
        path: ['container'],
      });
    }
    if (value.source === 'application' && value.application === undefined) {
      ctx.addIssue({
        code: 'custom',
        message: 'an application record carries its application',
        path: ['application'],
      });
    }
  });
export type Value = z.infer<typeof Schema>;

export const Event = defineEvent({
  type: 'logs.record',
  version: 1,
  schema: Schema,
  keyOf: (data) => data.host.id,
  tenantOf: (data) => data.application?.tenantId ?? null,
});

export const Topic = defineTopic({
  name: 'stratum.logs.record.v1',
  event: Event,
  partitions: TOPIC_PARTITIONS.highVolume,
  key: 'host id',
  cleanup: TOPIC_CLEANUP.logs,
  producers: ['log-shipper'],
  consumers: ['external:log-analytics'],
  description:
    'Host, container and application log records with host, container and application metadata, for downstream analytics (R-LG-1..5).',
});
