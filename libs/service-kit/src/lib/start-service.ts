import 'reflect-metadata';
import { ValidationPipe } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import type { NestExpressApplication } from '@nestjs/platform-express';
import { TOPIC_CATALOG } from '@stratum/contracts';
import {
  BusMetrics,
  CreateMessagingTables1763769600000,
  EmbeddedBusStore,
  EventConsumer,
  InProcessBus,
  KafkaBus,
  type MessageBus,
  Outbox,
  OutboxRelay,
} from '@stratum/messaging';
import { BusTransport } from '@stratum/messaging/nest';
import { type DatabaseTarget, EmbeddedPostgres, ServiceDatabase } from '@stratum/persistence';
import {
  createLog,
  createMetricsRegistry,
  HttpMetrics,
  httpTracingMiddleware,
  initTelemetry,
  type Log,
  NestLogAdapter,
} from '@stratum/telemetry';
import type { NextFunction, Request, Response } from 'express';
import type { KeyObject } from 'node:crypto';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import type { z } from 'zod';
import { ConfigError, loadServiceConfig, type ServiceConfig } from './config/service-config';
import { HttpErrorFilter } from './errors';
import { HealthRegistry } from './health/health-registry';
import { ServiceRuntime } from './runtime';
import type { ServiceDefinition } from './service-definition';
import { ServiceCoreModule } from './service-core.module';
import type { KubeClusters } from '@stratum/kube';
import { IdentityKeys } from '@stratum/authz';
import { IdentityVerifier } from '@stratum/authz/nest';

/**
 * The clusters a service acts on, one per kubeconfig context, with its own field manager so
 * server-side apply records which service owns which field.
 */
async function openKubeClusters(service: string, config: ServiceConfig<unknown>): Promise<KubeClusters> {
  if (!config.kubeconfig) {
    throw new ConfigError(service, [{ variable: 'KUBECONFIG', problem: 'is required for this service' }]);
  }
  // Loaded by the services that act on clusters only: the Kubernetes client is ≈ 25 MB of heap, which
  // the gateway would carry for nothing (and mark at every major collection).
  const { KubeClusters } = await import('@stratum/kube');
  let clusters: KubeClusters;
  try {
    clusters = KubeClusters.fromFile(config.kubeconfig, { fieldManager: `stratum-${service}` });
  } catch (error) {
    throw new ConfigError(service, [{ variable: 'KUBECONFIG', problem: (error as Error).message }]);
  }
  return clusters;
}

/**
 * The gateway's public keys a service verifies the caller's identity with (R-AU-1): the shared ones
 * (all-in-one mode, tests), else the PEM file STRATUM_IDENTITY_PUBLIC_KEYS names.
 */
function openIdentityVerifier(
  service: string,
  config: ServiceConfig<unknown>,
  shared: IdentityKeys | undefined,
): IdentityVerifier {
  if (shared) return new IdentityVerifier(shared);
  const variable = 'STRATUM_IDENTITY_PUBLIC_KEYS';
  if (!config.identityPublicKeysFile) {
    throw new ConfigError(service, [{ variable, problem: 'is required for this service' }]);
  }
  try {
    return new IdentityVerifier(IdentityKeys.fromFile(config.identityPublicKeysFile));
  } catch (error) {
    throw new ConfigError(service, [{ variable, problem: (error as Error).message }]);
  }
}

/**
 * Readiness: not ready only when no cluster answers (one cluster down must not take the API for the
 * others away); the detail names every cluster's state. One attempt each: health must answer fast.
 */
function registerKubeHealth(health: HealthRegistry, clusters: KubeClusters): void {
  health.register('kubernetes', async () => {
    const states = await Promise.all(
      clusters.names().map(async (name) => {
        try {
          const version = await clusters.client(name).version({ attempts: 1 });
          return { name, up: true, text: `${name} up (${version})` };
        } catch (error) {
          return { name, up: false, text: `${name} unreachable: ${(error as Error).message}` };
        }
      }),
    );
    return { ok: states.some((s) => s.up), detail: states.map((s) => s.text).join('; ') };
  });
}

/** Infrastructure a service may share with others in one process (all-in-one mode, tests). */
export interface SharedInfrastructure {
  bus?: MessageBus;
  embedded?: EmbeddedPostgres;
  /** Overrides the database target (tests: a fresh database per suite). */
  databaseTarget?: DatabaseTarget;
  log?: Log;
  /** The gateway's public keys, instead of STRATUM_IDENTITY_PUBLIC_KEYS (all-in-one mode, tests). */
  identityKeys?: IdentityKeys;
  /** The gateway's private signing key, instead of STRATUM_IDENTITY_PRIVATE_KEY (all-in-one mode, tests). */
  identitySigningKey?: KeyObject;
}

export interface RunningService {
  readonly name: string;
  readonly url: string;
  readonly runtime: ServiceRuntime;
  /** Graceful stop: not ready → consumers finish their batch → HTTP closes → outbox drains → close. */
  stop(): Promise<void>;
}

