import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { eventDefinitionForTopic, TOPIC_CATALOG, topicSpec } from './catalog';
import { DEAD_LETTER_TOPICS, deadLetterTopicFor, DeadLetterSchema } from './dead-letter';
import { createEnvelope, validateEnvelope, type EnvelopeValidation, type EventDefinition } from './envelope';
import {
  AutoscalingPoliciesPublished,
  EventRecorded,
  ImageStateChanged,
  LogRecord,
  NetworkAssigned,
  NetworkUnassigned,
  TenantMembersChanged,
} from './events';
import { SERVICE_NAMES } from './services';
import { TOPIC_NAME_PATTERN } from './topic';

/** Sends an envelope through JSON as the bus would, and validates what comes out. */
function throughWire<T>(definition: EventDefinition, envelope: T): EnvelopeValidation<unknown> {
  return validateEnvelope(definition, JSON.parse(JSON.stringify(envelope)));
}

function reasonOf(result: EnvelopeValidation<unknown>): string {
  if (result.ok) throw new Error('expected the envelope to be rejected, but it was accepted');
  return result.reason;
}

/** A JSON copy of an envelope whose `data` the test may break. */
function mutableCopy(envelope: object): { data: Record<string, unknown> } & Record<string, unknown> {
  return JSON.parse(JSON.stringify(envelope));
}

const networkAssigned: NetworkAssigned.Value = {
  tenantId: 'keystone-project-7',
  networkId: 'net-1',
  environmentId: 'env-1',
  operationId: 'op-1',
};

const cpuWindow: AutoscalingPoliciesPublished.ScalingWindow = {
  start: '08:00',
  end: '20:00',
  strategy: {
    kind: 'cpu',
    upperThreshold: 80,
    lowerThreshold: 20,
    durationSeconds: 120,
    step: 2,
    minReplicas: 2,
    maxReplicas: 10,
    retriggerSeconds: 300,
  },
};
const timeWindow: AutoscalingPoliciesPublished.ScalingWindow = {
  start: '20:00',
  end: '08:00',
  strategy: { kind: 'time', replicas: 1 },
};
const policies: AutoscalingPoliciesPublished.Value = {
  tenantId: 'keystone-project-7',
  stackId: 'stack-1',
  revision: 3,
  policies: [
    {
      service: 'payments',
      environmentId: 'env-1',
      namespace: 'tenant-7-env-1',
      deployment: 'payments',
      enabled: true,
      cycle: 'daily',
      windows: [cpuWindow, timeWindow],
    },
  ],
};

const imageState: ImageStateChanged.Value = {
  tenantId: 'keystone-project-7',
  registry: 'test',
  namespace: 'payments',
  repository: 'api/server',
  tag: '1.4.2',
  digest: `sha256:${'a'.repeat(64)}`,
  from: 'developing',
  to: 'pending-sync',
  changedBy: 'alice',
};

describe('topic catalog', () => {
  it('names every topic stratum.<domain>.<event>.v<N> after its event type and version', () => {
    expect(TOPIC_CATALOG.length).toBeGreaterThan(0);
    for (const topic of TOPIC_CATALOG) {
      expect(topic.name).toMatch(TOPIC_NAME_PATTERN);
      expect(topic.name).toBe(`stratum.${topic.event.type}.v${topic.event.version}`);
    }
  });

  it('has unique topic names and event types', () => {
    const names = TOPIC_CATALOG.map((topic) => topic.name);
    expect(new Set(names).size).toBe(names.length);
    const types = TOPIC_CATALOG.map((topic) => topic.event.type);
    expect(new Set(types).size).toBe(types.length);
  });

  it('holds a topic for every event folder and a dead-letter topic for every service', () => {
    const folders = readdirSync(join(__dirname, 'events'), { withFileTypes: true }).filter((entry) =>
      entry.isDirectory(),
    );
    expect(TOPIC_CATALOG.length).toBe(folders.length + SERVICE_NAMES.length);
    for (const service of SERVICE_NAMES) {
      expect(topicSpec(`stratum.${service}.dead-letter.v1`).event.type).toBe(`${service}.dead-letter`);
    }
  });

  it('uses the agreed partitions and retention', () => {
    const day = 24 * 60 * 60 * 1000;
    expect(topicSpec(NetworkAssigned.Topic.name)).toMatchObject({
      partitions: 6,
      cleanup: { policy: 'delete', retentionMs: 7 * day },
    });
    expect(topicSpec(EventRecorded.Topic.name)).toMatchObject({
      partitions: 12,
      cleanup: { policy: 'delete', retentionMs: 30 * day },
    });
    expect(topicSpec(LogRecord.Topic.name)).toMatchObject({
      partitions: 12,
      cleanup: { policy: 'delete', retentionMs: 3 * day },
    });
    expect(topicSpec(ImageStateChanged.Topic.name).cleanup).toEqual({ policy: 'compact' });
    expect(topicSpec('stratum.tenant.members-changed.v1')).toMatchObject({
      partitions: 6,
      cleanup: { policy: 'compact' },
      producers: ['gateway'],
      consumers: ['resource-manager'],
    });
    expect(topicSpec('stratum.monitor.dead-letter.v1')).toMatchObject({
      partitions: 3,
      cleanup: { policy: 'delete', retentionMs: 30 * day },
    });
  });

  it('refuses unknown topics with a message naming them', () => {
    expect(() => topicSpec('stratum.resource.no-such-event.v1')).toThrow(
      /Unknown topic "stratum\.resource\.no-such-event\.v1"/,
    );
    expect(eventDefinitionForTopic(NetworkAssigned.Topic.name)).toBe(NetworkAssigned.Event);
  });
});

