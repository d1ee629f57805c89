import { EventPattern } from '@nestjs/microservices';
import type { TopicSpec } from '@stratum/contracts';

/**
 * `@EventPattern` for a catalog topic: `@OnEvent(NetworkAssigned.Topic)`. The same decorator underneath,
 * typed for Stratum handlers `(event: EventEnvelope<T>, context: EventContext)` and tied to the catalog
 * so a misspelt topic name cannot compile.
 */
export function OnEvent(topic: TopicSpec): MethodDecorator {
  return EventPattern(topic.name) as MethodDecorator;
}
