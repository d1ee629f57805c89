import { z } from 'zod';
import { defineEvent } from '../../envelope';
import { ErrorInfoSchema, OperationIdSchema, TenantIdSchema } from '../../primitives';
import { defineTopic } from '../../topic';
import { TOPIC_CLEANUP, TOPIC_PARTITIONS } from '../../topic-defaults';

export const OperationStateSchema = z.enum(['accepted', 'running', 'succeeded', 'failed']);
export type OperationState = z.infer<typeof OperationStateSchema>;

/** Progress of a long-running operation, relayed by the gateway to whoever asked for it. */
export const Schema = z
  .object({
    operationId: OperationIdSchema,
    /** Null for platform-wide operations (recording a network or an NFS server). */
    tenantId: TenantIdSchema.nullable(),
    /** What the operation does, `<noun>.<verb>`, e.g. `network.assign`. */
    kind: z.string().min(1),
    state: OperationStateSchema,
    /** The step being worked on, e.g. `create-namespace`. */
    step: z.string().min(1).optional(),
    stepsDone: z.number().int().nonnegative(),
    stepsTotal: z.number().int().nonnegative(),
    message: z.string().optional(),
    error: ErrorInfoSchema.optional(),
  })
  .refine((value) => value.stepsDone <= value.stepsTotal, {
    message: 'stepsDone cannot exceed stepsTotal',
    path: ['stepsDone'],
  })
  .refine((value) => value.state !== 'failed' || value.error !== undefined, {
    message: 'a failed operation reports its error',
    path: ['error'],
  });
export type Value = z.infer<typeof Schema>;

export const Event = defineEvent({
  type: 'resource.operation-progress',
  version: 1,
  schema: Schema,
  keyOf: (data) => data.operationId,
  tenantOf: (data) => data.tenantId,
});

export const Topic = defineTopic({
  name: 'stratum.resource.operation-progress.v1',
  event: Event,
  partitions: TOPIC_PARTITIONS.lifecycle,
  key: 'operation id',
  cleanup: TOPIC_CLEANUP.lifecycle,
  producers: ['resource-manager', 'orchestrator'],
  consumers: ['gateway', 'monitor'],
  description:
    'Progress of a long-running operation (accepted, running step n of m, succeeded or failed); the gateway relays it as operation status.',
});
