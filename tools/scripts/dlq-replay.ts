/**
 * npm run dlq:replay -- --service <name> [--reasons handler-failed,unknown-topic] [--group <id>] [--idle-ms 3000]
 *
 * Sends the dead letters of a service back to their original topics (see libs/messaging replay).
 * Replaying twice is safe: consumers ignore events they already applied (inbox), and the replay
 * consumer group remembers what it has replayed; pass a new --group to replay everything again.
 * Needs KAFKA_BROKERS (host:port,…).
 */
import { deadLetterTopicFor, SERVICE_NAMES } from '@stratum/contracts';
import { KafkaBus, replayDeadLetters } from '@stratum/messaging';
import { parseArgs } from 'node:util';

async function main(): Promise<number> {
  const { values } = parseArgs({
    options: {
      service: { type: 'string' },
      reasons: { type: 'string', default: 'handler-failed,unknown-topic' },
      group: { type: 'string' },
      'idle-ms': { type: 'string', default: '3000' },
    },
  });
  const service = values.service ?? '';
  if (!(SERVICE_NAMES as readonly string[]).includes(service)) {
    console.error(`--service must be one of: ${SERVICE_NAMES.join(', ')}`);
    return 2;
  }
  const brokers = (process.env.KAFKA_BROKERS ?? '').split(',').filter(Boolean);
  if (brokers.length === 0) {
    console.error('KAFKA_BROKERS is required (e.g. KAFKA_BROKERS=kafka-1:9092,kafka-2:9092)');
    return 2;
  }
  const bus = new KafkaBus({ brokers, clientId: 'stratum-dlq-replay' });
  try {
    const deadLetterTopic = deadLetterTopicFor(service);
    const report = await replayDeadLetters({
      bus,
      deadLetterTopic,
      groupId: values.group,
      reasons: values.reasons!.split(',').filter(Boolean),
      idleMs: Number(values['idle-ms']),
    });
    console.log(JSON.stringify({ deadLetterTopic, ...report }));
    return 0;
  } finally {
    await bus.close();
  }
}

main().then(
  (code) => process.exit(code),
  (error: Error) => {
    console.error(`dlq:replay failed: ${error.message}`);
    process.exit(1);
  },
);
