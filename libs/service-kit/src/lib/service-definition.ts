import type { INestApplication, Type } from '@nestjs/common';
import type { ServiceName } from '@stratum/contracts';
import type { z } from 'zod';

/**
 * What a service is, declared once in `apps/<service>/src/service.ts`. Its `main.ts` runs it as its
 * own process (distributed mode); the all-in-one launcher runs all seven in one process.
 */
export interface ServiceDefinition<TOwn extends z.ZodObject = z.ZodObject> {
  name: ServiceName;
  description: string;
  defaultPort: number;
  /** The service's feature module(s). */
  module: Type<unknown>;
  /** `postgres`: its own database with migrations; `checkpoint`: a local checkpoint store (log-shipper). */
  store: 'postgres' | 'checkpoint';
  /** Acts on Kubernetes clusters: gets `KubeClusters` (field manager `stratum-<service>`) and a health check. */
  kubernetes?: boolean;
  /**
   * Serves requests from the gateway (R-AU-1): gets an `IdentityVerifier` with the gateway's public
   * keys (`STRATUM_IDENTITY_PUBLIC_KEYS`), for `IdentityGuard` from `@stratum/authz/nest`.
   */
  verifiesIdentity?: boolean;
  // eslint-disable-next-line @typescript-eslint/no-unsafe-function-type
  migrations?: Function[];
  // eslint-disable-next-line @typescript-eslint/no-unsafe-function-type
  entities?: Function[];
  /**
   * Parse JSON request bodies before the routes (default true). The gateway turns it off: it streams
   * proxied bodies to the services untouched and parses only its own routes' bodies.
   */
  bodyParser?: boolean;
  /**
   * The service runs its outbox relay itself, in a process of its own, whenever it can: when its
   * database is PostgreSQL and its bus Kafka (the distributed mode), the kit starts no relay and sets
   * `ServiceRuntime.relayDelegated`; otherwise (embedded database, in-process bus) the kit's relay runs
   * as usual. The gateway uses it to keep the audit pipeline off its request thread.
   */
  delegatesOutboxRelay?: boolean;
  /** Adds HTTP middleware after the kit's own (tracing, metrics) and before the routes; providers are available through `app.get`. */
  configureApp?: (app: INestApplication) => void;
  /** The service's own environment variables (validated at boot along with the common ones). */
  configSchema?: TOwn;
}

export function defineService<TOwn extends z.ZodObject>(
  definition: ServiceDefinition<TOwn>,
): ServiceDefinition<TOwn> {
  return definition;
}