describe('dead letters', () => {
  it('names one topic per service', () => {
    expect(deadLetterTopicFor('resource-manager')).toBe('stratum.resource-manager.dead-letter.v1');
    expect(DEAD_LETTER_TOPICS.map((topic) => topic.name)).toEqual(SERVICE_NAMES.map(deadLetterTopicFor));
    expect(() => deadLetterTopicFor('Bad Service')).toThrow(/Bad Service/);
  });

  it('keeps the raw message and keys it by original topic', () => {
    const letter = DeadLetterSchema.parse({
      originalTopic: NetworkAssigned.Topic.name,
      partition: 4,
      offset: '9007199254740993',
      key: 'keystone-project-7',
      groupId: 'orchestrator',
      reason: 'schema-invalid',
      error: { message: 'data: networkId: Invalid input' },
      attempts: 0,
      failedAt: '2025-01-01T00:00:00.000Z',
      eventId: null,
      originalValue: '{"not":"an envelope"}',
      originalHeaders: { traceparent: '00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01' },
    });
    const envelope = createEnvelope(DEAD_LETTER_TOPICS[0].event, letter, { source: 'gateway' });
    expect(envelope.key).toBe(NetworkAssigned.Topic.name);
    expect(DeadLetterSchema.safeParse({ ...letter, offset: '-1' }).success).toBe(false);
  });
});

