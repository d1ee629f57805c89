import { z } from 'zod';
import { defineEvent } from '../../envelope';
import { IdSchema, TenantIdSchema } from '../../primitives';
import { defineTopic } from '../../topic';
import { TOPIC_CLEANUP, TOPIC_PARTITIONS } from '../../topic-defaults';

/** One DNS link: services in `from` resolve services in `to` under `dnsSuffix`. */
export const LinkSchema = z.object({
  from: IdSchema,
  to: IdSchema,
  dnsSuffix: z.string().min(1),
});
export type Link = z.infer<typeof LinkSchema>;

/** A tenant's environments were linked so that each resolves the others by DNS (R-NW-4). */
export const Schema = z
  .object({
    tenantId: TenantIdSchema,
    /** Every environment of the tenant taking part, the new one included. */
    environmentIds: z.array(IdSchema).min(2),
    links: z.array(LinkSchema),
  })
  .superRefine((value, ctx) => {
    const known = new Set(value.environmentIds);
    value.links.forEach((link, index) => {
      if (link.from === link.to) {
        ctx.addIssue({
          code: 'custom',
          message: 'a link joins two different environments',
          path: ['links', index, 'to'],
        });
      }
      for (const end of ['from', 'to'] as const) {
        if (!known.has(link[end])) {
          ctx.addIssue({
            code: 'custom',
            message: `environment "${link[end]}" is not among environmentIds`,
            path: ['links', index, end],
          });
        }
      }
    });
  });
export type Value = z.infer<typeof Schema>;

export const Event = defineEvent({
  type: 'resource.environments-linked',
  version: 1,
  schema: Schema,
  keyOf: (data) => data.tenantId,
  tenantOf: (data) => data.tenantId,
});

export const Topic = defineTopic({
  name: 'stratum.resource.environments-linked.v1',
  event: Event,
  partitions: TOPIC_PARTITIONS.lifecycle,
  key: 'tenant id',
  cleanup: TOPIC_CLEANUP.lifecycle,
  producers: ['resource-manager'],
  consumers: ['orchestrator', 'monitor'],
  description: "A tenant's environments were linked for cross-environment DNS resolution (R-NW-4).",
});
