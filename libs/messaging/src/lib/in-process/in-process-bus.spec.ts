import { EmbeddedPostgres } from '@stratum/persistence';
import { waitFor } from '@stratum/util';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { EmbeddedBusStore } from './embedded-bus-store';
import { InProcessBus } from './in-process-bus';

describe('in-process bus kept in the embedded database (all-in-one mode)', () => {
  const dataDir = mkdtempSync(join(tmpdir(), 'stratum-bus-'));
  afterAll(() => rmSync(dataDir, { recursive: true, force: true }));

  async function open() {
    const embedded = await EmbeddedPostgres.open(dataDir);
    const bus = await InProcessBus.open({ partitionsOf: () => 2, store: new EmbeddedBusStore(embedded) });
    return { embedded, bus };
  }

  it('keeps acknowledged messages and committed offsets across a restart', async () => {
    const first = await open();
    const messages = Array.from({ length: 20 }, (_, i) => ({
      topic: 'stratum.bench.probe.v1',
      key: i % 2 ? 'odd' : 'even',
      value: JSON.stringify({ i }),
      headers: { n: String(i) },
    }));
    await first.bus.producer().send(messages);
    const before: number[] = [];
    const consumer = first.bus.consumer({
      groupId: 'g',
      topics: ['stratum.bench.probe.v1'],
      maxBatchSize: 1,
    });
    await consumer.start(async (batch) => {
      for (const m of batch.messages) before.push(JSON.parse(m.value!).i);
    });
    await waitFor(() => before.length >= 6, { description: 'some messages consumed' });
    await consumer.stop();
    await first.bus.close();
    await first.embedded.close();

    // "Restart": a new process state over the same data directory.
    const second = await open();
    const after: number[] = [];
    const again = second.bus.consumer({ groupId: 'g', topics: ['stratum.bench.probe.v1'] });
    await again.start(async (batch) => {
      for (const m of batch.messages) after.push(JSON.parse(m.value!).i);
    });
    const everything: { i: number; key: string; n: string }[] = [];
    const fresh = second.bus.consumer({ groupId: 'h', topics: ['stratum.bench.probe.v1'] });
    await fresh.start(async (batch) => {
      for (const m of batch.messages)
        everything.push({ i: JSON.parse(m.value!).i, key: m.key!, n: m.headers.n });
    });
    await waitFor(() => before.length + after.length >= 20 && everything.length >= 20, {
      description: 'the rest consumed',
    });
    await again.stop();
    await fresh.stop();
    await second.bus.close();
    await second.embedded.close();

    expect(before.filter((i) => after.includes(i))).toEqual([]);
    expect([...before, ...after].sort((a, b) => a - b)).toEqual([...Array(20).keys()]);
    for (const key of ['odd', 'even']) {
      const order = everything.filter((e) => e.key === key).map((e) => e.i);
      expect(order).toEqual([...order].sort((a, b) => a - b));
    }
    expect(everything.every((e) => e.n === String(e.i))).toBe(true);
  });
});
