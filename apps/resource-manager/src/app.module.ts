import {
  type BeforeApplicationShutdown,
  Inject,
  Injectable,
  Module,
  type OnApplicationBootstrap,
} from '@nestjs/common';
import { KubeClusters } from '@stratum/kube';
import { Outbox } from '@stratum/messaging';
import { ServiceDatabase } from '@stratum/persistence';
import { faultKillHook, ServiceRuntime } from '@stratum/service-kit';
import type { ResourceManagerConfig } from './config/resource-manager.config';
import { NetworkAssignments } from './environments/network-assignments';
import { WorkloadProbe } from './environments/workload-probe';
import { OpenApiController } from './http/openapi';
import { PlatformRecordsController } from './http/platform-records.controller';
import { TenantsController } from './http/tenants.controller';
import { NetworkRegistry } from './networks/network-registry';
import { Operations } from './operations/operations';
import { LinkSync } from './reconcile/link-sync';
import { ReconcileMetrics } from './reconcile/reconcile-metrics';
import { ReconcileWorker } from './reconcile/reconcile-worker';
import { TenantReconciler } from './reconcile/tenant-reconciler';
import { NfsRegistry } from './storage/nfs-registry';
import { VolumeRegistry } from './storage/volume-registry';
import { TenantMembersConsumer } from './tenants/tenant-members.consumer';
import { TenantRegistry } from './tenants/tenant-registry';

const own = (runtime: ServiceRuntime) => runtime.config.own as unknown as ResourceManagerConfig;

/** Starts the reconciler once the application is up and stops it (and the link informers) first on shutdown. */
@Injectable()
class ReconcilerLifecycle implements OnApplicationBootstrap, BeforeApplicationShutdown {
  constructor(
    @Inject(ReconcileWorker) private readonly worker: ReconcileWorker,
    @Inject(LinkSync) private readonly links: LinkSync,
  ) {}

  onApplicationBootstrap(): void {
    this.worker.start();
  }

  async beforeApplicationShutdown(): Promise<void> {
    await this.worker.stop();
    await this.links.stop();
  }
}

/**
 * The resource-manager: networks, environments, NFS servers and volumes (R-NW, R-ST) — records and
 * assignments in PostgreSQL, converged into Kubernetes by the tenant reconciler — and the tenants'
 * Keystone members from the gateway, mirrored into each environment's RBAC (R-AU-6).
 */
@Module({
  controllers: [PlatformRecordsController, TenantsController, OpenApiController, TenantMembersConsumer],
  providers: [
    {
      provide: Operations,
      useFactory: (db: ServiceDatabase, outbox: Outbox) => new Operations(db, outbox),
      inject: [ServiceDatabase, Outbox],
    },
    {
      provide: NetworkRegistry,
      useFactory: (db: ServiceDatabase, outbox: Outbox) => new NetworkRegistry(db, outbox),
      inject: [ServiceDatabase, Outbox],
    },
    {
      provide: TenantRegistry,
      useFactory: (db: ServiceDatabase, outbox: Outbox, ops: Operations) =>
        new TenantRegistry(db, outbox, ops),
      inject: [ServiceDatabase, Outbox, Operations],
    },
    {
      provide: WorkloadProbe,
      useFactory: (kube: KubeClusters) => new WorkloadProbe(kube),
      inject: [KubeClusters],
    },
    {
      provide: NetworkAssignments,
      useFactory: (db: ServiceDatabase, ops: Operations, kube: KubeClusters, probe: WorkloadProbe) =>
        new NetworkAssignments(db, ops, kube, probe),
      inject: [ServiceDatabase, Operations, KubeClusters, WorkloadProbe],
    },
    {
      provide: NfsRegistry,
      useFactory: (db: ServiceDatabase, outbox: Outbox, ops: Operations) => new NfsRegistry(db, outbox, ops),
      inject: [ServiceDatabase, Outbox, Operations],
    },
    {
      provide: VolumeRegistry,
      useFactory: (db: ServiceDatabase, ops: Operations, probe: WorkloadProbe) =>
        new VolumeRegistry(db, ops, probe),
      inject: [ServiceDatabase, Operations, WorkloadProbe],
    },
    {
      provide: LinkSync,
      useFactory: (kube: KubeClusters, runtime: ServiceRuntime) =>
        new LinkSync(kube, runtime.log.child({ component: 'links' }), {
          syncTimeoutMs: own(runtime).READY_TIMEOUT_SECONDS * 1000,
        }),
      inject: [KubeClusters, ServiceRuntime],
    },
    {
      provide: TenantReconciler,
      useFactory: (
        db: ServiceDatabase,
        kube: KubeClusters,
        outbox: Outbox,
        ops: Operations,
        links: LinkSync,
        runtime: ServiceRuntime,
      ) => {
        const config = own(runtime);
        const log = runtime.log.child({ component: 'reconciler' });
        return new TenantReconciler(db, kube, outbox, ops, links, log, {
          registry: {
            server: config.REGISTRY_PULL_SERVER,
            username: config.REGISTRY_PULL_USERNAME,
            password: config.REGISTRY_PULL_PASSWORD,
          },
          readyTimeoutMs: config.READY_TIMEOUT_SECONDS * 1000,
          afterStep: faultKillHook(log, config.STRATUM_FAULT_KILL_AFTER_STEP),
        });
      },
      inject: [ServiceDatabase, KubeClusters, Outbox, Operations, LinkSync, ServiceRuntime],
    },
    {
      provide: ReconcileWorker,
      useFactory: (
        db: ServiceDatabase,
        reconciler: TenantReconciler,
        ops: Operations,
        runtime: ServiceRuntime,
      ) => {
        const config = own(runtime);
        return new ReconcileWorker(
          db,
          reconciler,
          ops,
          runtime.log.child({ component: 'reconcile-worker' }),
          {
            owner: config.RECONCILE_WORKER_ID,
            pollMs: config.RECONCILE_POLL_MS,
            resyncMs: config.RECONCILE_RESYNC_SECONDS * 1000,
            leaseMs: config.RECONCILE_LEASE_SECONDS * 1000,
            concurrency: config.RECONCILE_CONCURRENCY,
          },
          new ReconcileMetrics(runtime.registry),
        );
      },
      inject: [ServiceDatabase, TenantReconciler, Operations, ServiceRuntime],
    },
    ReconcilerLifecycle,
  ],
  exports: [ReconcileWorker, LinkSync],
})
export class AppModule {}