function partitionsOf(topic: string): number | undefined {
  return TOPIC_CATALOG.find((t) => t.name === topic)?.partitions;
}

export function createInProcessBus(): InProcessBus {
  return new InProcessBus({ partitionsOf, defaultPartitions: 3 });
}

/** The all-in-one mode's bus: in-process, kept in the embedded database so a restart loses nothing. */
export function openEmbeddedBus(embedded: EmbeddedPostgres): Promise<InProcessBus> {
  return InProcessBus.open({ partitionsOf, defaultPartitions: 3, store: new EmbeddedBusStore(embedded) });
}

/**
 * Starts one service: database (migrations first), bus, Nest application, HTTP, consumers, relay — in
 * that order, so consumers start only after the application has initialised (STYLE bootstrap order).
 */
export async function startService<TOwn extends z.ZodObject>(
  definition: ServiceDefinition<TOwn>,
  config: ServiceConfig<z.infer<TOwn>>,
  shared: SharedInfrastructure = {},
): Promise<RunningService> {
  const log = (shared.log ?? createLog({ level: config.logLevel })).child({ service: definition.name });
  // First: a bad kubeconfig or identity keys file is a configuration error, found before anything is opened.
  const identity = definition.verifiesIdentity
    ? openIdentityVerifier(definition.name, config, shared.identityKeys)
    : undefined;
  const kube = definition.kubernetes ? await openKubeClusters(definition.name, config) : undefined;
  const registry = createMetricsRegistry(definition.name);
  const httpMetrics = new HttpMetrics(registry);
  const busMetrics = new BusMetrics(registry);
  const ownsBus = !shared.bus;
  const bus: MessageBus =
    shared.bus ??
    (config.bus.kind === 'kafka'
      ? new KafkaBus({
          brokers: config.bus.brokers,
          clientId: definition.name,
          sessionTimeoutMs: config.bus.sessionTimeoutMs,
          fetchMaxWaitMs: config.bus.fetchMaxWaitMs,
          log: log.child({ component: 'bus' }),
        })
      : createInProcessBus());

  let ownedEmbedded: EmbeddedPostgres | undefined;
  let database: ServiceDatabase | undefined;
  if (definition.store === 'postgres') {
    let target = shared.databaseTarget;
    if (!target) {
      if (config.database.kind === 'postgres') {
        target = { kind: 'postgres', url: config.database.url, poolSize: config.database.poolSize };
      } else {
        const embedded =
          shared.embedded ?? (ownedEmbedded = await EmbeddedPostgres.open(join(config.dataDir, 'pg')));
        target = { kind: 'embedded', embedded, schema: definition.name.replace(/-/g, '_') };
      }
    }
    database = await ServiceDatabase.open({
      target,
      applicationName: `stratum-${definition.name}`,
      migrations: [CreateMessagingTables1763769600000, ...(definition.migrations ?? [])],
      entities: definition.entities ?? [],
      log: log.child({ component: 'database' }),
    });
  }

  const outbox = new Outbox(definition.name);
  // Delegated only where another process can reach the same outbox and bus: PostgreSQL and Kafka.
  const relayDelegated =
    definition.delegatesOutboxRelay === true && database?.target.kind === 'postgres' && bus.kind === 'kafka';
  const relay =
    database && !relayDelegated
      ? new OutboxRelay({
          service: definition.name,
          database,
          producer: bus.producer(),
          log: log.child({ component: 'outbox-relay' }),
          metrics: busMetrics,
        })
      : undefined;
  const health = new HealthRegistry();
  if (kube) registerKubeHealth(health, kube);
  const runtime = new ServiceRuntime(
    definition.name,
    config as ServiceConfig<Record<string, unknown>>,
    log,
    registry,
    httpMetrics,
    busMetrics,
    bus,
    outbox,
    health,
    database,
    relay,
    kube,
    identity,
    shared.identitySigningKey,
    relayDelegated,
  );
  if (database) {
    health.register('database', async () => {
      await database.ping();
      return { ok: true };
    });
  }
  // A process whose outbox relay runs in another process and that consumes nothing never uses the bus:
  // probing it would open a Kafka client for the probe alone (the relay's process reports on Kafka).
  health.register('bus', async () =>
    relayDelegated && !runtime.consumer?.topics.length
      ? {
          ok: true,
          detail: 'not used by this process: its outbox relay runs in another, and it consumes nothing',
        }
      : bus.health(),
  );
  // Registered before the HTTP server listens: not ready until the relay runs (it starts last), rather
  // than ready without the check for the moment in between.
  if (relay) health.register('outbox-relay', async () => relay.health());

  const app = await NestFactory.create<NestExpressApplication>(
    ServiceCoreModule.forRuntime(runtime, definition.module),
    {
      bufferLogs: true,
      abortOnError: false,
      bodyParser: definition.bodyParser ?? true,
    },
  );
  app.useLogger(new NestLogAdapter(log.child({ component: 'nest' })));
  app.useGlobalPipes(
    new ValidationPipe({
      whitelist: true,
      forbidNonWhitelisted: true,
      forbidUnknownValues: true,
      transform: true,
    }),
  );
  // One filter for both transports: HTTP errors get the JSON shape, bus errors are rethrown to the consumer.
  app.useGlobalFilters(new HttpErrorFilter(log.child({ component: 'http' })));
  app.use(httpTracingMiddleware(definition.name));
  app.use((request: Request, response: Response, next: NextFunction) => {
    const started = performance.now();
    response.on('finish', () => {
      const labels = {
        method: request.method,
        route: (request.route?.path as string | undefined) ?? 'unmatched',
        status: String(response.statusCode),
      };
      httpMetrics.requests.inc(labels);
      httpMetrics.duration.observe(labels, (performance.now() - started) / 1000);
    });
    next();
  });
  definition.configureApp?.(app);

  const transport = new BusTransport((subscriptions) => {
    if (!database && subscriptions.length > 0) {
      throw new Error(
        `${definition.name} has no database, so it cannot consume events (the inbox needs one)`,
      );
    }
    const consumer = new EventConsumer({
      service: definition.name,
      bus,
      database: database!,
      outbox,
      subscriptions,
      log: log.child({ component: 'consumer' }),
      metrics: busMetrics,
      maxAttempts: config.consumerMaxAttempts,
    });
    runtime.consumer = consumer;
    health.register('consumer', async () => ({
      ok: consumer.topics.length === 0 || consumer.running,
      detail: `${consumer.topics.length} topics, group ${consumer.groupId}`,
    }));
    return consumer;
  });
  app.connectMicroservice({ strategy: transport }, { inheritAppConfig: true });

  await app.init();
  await app.listen(config.http.port, config.http.host);
  await app.startAllMicroservices();
  await relay?.start();
  const address = app.getHttpServer().address() as AddressInfo;
  const host = config.http.host === '0.0.0.0' ? '127.0.0.1' : config.http.host;
  const url = `http://${host}:${address.port}`;
  log.info('service ready', {
    url,
    bus: bus.kind,
    database: database?.target.kind ?? 'none',
    ...(identity ? { identityKeys: identity.keys.kids() } : {}),
  });

  let stopping: Promise<void> | undefined;
  const stop = () =>
    (stopping ??= (async () => {
      health.markStopping('shutting down');
      const budget = config.shutdownTimeoutMs;
      await transport
        .close()
        .catch((error: Error) => log.warn('consumer stop failed', { error: error.message }));
      await app.close().catch((error: Error) => log.warn('HTTP close failed', { error: error.message }));
      await relay
        ?.stop(Math.max(500, budget / 3))
        .catch((error: Error) => log.warn('outbox drain failed', { error: error.message }));
      if (ownsBus) await bus.close().catch(() => undefined);
      await database?.close().catch(() => undefined);
      await kube?.close().catch(() => undefined);
      await ownedEmbedded?.close().catch(() => undefined);
      log.info('service stopped');
    })());
  return { name: definition.name, url, runtime, stop };
}

