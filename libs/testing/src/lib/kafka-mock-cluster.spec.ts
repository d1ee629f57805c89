import { KafkaJS } from '@confluentinc/kafka-javascript';
import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { KafkaMockCluster } from './kafka-mock-cluster';
import { isAlive } from './process';

jest.setTimeout(60_000);

/** Polls until `check` is true or the deadline passes (no fixed sleeps before assertions). */
async function until(
  check: () => boolean | Promise<boolean>,
  timeoutMs: number,
  what: string,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

/** Like isAlive, but an unreaped zombie (an orphan whose new parent does not reap) counts as dead. */
function isRunning(pid: number): boolean {
  let stat: string;
  try {
    stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  } catch {
    return isAlive(pid);
  }
  return stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3) !== 'Z';
}

describe('KafkaMockCluster', () => {
  const topic = 'orders';
  let cluster: KafkaMockCluster;

  beforeAll(async () => {
    cluster = await KafkaMockCluster.start({
      brokers: 3,
      topics: [{ name: topic, partitions: 6 }],
      groupInitialRebalanceDelayMs: 0, // the first consumer gets its partitions at once instead of after 3 s
    });
  });

  afterAll(async () => {
    await cluster?.stop();
  });

  it('exposes bootstrap servers and broker ids', () => {
    expect(cluster.brokerIds).toEqual([1, 2, 3]);
    expect(cluster.bootstrapServers.split(',')).toHaveLength(3);
    for (const server of cluster.bootstrapServers.split(',')) expect(server).toMatch(/^127\.0\.0\.1:\d+$/);
  });

  it('round-trips 100 keyed messages through an idempotent producer and a consumer group', async () => {
    const kafka = new KafkaJS.Kafka({
      kafkaJS: { brokers: cluster.bootstrapServers.split(','), logLevel: KafkaJS.logLevel.NOTHING },
    });
    const producer = kafka.producer({ kafkaJS: { idempotent: true, acks: -1 } });
    const consumer = kafka.consumer({
      kafkaJS: { groupId: 'spec-roundtrip', fromBeginning: true, autoCommit: false, sessionTimeout: 6000 },
      'fetch.wait.max.ms': 20,
    });
    const received = new Map<string, string>();
    const partitions = new Set<number>();
    try {
      await producer.connect();
      await producer.send({
        topic,
        messages: Array.from({ length: 100 }, (_, i) => ({ key: `k${i}`, value: `v${i}` })),
      });

      await consumer.connect();
      await consumer.subscribe({ topics: [topic] });
      await consumer.run({
        eachMessage: async ({ partition, message }) => {
          partitions.add(partition);
          received.set(String(message.key), String(message.value));
        },
      });
      await until(() => received.size >= 100, 30_000, '100 messages consumed');
    } finally {
      await consumer.disconnect().catch(() => undefined);
      await producer.disconnect().catch(() => undefined);
    }

    expect(received.size).toBe(100);
    for (let i = 0; i < 100; i++) expect(received.get(`k${i}`)).toBe(`v${i}`);
    expect(partitions.size).toBeGreaterThan(1); // keys spread over the 6 partitions
  });

  it('injects faults and surfaces mock errors', async () => {
    await expect(cluster.brokerDown(1)).resolves.toBeUndefined();
    await expect(cluster.brokerUp(1)).resolves.toBeUndefined();
    await expect(cluster.moveLeader(topic, 0, 2)).resolves.toBeUndefined();
    await expect(cluster.setRtt(2, 5)).resolves.toBeUndefined();
    await expect(cluster.setRtt(2, 0)).resolves.toBeUndefined();
    await expect(cluster.setCoordinator('group', 'some-group', 3)).resolves.toBeUndefined();
    await expect(cluster.pushRequestErrors(0, 1, 6)).resolves.toBeUndefined();

    await expect(cluster.moveLeader('nosuchtopic', 0, 1)).rejects.toThrow(/unknown topic 'nosuchtopic'/);
    await expect(cluster.moveLeader(topic, 99, 1)).rejects.toThrow(/UNKNOWN_TOPIC_OR_PART/);
    await expect(cluster.brokerDown(42)).rejects.toThrow(/BROKER_NOT_AVAILABLE/);
    await expect(cluster.createTopic({ name: topic, partitions: 6 })).rejects.toThrow(/TOPIC_ALREADY_EXISTS/);
    await expect(cluster.moveLeader('bad name', 0, 1)).rejects.toThrow(/without whitespace/);

    // A failed command leaves the queue usable; concurrent commands are serialized.
    await expect(
      Promise.all([cluster.ping(), cluster.createTopic({ name: 'extra', partitions: 2 }), cluster.ping()]),
    ).resolves.toHaveLength(3);
  });

  it('dies with its parent process', async () => {
    // A parent that starts a cluster, reports the mock's pid, and is then SIGKILLed (no exit hooks run).
    const script = `require(${JSON.stringify(require.resolve('./kafka-mock-cluster'))}).KafkaMockCluster.start({ brokers: 1 })
      .then((c) => { console.log('PID ' + c.pid); setInterval(() => {}, 1000); })`;
    const parent = spawn(process.execPath, ['-r', '@swc-node/register', '-e', script], {
      cwd: __dirname,
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    try {
      let out = '';
      parent.stdout!.on('data', (chunk: Buffer) => (out += chunk.toString()));
      await until(() => /PID \d+/.test(out), 20_000, 'the parent to report the mock pid');
      const pid = Number(/PID (\d+)/.exec(out)![1]);
      expect(isAlive(pid)).toBe(true);
      parent.kill('SIGKILL');
      await until(() => !isRunning(pid), 5_000, 'the orphaned mock to die');
    } finally {
      parent.kill('SIGKILL');
    }
  });

  it('stop() ends the child process', async () => {
    const own = await KafkaMockCluster.start({ brokers: 1 });
    expect(isAlive(own.pid)).toBe(true);
    await own.stop();
    expect(isAlive(own.pid)).toBe(false);
    await expect(own.stop()).resolves.toBeUndefined(); // idempotent
    await expect(own.ping()).rejects.toThrow(/after stop\(\)/);
  });
});
