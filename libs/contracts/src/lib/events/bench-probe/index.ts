import { z } from 'zod';
import { defineEvent } from '../../envelope';
import { defineTopic } from '../../topic';
import { TOPIC_CLEANUP, TOPIC_PARTITIONS } from '../../topic-defaults';

/** A probe message for the messaging behaviour tests and the bus benchmark. */
export const Schema = z.object({
  /** Partition key, chosen by the test. */
  key: z.string().min(1),
  sequence: z.number().int().nonnegative(),
  sentAtMs: z.number(),
  payload: z.string(),
});
export type Value = z.infer<typeof Schema>;

export const Event = defineEvent({
  type: 'bench.probe',
  version: 1,
  schema: Schema,
  keyOf: (data) => data.key,
});

export const Topic = defineTopic({
  name: 'stratum.bench.probe.v1',
  event: Event,
  partitions: TOPIC_PARTITIONS.lifecycle,
  key: 'the probe key chosen by the test',
  cleanup: TOPIC_CLEANUP.bench,
  producers: '*',
  // Tests and the benchmark read it with their own consumer groups.
  consumers: [],
  description:
    'Probe messages for the messaging behaviour tests and the bus benchmark; carries no business meaning.',
});