/**
 * Distributed mode: one service, one process. Telemetry first, config validated (exit 78 naming the
 * variable on a bad value), then the service; SIGTERM/SIGINT stop it gracefully and exit 0.
 */
export async function runServiceProcess<TOwn extends z.ZodObject>(
  definition: ServiceDefinition<TOwn>,
): Promise<void> {
  let config: ServiceConfig<z.infer<TOwn>>;
  try {
    config = loadServiceConfig({
      service: definition.name,
      defaultPort: definition.defaultPort,
      usesDatabase: definition.store === 'postgres',
      usesKubernetes: definition.kubernetes,
      usesIdentity: definition.verifiesIdentity,
      ownSchema: definition.configSchema,
      env: process.env,
    });
  } catch (error) {
    if (error instanceof ConfigError) {
      process.stderr.write(
        `${JSON.stringify({ level: 'fatal', service: definition.name, msg: error.message })}\n`,
      );
      process.exit(78);
    }
    throw error;
  }
  const telemetry = initTelemetry({
    serviceName: `stratum-${definition.name}`,
    otlpEndpoint: config.otlpEndpoint,
  });
  const log = createLog({ level: config.logLevel, bindings: { process: `stratum-${definition.name}` } });
  let service: RunningService;
  try {
    service = await startService(definition, config, { log });
  } catch (error) {
    if (error instanceof ConfigError) {
      log.fatal(error.message);
      process.exit(78);
    }
    log.fatal('service failed to start', { error: (error as Error).message, stack: (error as Error).stack });
    process.exit(1);
  }
  let signalled = false;
  const shutdown = (signal: string) => {
    if (signalled) return;
    signalled = true;
    log.info('stopping', { signal });
    const force = setTimeout(() => {
      log.error('graceful stop took too long; exiting', { timeoutMs: config.shutdownTimeoutMs });
      process.exit(1);
    }, config.shutdownTimeoutMs + 2_000);
    force.unref();
    void service
      .stop()
      .then(() => telemetry.shutdown())
      .then(() => process.exit(0));
  };
  process.on('SIGTERM', () => shutdown('SIGTERM'));
  process.on('SIGINT', () => shutdown('SIGINT'));
}