describe('envelopes through the wire', () => {
  it.each([
    ['network-assigned', NetworkAssigned.Event as EventDefinition, networkAssigned, 'keystone-project-7'],
    ['autoscaling-policies-published', AutoscalingPoliciesPublished.Event, policies, 'stack-1'],
    ['image-state-changed', ImageStateChanged.Event, imageState, 'payments/api/server:1.4.2'],
  ])('round-trips %s', (_name, definition, data, key) => {
    const envelope = createEnvelope(definition, data, { source: 'resource-manager' });
    expect(envelope.key).toBe(key);
    expect(envelope.tenant).toBe('keystone-project-7');
    const result = throughWire(definition, envelope);
    if (!result.ok) throw new Error(result.reason);
    expect(result.envelope).toEqual(envelope);
    expect(result.envelope.data).toEqual(data);
  });

  it('rejects an envelope of another event type', () => {
    const envelope = createEnvelope(NetworkAssigned.Event, networkAssigned, { source: 'resource-manager' });
    expect(reasonOf(throughWire(NetworkUnassigned.Event, envelope))).toContain(
      'expected resource.network-unassigned v1, got resource.network-assigned v1',
    );
  });

  it('rejects a missing field and names it', () => {
    const envelope = mutableCopy(createEnvelope(NetworkAssigned.Event, networkAssigned, { source: 'x' }));
    delete envelope.data.networkId;
    expect(reasonOf(throughWire(NetworkAssigned.Event, envelope))).toMatch(/^data: networkId: /);
  });

  it('rejects a lower threshold at or above the upper one and names the path', () => {
    for (const lowerThreshold of [80, 95]) {
      const envelope = mutableCopy(
        createEnvelope(AutoscalingPoliciesPublished.Event, policies, { source: 'x' }),
      );
      const policy = (
        envelope.data.policies as Array<{ windows: Array<{ strategy: Record<string, unknown> }> }>
      )[0];
      policy.windows[0].strategy.lowerThreshold = lowerThreshold;
      expect(reasonOf(throughWire(AutoscalingPoliciesPublished.Event, envelope))).toContain(
        'policies.0.windows.0.strategy.lowerThreshold: lowerThreshold must be below upperThreshold',
      );
    }
  });

  it('rejects min replicas above max replicas', () => {
    const strategy = { ...cpuWindow.strategy, minReplicas: 11 };
    expect(
      AutoscalingPoliciesPublished.ScalingWindowSchema.safeParse({ ...cpuWindow, strategy }).error?.issues[0]
        .path,
    ).toEqual(['strategy', 'minReplicas']);
  });

  it.each(['25:00', '8:00', '08:60', '0800'])('rejects the time of day %s and names the path', (start) => {
    const envelope = mutableCopy(
      createEnvelope(AutoscalingPoliciesPublished.Event, policies, { source: 'x' }),
    );
    const policy = (envelope.data.policies as Array<{ windows: Array<Record<string, unknown>> }>)[0];
    policy.windows[1].start = start;
    expect(reasonOf(throughWire(AutoscalingPoliciesPublished.Event, envelope))).toContain(
      'policies.0.windows.1.start: must be a time of day HH:MM',
    );
  });

  it('rejects overlapping windows, including across midnight (R-AS-1)', () => {
    const overlapping = { ...timeWindow, start: '19:00', end: '07:00' };
    const result = AutoscalingPoliciesPublished.MicroserviceScalingPolicySchema.safeParse({
      ...policies.policies[0],
      windows: [cpuWindow, overlapping],
    });
    expect(result.error?.issues.map((issue) => issue.path)).toEqual([['windows', 1]]);
  });

  it('requires container metadata on container log records (R-LG-4)', () => {
    const record: LogRecord.Value = {
      host: { id: 'host-1', name: 'node-a' },
      source: 'container',
      path: '/var/log/containers/x.log',
      line: 'hello',
      collectedAt: '2025-01-01T08:00:00.000+08:00',
    };
    expect(LogRecord.Schema.safeParse(record).error?.issues[0].path).toEqual(['container']);
    expect(LogRecord.Schema.safeParse({ ...record, source: 'host' }).success).toBe(true);
  });

  it('round-trips tenant members keyed by tenant, and refuses an unsorted list, platform-admin and a bad revision', () => {
    const members: TenantMembersChanged.Member[] = [
      { userId: 'u-1', userName: 'alice', roles: ['tenant-admin'] },
      { userId: 'u-2', userName: 'bob', roles: ['restricted-member', 'read-only'] },
    ];
    const data: TenantMembersChanged.Value = {
      tenantId: 'keystone-project-7',
      tenantName: 'retail',
      members,
      revision: TenantMembersChanged.revisionOf(members),
      observedAt: '2025-01-01T08:00:00.000Z',
    };
    const envelope = createEnvelope(TenantMembersChanged.Event, data, { source: 'gateway' });
    expect(envelope).toMatchObject({ key: 'keystone-project-7', tenant: 'keystone-project-7' });
    const result = throughWire(TenantMembersChanged.Event, envelope);
    if (!result.ok) throw new Error(result.reason);
    expect(result.envelope.data).toEqual(data);
    // The revision is the SHA-256 of the list as the gateway serialises it.
    expect(data.revision).toMatch(/^[0-9a-f]{64}$/);
    expect(TenantMembersChanged.revisionOf([...members].reverse())).not.toBe(data.revision);

    const broken = (change: (data: Record<string, unknown>) => void) => {
      const copy = mutableCopy(envelope);
      change(copy.data);
      return reasonOf(throughWire(TenantMembersChanged.Event, copy));
    };
    expect(broken((d) => (d.members = [...members].reverse()))).toContain(
      'members: must be sorted by userId',
    );
    expect(broken((d) => (d.members = [members[0], members[0]]))).toContain(
      'members: must be sorted by userId',
    );
    expect(
      broken((d) => (d.members = [{ userId: 'u-1', userName: 'alice', roles: ['platform-admin'] }])),
    ).toMatch(/^data: members\.0\.roles\.0: /);
    expect(broken((d) => (d.members = [{ userId: 'u-1', userName: 'alice', roles: [] }]))).toMatch(
      /^data: members\.0\.roles: /,
    );
    expect(broken((d) => (d.revision = 'abc'))).toContain('revision: must be a SHA-256');
  });
});
