import { type CustomTransportStrategy, Server } from '@nestjs/microservices';
import { type EventEnvelope, topicSpec } from '@stratum/contracts';
import { lastValueFrom } from 'rxjs';
import type { EventConsumer, EventContext, EventSubscription } from '../consumer/event-consumer';

/**
 * Serves `@EventPattern(<topic name>)` handlers from the bus. A handler receives the validated
 * envelope as payload and the `EventContext` (transaction manager, outbox) as context:
 *
 *   @EventPattern(NetworkAssigned.Topic.name)
 *   async onAssigned(@Payload() event: EventEnvelope<NetworkAssigned.Value>, @Ctx() ctx: EventContext) { … }
 *
 * Events only: queries go over HTTP, never request-reply over Kafka.
 */
export class BusTransport extends Server implements CustomTransportStrategy {
  private consumer: EventConsumer | undefined;

  constructor(private readonly createConsumer: (subscriptions: EventSubscription[]) => EventConsumer) {
    super();
  }

  /** Called by Nest from `startAllMicroservices()`, i.e. only after the application has initialised. */
  async listen(callback: (error?: unknown) => void): Promise<void> {
    try {
      const subscriptions: EventSubscription[] = [];
      for (const [pattern, handler] of this.messageHandlers) {
        if (!handler.isEventHandler) {
          throw new Error(
            `@MessagePattern('${pattern}') is not supported on the bus: use @EventPattern, queries go over HTTP`,
          );
        }
        subscriptions.push({
          topic: topicSpec(pattern),
          handle: async (envelope: EventEnvelope, context: EventContext) => {
            const result = await handler(envelope, context);
            await lastValueFrom(this.transformToObservable(result), { defaultValue: undefined });
          },
        });
      }
      this.consumer = this.createConsumer(subscriptions);
      await this.consumer.start();
      callback();
    } catch (error) {
      callback(error);
    }
  }

  async close(): Promise<void> {
    await this.consumer?.stop();
  }

  get eventConsumer(): EventConsumer | undefined {
    return this.consumer;
  }

  on(): never {
    throw new Error('BusTransport does not emit transport events');
  }

  unwrap<T>(): T {
    return this.consumer as T;
  }
}
