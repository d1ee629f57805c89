import type { EventDefinition } from './envelope';
import type { ExternalConsumer, ServiceName } from './services';

/** Topic names are `stratum.<domain>.<event>.v<N>` (STYLE). */
export const TOPIC_NAME_PATTERN = /^stratum\.[a-z][a-z0-9-]*\.[a-z][a-z0-9-]*\.v[1-9][0-9]*$/;

export type TopicCleanup = { policy: 'delete'; retentionMs: number } | { policy: 'compact' };

export interface TopicSpec<TDef extends EventDefinition = EventDefinition> {
  readonly name: string;
  readonly event: TDef;
  readonly partitions: number;
  /** What the key is, in the domain's words (e.g. "tenant id"). */
  readonly key: string;
  readonly cleanup: TopicCleanup;
  /** `'*'`: every service may produce it (audit events). */
  readonly producers: readonly ServiceName[] | '*';
  readonly consumers: readonly (ServiceName | ExternalConsumer)[];
  readonly description: string;
}

export function defineTopic<TDef extends EventDefinition>(spec: TopicSpec<TDef>): TopicSpec<TDef> {
  if (!TOPIC_NAME_PATTERN.test(spec.name)) {
    throw new Error(`Topic name "${spec.name}" does not follow stratum.<domain>.<event>.v<N>`);
  }
  if (!spec.name.endsWith(`.v${spec.event.version}`)) {
    throw new Error(`Topic "${spec.name}" must carry the event's version v${spec.event.version}`);
  }
  return spec;
}

export const DAY_MS = 24 * 60 * 60 * 1000;
