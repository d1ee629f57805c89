import {
  type MessageBus,
  type Outbox,
  type OutboxRelay,
  type BusMetrics,
  type EventConsumer,
  outboxLag,
} from '@stratum/messaging';
import type { IdentityVerifier } from '@stratum/authz/nest';
import type { KubeClusters } from '@stratum/kube';
import type { ServiceDatabase } from '@stratum/persistence';
import type { HttpMetrics, Log } from '@stratum/telemetry';
import type { Registry } from 'prom-client';
import type { KeyObject } from 'node:crypto';
import type { ServiceConfig } from './config/service-config';
import type { HealthRegistry } from './health/health-registry';

/** Everything a running service holds besides its Nest application. Injectable by class. */
export class ServiceRuntime {
  consumer: EventConsumer | undefined;

  constructor(
    readonly name: string,
    readonly config: ServiceConfig<Record<string, unknown>>,
    readonly log: Log,
    readonly registry: Registry,
    readonly httpMetrics: HttpMetrics,
    readonly busMetrics: BusMetrics,
    readonly bus: MessageBus,
    readonly outbox: Outbox,
    readonly health: HealthRegistry,
    readonly database: ServiceDatabase | undefined,
    readonly relay: OutboxRelay | undefined,
    /** The Kubernetes clusters, for services that act on them. */
    readonly kube?: KubeClusters,
    /** Verifies the identity the gateway signs, for services that declare `verifiesIdentity`. */
    readonly identity?: IdentityVerifier,
    /** The gateway's identity signing key when the process shares it (all-in-one mode, tests). */
    readonly identitySigningKey?: KeyObject,
    /**
     * The service relays its outbox itself, from another process (`ServiceDefinition.delegatesOutboxRelay`,
     * distributed mode): `relay` is undefined and the service must start its own.
     */
    readonly relayDelegated = false,
  ) {}

  /** Refreshes gauges that are computed on demand (outbox lag) before a scrape. */
  async refreshGauges(): Promise<void> {
    // Every service with a database has an outbox, relayed here or (relayDelegated) elsewhere.
    if (!this.database) return;
    const lag = await outboxLag(this.database);
    this.busMetrics.outboxPending.set({ service: this.name }, lag.pending);
    this.busMetrics.outboxOldestPendingSeconds.set({ service: this.name }, lag.oldestPendingSeconds);
  }
}
