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
import { deployConfigSchema } from './deploy.config';
import { Deployer } from './deployer';
import { DeploymentJournal } from './deployment-journal';
import { DeploymentWorker } from './deployment-worker';
import { StackStore } from './stack-store';

const config = (runtime: ServiceRuntime) => deployConfigSchema.parse(runtime.config.own);

/** Starts the deployment worker once the application is up (it resumes open deployments) and stops it first. */
@Injectable()
class DeploymentLifecycle implements OnApplicationBootstrap, BeforeApplicationShutdown {
  constructor(@Inject(DeploymentWorker) private readonly worker: DeploymentWorker) {}

  onApplicationBootstrap(): void {
    this.worker.start();
  }

  async beforeApplicationShutdown(): Promise<void> {
    await this.worker.stop();
  }
}

/** The stack deployment engine (issue #5 §4–6): stores revisions and deploys them in dependency order. */
@Module({
  providers: [
    {
      provide: StackStore,
      useFactory: (db: ServiceDatabase, outbox: Outbox) => new StackStore(db, outbox),
      inject: [ServiceDatabase, Outbox],
    },
    {
      provide: DeploymentJournal,
      useFactory: (db: ServiceDatabase, outbox: Outbox) => new DeploymentJournal(db, outbox),
      inject: [ServiceDatabase, Outbox],
    },
    {
      provide: Deployer,
      useFactory: (kube: KubeClusters, journal: DeploymentJournal, runtime: ServiceRuntime) => {
        const own = config(runtime);
        const log = runtime.log.child({ component: 'deployer' });
        return new Deployer(kube, journal, log, {
          unitReadyTimeoutMs: own.DEPLOY_UNIT_READY_TIMEOUT_SECONDS * 1000,
          unitGoneTimeoutMs: own.DEPLOY_UNIT_GONE_TIMEOUT_SECONDS * 1000,
          afterStep: faultKillHook(log, own.STRATUM_FAULT_KILL_AFTER_STEP),
        });
      },
      inject: [KubeClusters, DeploymentJournal, ServiceRuntime],
    },
    {
      provide: DeploymentWorker,
      useFactory: (
        db: ServiceDatabase,
        journal: DeploymentJournal,
        deployer: Deployer,
        runtime: ServiceRuntime,
      ) => {
        const own = config(runtime);
        return new DeploymentWorker(
          db,
          journal,
          deployer,
          runtime.log.child({ component: 'deployment-worker' }),
          {
            owner: own.DEPLOY_WORKER_ID,
            pollMs: own.DEPLOY_POLL_MS,
            leaseMs: own.DEPLOY_LEASE_SECONDS * 1000,
            concurrency: own.DEPLOY_CONCURRENCY,
          },
        );
      },
      inject: [ServiceDatabase, DeploymentJournal, Deployer, ServiceRuntime],
    },
    DeploymentLifecycle,
  ],
  exports: [StackStore, DeploymentWorker],
})
export class DeployModule {}
