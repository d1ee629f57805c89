/**
 * What the gateway's integration tests share: the gateway as its own process (distributed mode) and an
 * echo service standing in for the services behind it, which verifies the signed identity exactly as a
 * real service does (`verifyIdentity` with the gateway's public key) and reports what it received.
 */
import {
  generateIdentityKeyPair,
  IDENTITY_HEADER,
  IdentityKeys,
  verifyIdentity,
  type VerifiedIdentity,
} from '@stratum/authz';
import { type EventEnvelope, EventRecorded, TenantMembersChanged, TOPIC_CATALOG } from '@stratum/contracts';
import { KafkaBus } from '@stratum/messaging';
import {
  createTestDatabase,
  freePortBase,
  KafkaMockCluster,
  KeystoneBench,
  type KeystoneBenchOptions,
  runTs,
  type RunningProcess,
  type TestDatabase,
} from '@stratum/testing';
import { waitFor } from '@stratum/util';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export interface Received {
  method: string;
  path: string;
  headers: IncomingHttpHeaders;
  identity: VerifiedIdentity | { error: string };
  body: string;
}

/** An HTTP server that answers every request with what it received and the identity it verified. */
export class EchoUpstream {
  private constructor(
    private readonly server: Server,
    readonly url: string,
    /** Every request, in arrival order. */
    readonly received: Received[],
  ) {}

  static async start(keys: IdentityKeys): Promise<EchoUpstream> {
    const received: Received[] = [];
    const server = createServer((request, response) => {
      const chunks: Buffer[] = [];
      request.on('data', (c: Buffer) => chunks.push(c));
      request.on('end', () => {
        let identity: Received['identity'];
        try {
          const header = request.headers[IDENTITY_HEADER];
          if (typeof header !== 'string') throw new Error(`${IDENTITY_HEADER} missing or repeated`);
          identity = verifyIdentity(header, keys);
        } catch (error) {
          identity = { error: (error as Error).message };
        }
        const entry: Received = {
          method: request.method ?? '',
          path: request.url ?? '',
          headers: request.headers,
          identity,
          body: Buffer.concat(chunks).toString(),
        };
        received.push(entry);
        const body = JSON.stringify({ echo: true, ...entry });
        response.writeHead('error' in identity ? 401 : 200, {
          'content-type': 'application/json',
          'x-echo': '1',
        });
        response.end(body);
      });
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const { port } = server.address() as AddressInfo;
    return new EchoUpstream(server, `http://127.0.0.1:${port}`, received);
  }

  async stop(): Promise<void> {
    this.server.closeAllConnections();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }
}

export interface RunningGateway {
  url: string;
  port: number;
  run: RunningProcess;
  stop(): Promise<void>;
}

/** Starts `apps/gateway/src/main.ts` with `env` and waits until it is ready. */
export async function startGateway(env: Record<string, string>): Promise<RunningGateway> {
  const port = await freePortBase(1);
  const run = runTs('apps/gateway/src/main.ts', {
    HTTP_PORT: String(port),
    HTTP_HOST: '127.0.0.1',
    KAFKA_SESSION_TIMEOUT_MS: '6000',
    LOG_LEVEL: 'warn',
    ...env,
  });
  const url = `http://127.0.0.1:${port}`;
  await waitFor(
    async () => {
      if (run.child.exitCode !== null) throw new Error(`gateway exited: ${run.output().slice(-3000)}`);
      const response = await fetch(`${url}/health/ready`).catch(() => undefined);
      return response?.status === 200;
    },
    { timeoutMs: 40_000, intervalMs: 200, description: 'gateway ready' },
  ).catch((error: Error) => {
    throw new Error(`${error.message}\n${run.output().slice(-3000)}`);
  });
  return {
    url,
    port,
    run,
    async stop() {
      await run.stop('SIGTERM');
    },
  };
}

/**
 * Everything a gateway suite runs on: a real Keystone with the gateway's service user, the Kafka mock
 * cluster with an observer of the audit and members topics, the gateway's own PostgreSQL database, an
 * identity key pair and the echo service behind every route. `startGateway(env)` then starts the
 * gateway against them (extra settings in `env`).
 */
export class GatewayBench {
  readonly audit: EventEnvelope<EventRecorded.Value>[] = [];
  readonly members: EventEnvelope<TenantMembersChanged.Value>[] = [];
  gateway!: RunningGateway;
  private observer!: KafkaBus;

  private constructor(
    readonly label: string,
    readonly dir: string,
    readonly keystone: KeystoneBench,
    readonly service: { username: string; password: string },
    readonly kafka: KafkaMockCluster,
    readonly database: TestDatabase,
    readonly signing: ReturnType<typeof generateIdentityKeyPair>,
    readonly echo: EchoUpstream,
  ) {}

  static async start(label: string, keystoneOptions: KeystoneBenchOptions = {}): Promise<GatewayBench> {
    const dir = mkdtempSync(join(tmpdir(), `stratum-${label}-`));
    const keystone = await KeystoneBench.start(keystoneOptions);
    const service = await keystone.createServiceUser();
    const kafka = await KafkaMockCluster.start({
      brokers: 1,
      topics: TOPIC_CATALOG.map((t) => ({ name: t.name, partitions: t.partitions })),
    });
    const database = await createTestDatabase(label.replace(/[^a-z0-9_]/gi, '_'));
    const signing = generateIdentityKeyPair();
    const echo = await EchoUpstream.start(IdentityKeys.fromPem(signing.publicKeyPem));
    const bench = new GatewayBench(label, dir, keystone, service, kafka, database, signing, echo);
    bench.observer = new KafkaBus({
      brokers: kafka.bootstrapServers.split(','),
      clientId: `${label}-observer`,
    });
    await bench.observer
      .consumer({
        groupId: `${label}-observer-${process.pid}`,
        topics: [EventRecorded.Topic.name, TenantMembersChanged.Topic.name],
      })
      .start(async (batch) => {
        for (const message of batch.messages) {
          const envelope = JSON.parse(message.value!) as EventEnvelope<never>;
          if (message.topic === EventRecorded.Topic.name) bench.audit.push(envelope);
          else bench.members.push(envelope);
        }
      });
    return bench;
  }

  async startGateway(env: Record<string, string> = {}): Promise<RunningGateway> {
    const keyPath = join(this.dir, 'identity-private.pem');
    writeFileSync(keyPath, this.signing.privateKeyPem, { mode: 0o600 });
    this.gateway = await startGateway({
      KEYSTONE_URL: this.keystone.url,
      KEYSTONE_SERVICE_USERNAME: this.service.username,
      KEYSTONE_SERVICE_PASSWORD: this.service.password,
      KAFKA_BROKERS: this.kafka.bootstrapServers,
      DATABASE_URL: this.database.url,
      STRATUM_IDENTITY_PRIVATE_KEY: keyPath,
      UPSTREAM_RESOURCE_MANAGER: this.echo.url,
      UPSTREAM_ORCHESTRATOR: this.echo.url,
      UPSTREAM_AUTOSCALER: this.echo.url,
      UPSTREAM_MONITOR: this.echo.url,
      UPSTREAM_IMAGE_SYNC: this.echo.url,
      MEMBER_SYNC_INTERVAL_SECONDS: '0',
      ...env,
    });
    return this.gateway;
  }

  async stop(): Promise<void> {
    await this.gateway?.stop();
    await this.echo.stop();
    await this.observer?.close();
    await this.kafka.stop();
    await this.database.drop();
    await this.keystone.stop();
    rmSync(this.dir, { recursive: true, force: true });
  }
}
