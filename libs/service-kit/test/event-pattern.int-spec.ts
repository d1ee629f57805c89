/**
 * The Nest integration of the bus: `@EventPattern(topic)` handlers (written `@OnEvent(Topic)`) served by the custom transport,
 * with the validated envelope as payload and the transaction/outbox as context; HTTP bodies validated
 * by the global pipe; errors in one JSON shape; a failing handler's own error reaches the dead letter.
 */
import { Body, Controller, HttpCode, Module, Post } from '@nestjs/common';
import { InMemorySpanExporter } from '@opentelemetry/sdk-trace-base';
import { Ctx, MessagePattern, Payload } from '@nestjs/microservices';
import { BenchProbe, DeadLetterSchema, deadLetterTopicFor, type EventEnvelope } from '@stratum/contracts';
import { type EventContext, type InProcessBus, Outbox } from '@stratum/messaging';
import { OnEvent } from '@stratum/messaging/nest';
import { ServiceDatabase } from '@stratum/persistence';
import { createTestDatabase, type TestDatabase } from '@stratum/testing';
import { initTelemetry } from '@stratum/telemetry';
import { waitFor } from '@stratum/util';
import { IsInt, IsString, Min, MinLength } from 'class-validator';
import type { MigrationInterface, QueryRunner } from 'typeorm';
import {
  createInProcessBus,
  defineService,
  loadServiceConfig,
  type RunningService,
  startService,
} from '../src';

class CreateProbeSeen1763769600201 implements MigrationInterface {
  name = 'CreateProbeSeen1763769600201';
  async up(q: QueryRunner) {
    await q.query(
      'CREATE TABLE probe_seen (event_id uuid NOT NULL, key text NOT NULL, sequence integer NOT NULL)',
    );
  }
  async down(q: QueryRunner) {
    await q.query('DROP TABLE probe_seen');
  }
}

class CreateProbeDto {
  @IsString()
  @MinLength(1)
  key!: string;

  @IsInt()
  @Min(0)
  sequence!: number;

  @IsString()
  payload!: string;
}

@Controller('probes')
class ProbeController {
  constructor(
    private readonly database: ServiceDatabase,
    private readonly outbox: Outbox,
  ) {}

  @Post()
  @HttpCode(202)
  async create(@Body() body: CreateProbeDto): Promise<{ eventId: string }> {
    const envelope = await this.database.transaction((manager) =>
      this.outbox.add(manager, BenchProbe.Topic, { ...body, sentAtMs: Date.now() }),
    );
    return { eventId: envelope.id };
  }

  @OnEvent(BenchProbe.Topic)
  async onProbe(
    @Payload() event: EventEnvelope<BenchProbe.Value>,
    @Ctx() context: EventContext,
  ): Promise<void> {
    if (event.data.payload === 'refuse') throw new Error(`handler refused ${event.data.key}`);
    await context.manager.query('INSERT INTO probe_seen (event_id, key, sequence) VALUES ($1, $2, $3)', [
      event.id,
      event.data.key,
      event.data.sequence,
    ]);
  }
}

@Module({ controllers: [ProbeController] })
class ProbeModule {}

const definition = defineService({
  name: 'monitor',
  description: 'a stand-in service for the Nest integration test',
  defaultPort: 0,
  module: ProbeModule,
  store: 'postgres',
  migrations: [CreateProbeSeen1763769600201],
});

/** The stand-in service's configuration: in-process bus, its own test database, a free port. */
function configFor(database: TestDatabase, extra: Record<string, string> = {}) {
  return loadServiceConfig({
    service: definition.name,
    defaultPort: 0,
    usesDatabase: true,
    env: {
      STRATUM_BUS: 'in-process',
      DATABASE_URL: database.url,
      HTTP_PORT: '0',
      HTTP_HOST: '127.0.0.1',
      LOG_LEVEL: 'silent',
      ...extra,
    },
  });
}

const spans = new InMemorySpanExporter();
const telemetry = initTelemetry({ serviceName: 'event-pattern-suite', exporter: spans });
afterAll(() => telemetry.shutdown());

