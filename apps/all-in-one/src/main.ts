/**
 * All-in-one mode (`npm start`): the seven services in one process on embedded defaults — the
 * in-process bus, one embedded PostgreSQL with a schema per service (and one for the bus's log and
 * offsets), state kept in STRATUM_DATA_DIR across restarts — and no external dependency.
 *
 * Each service is loaded from its own `apps/<service>/src/service.ts`, the same entry its distributed
 * `main.ts` runs. They are loaded by path at run time, not imported: no app's code imports another
 * app (the lint rule holds), and this launcher only decides how many of them share a process.
 *
 * The identity the gateway signs for the services (R-AU-1, docs/identity.md) uses a key pair made at
 * each start and kept in memory: the services get its public key directly, not from a file.
 */
import { generateIdentityKeyPair, IdentityKeys } from '@stratum/authz';
import { SERVICE_NAMES, type ServiceName } from '@stratum/contracts';
import { EmbeddedPostgres } from '@stratum/persistence';
import {
  ConfigError,
  loadServiceConfig,
  openEmbeddedBus,
  type RunningService,
  type ServiceDefinition,
  startService,
} from '@stratum/service-kit';
import { createLog, initTelemetry } from '@stratum/telemetry';
import { mkdir, writeFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { KubeClusters, NodeSimulator, SandboxCluster } from '@stratum/kube';
import { z } from 'zod';

const launcherEnv = z.object({
  STRATUM_DATA_DIR: z.string().min(1).default('.data'),
  /** The gateway listens here; the other services on the next six ports. */
  STRATUM_PORT_BASE: z.coerce.number().int().min(1).max(65_000).default(8080),
  LOG_LEVEL: z.enum(['trace', 'debug', 'info', 'warn', 'error', 'fatal', 'silent']).default('info'),
  SHUTDOWN_TIMEOUT_MS: z.coerce.number().int().min(1_000).max(120_000).default(8_000),
  OTEL_EXPORTER_OTLP_ENDPOINT: z.url().optional(),
  /** A real cluster's kubeconfig; when unset, a sandbox cluster with simulated nodes runs in-process. */
  KUBECONFIG: z.string().min(1).optional(),
  /** Simulated nodes of the sandbox cluster. */
  SANDBOX_NODES: z.coerce.number().int().min(1).max(50).default(3),
});

function loadDefinition(name: ServiceName): ServiceDefinition {
  const entry = join(resolve(__dirname, '../..'), name, 'src', 'service');
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  return (require(entry) as { service: ServiceDefinition }).service;
}

/**
 * The sandbox cluster (an in-process Kubernetes API server, state kept in the data directory) and a
 * node simulator playing the kubelet for its nodes, so stacks really reach Running on a laptop.
 */
async function startSandbox(dataDir: string, nodes: number) {
  const dir = join(dataDir, 'kube');
  await mkdir(dir, { recursive: true });
  const cluster = await SandboxCluster.start({
    name: 'sandbox',
    persistPath: join(dir, 'sandbox-state.json'),
  });
  const kubeconfigPath = join(dir, 'kubeconfig');
  // Owner-only: it holds the sandbox's bearer token.
  await writeFile(kubeconfigPath, cluster.kubeconfig(), { mode: 0o600 });
  const nodeRoot = join(dataDir, 'nodes');
  const clusters = KubeClusters.fromYaml(cluster.kubeconfig(), { fieldManager: 'stratum-node-simulator' });
  const simulator = await NodeSimulator.start({
    client: clusters.client(),
    nodes: Array.from({ length: nodes }, (_, i) => ({
      name: `sandbox-node-${i + 1}`,
      networkZone: i % 2 === 0 ? 'zone-a' : 'zone-b',
      securityZone: 'intranet',
      rack: `rack-${(i % 3) + 1}`,
    })),
    logRoot: nodeRoot,
  });
  return {
    server: cluster.server,
    kubeconfigPath,
    nodeRoot,
    async stop() {
      await simulator.stop();
      await clusters.close();
      await cluster.stop();
    },
  };
}

async function main(): Promise<void> {
  const parsed = launcherEnv.safeParse(process.env);
  if (!parsed.success) {
    console.error(
      `Invalid configuration: ${parsed.error.issues.map((i) => `${String(i.path[0])}: ${i.message}`).join('; ')}`,
    );
    process.exit(78);
  }
  const env = parsed.data;
  const telemetry = initTelemetry({
    serviceName: 'stratum-all-in-one',
    otlpEndpoint: env.OTEL_EXPORTER_OTLP_ENDPOINT,
  });
  const log = createLog({ level: env.LOG_LEVEL, bindings: { process: 'stratum-all-in-one' } });
  const dataDir = resolve(env.STRATUM_DATA_DIR);
  const started = Date.now();
  const embedded = await EmbeddedPostgres.open(join(dataDir, 'pg'));
  const bus = await openEmbeddedBus(embedded);
  const sandbox = env.KUBECONFIG ? undefined : await startSandbox(dataDir, env.SANDBOX_NODES);
  const kubeconfig = env.KUBECONFIG ?? sandbox!.kubeconfigPath;
  // A fresh pair per run: the gateway (issue #6) signs each caller's identity with its private key,
  // which never leaves this process; every service accepts the public key. Tokens from an earlier run
  // are therefore never accepted.
  const identitySigning = generateIdentityKeyPair();
  const identityKeys = IdentityKeys.fromPem(identitySigning.publicKeyPem);
  const services: RunningService[] = [];

  let stopping = false;
  const stopAll = async (signal: string) => {
    if (stopping) return;
    stopping = true;
    log.info('stopping all services', { signal });
    const force = setTimeout(() => {
      log.error('graceful stop took too long; exiting');
      process.exit(1);
    }, env.SHUTDOWN_TIMEOUT_MS + 1_000);
    force.unref();
    await Promise.all(services.map((s) => s.stop()));
    await bus.close();
    await sandbox?.stop();
    await embedded.close();
    await telemetry.shutdown();
    log.info('stopped');
    process.exit(0);
  };
  process.on('SIGINT', () => void stopAll('SIGINT'));
  process.on('SIGTERM', () => void stopAll('SIGTERM'));

  // The gateway reaches every other service on its port (the order of SERVICE_NAMES) and, unless a real
  // Keystone is configured, authenticates with the development identity provider (loudly, see below).
  const portOf = (name: ServiceName) => env.STRATUM_PORT_BASE + SERVICE_NAMES.indexOf(name);
  const devIdentity = !process.env.KEYSTONE_URL;
  const gatewayEnv: Record<string, string> = {
    UPSTREAM_RESOURCE_MANAGER: `http://127.0.0.1:${portOf('resource-manager')}`,
    UPSTREAM_ORCHESTRATOR: `http://127.0.0.1:${portOf('orchestrator')}`,
    UPSTREAM_AUTOSCALER: `http://127.0.0.1:${portOf('autoscaler')}`,
    UPSTREAM_MONITOR: `http://127.0.0.1:${portOf('monitor')}`,
    UPSTREAM_IMAGE_SYNC: `http://127.0.0.1:${portOf('image-sync')}`,
    ...(devIdentity ? { STRATUM_DEV_IDENTITY: 'enabled' } : {}),
  };
  try {
    for (const [index, name] of SERVICE_NAMES.entries()) {
      const definition = loadDefinition(name);
      const config = loadServiceConfig({
        service: name,
        defaultPort: env.STRATUM_PORT_BASE + index,
        usesDatabase: definition.store === 'postgres',
        usesKubernetes: definition.kubernetes,
        // No usesIdentity: the public key is passed in memory (identityKeys below), not as a file.
        ownSchema: definition.configSchema,
        env: {
          ...process.env,
          ...(name === 'gateway' ? gatewayEnv : {}),
          HTTP_PORT: String(env.STRATUM_PORT_BASE + index),
          HTTP_HOST: process.env.HTTP_HOST ?? '127.0.0.1',
          STRATUM_BUS: 'in-process',
          STRATUM_DATABASE: 'embedded',
          STRATUM_DATA_DIR: dataDir,
          KUBECONFIG: kubeconfig,
          CHECKPOINT_DIR: process.env.CHECKPOINT_DIR ?? join(dataDir, 'log-shipper'),
          SHUTDOWN_TIMEOUT_MS: String(Math.floor(env.SHUTDOWN_TIMEOUT_MS / 2)),
        },
      });
      if (stopping) return;
      services.push(
        await startService(definition, config, {
          bus,
          embedded,
          log,
          identityKeys,
          identitySigningKey: identitySigning.privateKey,
        }),
      );
    }
  } catch (error) {
    const message = error instanceof ConfigError ? error.message : ((error as Error).stack ?? String(error));
    log.fatal('all-in-one failed to start', { error: message });
    await Promise.all(services.map((s) => s.stop()));
    await sandbox?.stop().catch(() => undefined);
    await embedded.close().catch(() => undefined);
    process.exit(error instanceof ConfigError ? 78 : 1);
  }
  const gateway = services.find((s) => s.name === 'gateway')!;
  log.info('Stratum is running', {
    gateway: gateway.url,
    startupMs: Date.now() - started,
    dataDir,
    kubeconfig,
  });
  console.log(
    `\nStratum is running (all-in-one). Gateway: ${gateway.url}\n` +
      services.map((s) => `  ${s.name.padEnd(17)} ${s.url}/health`).join('\n') +
      (sandbox
        ? `\n  sandbox cluster   ${sandbox.server} (kubeconfig: ${kubeconfig}; ${env.SANDBOX_NODES} simulated nodes, logs under ${sandbox.nodeRoot})`
        : `\n  clusters from     ${kubeconfig}`) +
      (devIdentity
        ? '\n\n  !! DEVELOPMENT IDENTITY PROVIDER — not Keystone; never expose this process. Demo users (password ' +
          `${process.env.STRATUM_DEV_IDENTITY_PASSWORD ? 'from STRATUM_DEV_IDENTITY_PASSWORD' : '"stratum-demo"'}):\n` +
          '     admin (platform admin, project admin); retail-admin, retail-advanced, retail-restricted,\n' +
          '     retail-reader (project demo-retail); the same with payments- (project demo-payments).\n' +
          `     curl -s -X POST ${gateway.url}/api/v1/auth/tokens -H 'content-type: application/json' \\\n` +
          `       -d '{"username":"retail-admin","password":"stratum-demo","project":"demo-retail"}'`
        : `\n  identity          Keystone at ${process.env.KEYSTONE_URL}`) +
      '\nPress Ctrl-C to stop.\n',
  );
}

void main();
