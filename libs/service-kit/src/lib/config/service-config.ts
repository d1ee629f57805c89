import { z } from 'zod';

/**
 * Configuration every service reads at boot, from environment variables. A bad or missing value stops
 * the service before anything starts, with a message naming the variable (STYLE: one typed, validated
 * config per service; no `process.env` reads anywhere else).
 */
const csv = z
  .string()
  .transform((value) =>
    value
      .split(',')
      .map((s) => s.trim())
      .filter(Boolean),
  )
  .pipe(
    z
      .array(z.string().regex(/^[^:\s]+:\d{1,5}$/, 'each broker must be host:port'))
      .min(1, 'at least one broker'),
  );

export const BaseEnvSchema = z.object({
  HTTP_PORT: z.coerce.number().int().min(0).max(65535).optional(),
  HTTP_HOST: z.string().min(1).default('0.0.0.0'),
  LOG_LEVEL: z.enum(['trace', 'debug', 'info', 'warn', 'error', 'fatal', 'silent']).default('info'),
  /** kafka (distributed) or in-process (single-process development). */
  STRATUM_BUS: z.enum(['kafka', 'in-process']).default('kafka'),
  KAFKA_BROKERS: csv.optional(),
  KAFKA_SESSION_TIMEOUT_MS: z.coerce.number().int().min(6_000).max(300_000).default(30_000),
  KAFKA_FETCH_MAX_WAIT_MS: z.coerce.number().int().min(1).max(5_000).default(100),
  /** postgres (distributed) or embedded (PGlite in STRATUM_DATA_DIR). */
  STRATUM_DATABASE: z.enum(['postgres', 'embedded']).default('postgres'),
  DATABASE_URL: z
    .string()
    .regex(/^postgres(ql)?:\/\/\S+$/, 'must be a postgres:// URL')
    .optional(),
  DATABASE_POOL_SIZE: z.coerce.number().int().min(1).max(100).default(10),
  STRATUM_DATA_DIR: z.string().min(1).default('.data'),
  OTEL_EXPORTER_OTLP_ENDPOINT: z.url().optional(),
  /** Graceful shutdown budget: consumers finish their batch, the outbox drains. */
  SHUTDOWN_TIMEOUT_MS: z.coerce.number().int().min(1_000).max(120_000).default(10_000),
  /** Kubeconfig file of the clusters Stratum acts on (services that use Kubernetes). */
  KUBECONFIG: z.string().min(1).optional(),
  /** PEM file of the gateway's Ed25519 public key(s) (services that verify the caller's identity). */
  STRATUM_IDENTITY_PUBLIC_KEYS: z.string().min(1).optional(),
  /** Handler attempts before an event goes to the dead-letter topic. */
  CONSUMER_MAX_ATTEMPTS: z.coerce.number().int().min(1).max(100).default(5),
});

export type BaseEnv = z.infer<typeof BaseEnvSchema>;

export interface ServiceConfig<TExtra = Record<string, never>> {
  service: string;
  http: { port: number; host: string };
  logLevel: BaseEnv['LOG_LEVEL'];
  bus:
    | { kind: 'kafka'; brokers: string[]; sessionTimeoutMs: number; fetchMaxWaitMs: number }
    | { kind: 'in-process' };
  database:
    | { kind: 'postgres'; url: string; poolSize: number }
    | { kind: 'embedded'; dataDir: string }
    | { kind: 'none' };
  otlpEndpoint?: string;
  shutdownTimeoutMs: number;
  consumerMaxAttempts: number;
  dataDir: string;
  /** Kubeconfig file, one context per cluster (services that act on Kubernetes). */
  kubeconfig?: string;
  /** PEM file of the gateway's public keys (services that verify the caller's identity). */
  identityPublicKeysFile?: string;
  /** The service's own settings, validated by its schema. */
  own: TExtra;
}

export class ConfigError extends Error {
  constructor(
    readonly service: string,
    readonly problems: { variable: string; problem: string }[],
  ) {
    super(
      `Invalid configuration for ${service}; fix these environment variables and start again:\n` +
        problems.map((p) => `  ${p.variable}: ${p.problem}`).join('\n'),
    );
    this.name = 'ConfigError';
  }
}