describe('a service with @EventPattern handlers on the bus', () => {
  let database: TestDatabase;
  let bus: InProcessBus;
  let service: RunningService;

  beforeAll(async () => {
    database = await createTestDatabase('event_pattern');
    bus = createInProcessBus();
    service = await startService(definition, configFor(database, { CONSUMER_MAX_ATTEMPTS: '2' }), { bus });
  });

  afterAll(async () => {
    await service.stop();
    await bus.close();
    await database.drop();
  });

  const post = (body: unknown) =>
    fetch(`${service.url}/probes`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(body),
    });

  it('delivers an event written by an HTTP handler to the @EventPattern handler, in its transaction', async () => {
    const response = await post({ key: 'k1', sequence: 7, payload: 'hello' });
    expect(response.status).toBe(202);
    const { eventId } = (await response.json()) as { eventId: string };
    const rows = await waitFor(
      async () => {
        const r: { event_id: string; sequence: number }[] =
          await service.runtime.database!.dataSource.query('SELECT * FROM probe_seen');
        return r.length > 0 && r;
      },
      { description: 'the event handled' },
    );
    expect(rows).toEqual([{ event_id: eventId, key: 'k1', sequence: 7 }]);
    const inbox = await service.runtime.database!.dataSource.query(
      'SELECT consumer_group FROM inbox WHERE event_id = $1',
      [eventId],
    );
    expect(inbox).toEqual([{ consumer_group: 'monitor' }]);
  });

  it("continues the caller's trace from the HTTP request through the outbox to the handler", async () => {
    const traceId = '4bf92f3577b34da6a3ce929d0e0e4736';
    const response = await fetch(`${service.url}/probes`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', traceparent: `00-${traceId}-00f067aa0ba902b7-01` },
      body: JSON.stringify({ key: 'traced', sequence: 1, payload: 'hello' }),
    });
    expect(response.status).toBe(202);
    const consumerSpan = await waitFor(
      () =>
        spans
          .getFinishedSpans()
          .find((s) => s.name === `${BenchProbe.Topic.name} process` && s.spanContext().traceId === traceId),
      { description: 'the handler span in the caller trace' },
    );
    expect(consumerSpan).toBeDefined();
    expect(
      spans.getFinishedSpans().some((s) => s.name === 'POST /probes' && s.spanContext().traceId === traceId),
    ).toBe(true);
  });

  it('dead-letters a failing handler with its own error message', async () => {
    const letters: unknown[] = [];
    const reader = bus.consumer({ groupId: 'test-dlq-reader', topics: [deadLetterTopicFor('monitor')] });
    await reader.start(async (batch) => {
      for (const m of batch.messages) letters.push(DeadLetterSchema.parse(JSON.parse(m.value!)));
    });
    const response = await post({ key: 'k2', sequence: 1, payload: 'refuse' });
    expect(response.status).toBe(202);
    const [letter] = await waitFor(() => letters.length > 0 && letters, { description: 'a dead letter' });
    await reader.stop();
    expect(letter).toMatchObject({
      reason: 'handler-failed',
      attempts: 2,
      error: { message: 'handler refused k2' },
      groupId: 'monitor',
    });
  });

  it('rejects an invalid body with 400 and the common error shape, and unknown properties too', async () => {
    const invalid = await post({ key: '', sequence: -1 });
    expect(invalid.status).toBe(400);
    const body = (await invalid.json()) as { error: { code: string; message: string } };
    expect(body.error.code).toBe('VALIDATION_FAILED');
    expect(body.error.message).toMatch(/key/);
    expect(body.error.message).toMatch(/sequence/);
    const extra = await post({ key: 'k', sequence: 1, payload: 'x', tenant: 'someone-else' });
    expect(extra.status).toBe(400);
    expect(((await extra.json()) as { error: { message: string } }).error.message).toMatch(
      /tenant should not exist/,
    );
  });

  it('serves /health with the consumer subscribed and /metrics with bus counters', async () => {
    const health = (await (await fetch(`${service.url}/health`)).json()) as {
      status: string;
      checks: Record<string, { detail?: string }>;
    };
    expect(health.status).toBe('ready');
    expect(health.checks.consumer.detail).toContain('1 topics');
    const applied = async () => {
      const metrics = await (await fetch(`${service.url}/metrics`)).text();
      const match = /stratum_bus_messages_consumed_total\{[^}]*outcome="applied"[^}]*\} (\d+)/.exec(metrics);
      return match ? Number(match[1]) : 0;
    };
    const before = await applied();
    expect((await post({ key: 'metrics', sequence: 1, payload: 'count me' })).status).toBe(202);
    await waitFor(async () => (await applied()) === before + 1, {
      description: 'the applied counter to move by one',
    });
  });
});

describe('the bus transport', () => {
  it('refuses request-reply handlers (@MessagePattern): queries go over HTTP', async () => {
    @Controller()
    class QueryController {
      @MessagePattern(BenchProbe.Topic.name)
      query(): string {
        return 'never';
      }
    }
    @Module({ controllers: [QueryController] })
    class QueryModule {}
    const database = await createTestDatabase('message_pattern');
    const bus = createInProcessBus();
    try {
      const config = configFor(database);
      await expect(startService({ ...definition, module: QueryModule }, config, { bus })).rejects.toThrow(
        /@MessagePattern.*not supported/,
      );
    } finally {
      await bus.close();
      await database.drop();
    }
  });
});
