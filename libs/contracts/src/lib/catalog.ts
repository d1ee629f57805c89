import { DEAD_LETTER_TOPICS } from './dead-letter';
import type { EventDefinition } from './envelope';
import * as Events from './events';
import type { TopicSpec } from './topic';

/** Every topic of the platform: one per event contract, plus each service's dead-letter topic. */
export const TOPIC_CATALOG: readonly TopicSpec[] = [
  ...Object.values(Events).map((contract): TopicSpec => contract.Topic),
  ...DEAD_LETTER_TOPICS,
];

function indexUnique(what: string, keys: readonly string[]): void {
  const seen = new Set<string>();
  const duplicates = new Set<string>();
  for (const key of keys) (seen.has(key) ? duplicates : seen).add(key);
  if (duplicates.size > 0) {
    throw new Error(`TOPIC_CATALOG has duplicate ${what}: ${[...duplicates].join(', ')}`);
  }
}

// Checked at load: two contracts on one topic (or one event type on two topics) would mix streams.
indexUnique(
  'topic names',
  TOPIC_CATALOG.map((topic) => topic.name),
);
indexUnique(
  'event types',
  TOPIC_CATALOG.map((topic) => `${topic.event.type} v${topic.event.version}`),
);

const BY_NAME: ReadonlyMap<string, TopicSpec> = new Map(TOPIC_CATALOG.map((topic) => [topic.name, topic]));

export function isKnownTopic(name: string): boolean {
  return BY_NAME.has(name);
}

/** The spec of a catalogued topic; throws if the topic is not in the catalog. */
export function topicSpec(name: string): TopicSpec {
  const topic = BY_NAME.get(name);
  if (!topic) {
    throw new Error(
      `Unknown topic "${name}": it is not in TOPIC_CATALOG (libs/contracts). ` +
        'Add an event folder under libs/contracts/src/lib/events and re-export it from events/index.ts.',
    );
  }
  return topic;
}

/** The event contract that messages on a catalogued topic follow; throws on an unknown topic. */
export function eventDefinitionForTopic(name: string): EventDefinition {
  return topicSpec(name).event;
}