export function loadServiceConfig<TOwn extends z.ZodObject>(options: {
  service: string;
  defaultPort: number;
  usesDatabase: boolean;
  /** The service acts on Kubernetes clusters (R-NW, R-ST, R-OR, R-AS, R-MO, R-LG): KUBECONFIG is required. */
  usesKubernetes?: boolean;
  /** The service verifies the identity the gateway signs (R-AU-1): STRATUM_IDENTITY_PUBLIC_KEYS is required. */
  usesIdentity?: boolean;
  ownSchema?: TOwn;
  env: Record<string, string | undefined>;
}): ServiceConfig<z.infer<TOwn>> {
  const schema = options.ownSchema ? BaseEnvSchema.extend(options.ownSchema.shape) : BaseEnvSchema;
  const parsed = schema.safeParse(options.env);
  const problems: { variable: string; problem: string }[] = [];
  if (!parsed.success) {
    for (const issue of parsed.error.issues) {
      const variable = String(issue.path[0] ?? '(environment)');
      const problem =
        issue.code === 'invalid_type' && issue.input === undefined ? 'is required' : issue.message;
      problems.push({
        variable,
        problem: `${problem} (got ${JSON.stringify(options.env[variable] ?? null)})`,
      });
    }
    throw new ConfigError(options.service, problems);
  }
  const env = parsed.data as BaseEnv & Record<string, unknown>;
  if (env.STRATUM_BUS === 'kafka' && !env.KAFKA_BROKERS) {
    problems.push({
      variable: 'KAFKA_BROKERS',
      problem: 'is required when STRATUM_BUS=kafka (e.g. kafka-1:9092,kafka-2:9092)',
    });
  }
  if (options.usesDatabase && env.STRATUM_DATABASE === 'postgres' && !env.DATABASE_URL) {
    problems.push({
      variable: 'DATABASE_URL',
      problem: `is required when STRATUM_DATABASE=postgres (e.g. postgres://stratum@db:5432/${options.service.replace(/-/g, '_')})`,
    });
  }
  if (options.usesKubernetes && !env.KUBECONFIG) {
    problems.push({
      variable: 'KUBECONFIG',
      problem:
        'is required: a kubeconfig file with one context per cluster Stratum may place environments in (the all-in-one mode starts a sandbox cluster and sets it)',
    });
  }
  if (options.usesIdentity && !env.STRATUM_IDENTITY_PUBLIC_KEYS) {
    problems.push({
      variable: 'STRATUM_IDENTITY_PUBLIC_KEYS',
      problem:
        "is required: a PEM file with the gateway's Ed25519 public key(s), one or more -----BEGIN PUBLIC KEY----- blocks (see docs/identity.md)",
    });
  }
  if (problems.length) throw new ConfigError(options.service, problems);
  const own = options.ownSchema
    ? Object.fromEntries(Object.keys(options.ownSchema.shape).map((k) => [k, env[k]]))
    : {};
  return {
    service: options.service,
    http: { port: env.HTTP_PORT ?? options.defaultPort, host: env.HTTP_HOST },
    logLevel: env.LOG_LEVEL,
    bus:
      env.STRATUM_BUS === 'kafka'
        ? {
            kind: 'kafka',
            brokers: env.KAFKA_BROKERS!,
            sessionTimeoutMs: env.KAFKA_SESSION_TIMEOUT_MS,
            fetchMaxWaitMs: env.KAFKA_FETCH_MAX_WAIT_MS,
          }
        : { kind: 'in-process' },
    database: !options.usesDatabase
      ? { kind: 'none' }
      : env.STRATUM_DATABASE === 'postgres'
        ? { kind: 'postgres', url: env.DATABASE_URL!, poolSize: env.DATABASE_POOL_SIZE }
        : { kind: 'embedded', dataDir: env.STRATUM_DATA_DIR },
    otlpEndpoint: env.OTEL_EXPORTER_OTLP_ENDPOINT,
    shutdownTimeoutMs: env.SHUTDOWN_TIMEOUT_MS,
    consumerMaxAttempts: env.CONSUMER_MAX_ATTEMPTS,
    dataDir: env.STRATUM_DATA_DIR,
    kubeconfig: options.usesKubernetes ? env.KUBECONFIG : undefined,
    identityPublicKeysFile: options.usesIdentity ? env.STRATUM_IDENTITY_PUBLIC_KEYS : undefined,
    own: own as z.infer<TOwn>,
  };
}
