import { z } from 'zod';
import { defineEvent } from '../../envelope';
import { ImageDigestSchema, ImageTagSchema, TenantIdSchema } from '../../primitives';
import { defineTopic } from '../../topic';
import { TOPIC_CLEANUP, TOPIC_PARTITIONS } from '../../topic-defaults';

/**
 * Image states in the test→production pipeline (R-IM-2..5):
 * developing 开发中, pending-sync 待同步, syncing 同步中, synced 已同步.
 */
export const ImageStateSchema = z.enum(['developing', 'pending-sync', 'syncing', 'synced']);
export type ImageState = z.infer<typeof ImageStateSchema>;

export const RegistrySchema = z.enum(['test', 'production']);
export type Registry = z.infer<typeof RegistrySchema>;

/** An image moved between pipeline states (R-IM-2..5). */
export const Schema = z
  .object({
    tenantId: TenantIdSchema,
    registry: RegistrySchema,
    namespace: z.string().min(1),
    repository: z.string().min(1),
    tag: ImageTagSchema,
    digest: ImageDigestSchema.nullable(),
    /** Null when the image first appears (pushed to the test registry, R-IM-2). */
    from: ImageStateSchema.nullable(),
    to: ImageStateSchema,
    /** User who changed it; null for the platform (automatic sync, R-IM-4). */
    changedBy: z.string().min(1).nullable(),
  })
  .refine((value) => value.from !== value.to, { message: 'a state change changes the state', path: ['to'] });
export type Value = z.infer<typeof Schema>;

export const Event = defineEvent({
  type: 'image.image-state-changed',
  version: 1,
  schema: Schema,
  keyOf: (data) => `${data.namespace}/${data.repository}:${data.tag}`,
  tenantOf: (data) => data.tenantId,
});

export const Topic = defineTopic({
  name: 'stratum.image.image-state-changed.v1',
  event: Event,
  partitions: TOPIC_PARTITIONS.lifecycle,
  key: '<namespace>/<repository>:<tag>',
  // The latest change per image is its current state.
  cleanup: TOPIC_CLEANUP.compact,
  producers: ['image-sync'],
  consumers: ['monitor', 'gateway'],
  description:
    'An image changed state: developing 开发中, pending-sync 待同步, syncing 同步中, synced 已同步 (R-IM-2..5).',
});
