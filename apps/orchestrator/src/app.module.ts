import { Module } from '@nestjs/common';
import { ServiceDatabase } from '@stratum/persistence';
import { DeployModule } from './deploy/deploy.module';
import { DeploymentWorker } from './deploy/deployment-worker';
import { StackStore } from './deploy/stack-store';
import { OpenApiController } from './http/openapi';
import { StackSubmissions } from './http/stack-submissions';
import { StacksController } from './http/stacks.controller';
import { TenantView } from './tenant-view/tenant-view';
import { TenantViewConsumer } from './tenant-view/tenant-view.consumer';

/**
 * The orchestrator (R-OR): its view of each tenant's resources from the resource-manager's events
 * (R-OR-3); the stack API, where a TOSCA template is validated, checked against that view and
 * translated into one unit per microservice; and the durable, dependency-ordered deployment engine
 * with revisions and rollback (deploy/).
 */
@Module({
  imports: [DeployModule],
  controllers: [TenantViewConsumer, StacksController, OpenApiController],
  providers: [
    {
      provide: TenantView,
      useFactory: (db: ServiceDatabase) => new TenantView(db),
      inject: [ServiceDatabase],
    },
    {
      provide: StackSubmissions,
      useFactory: (view: TenantView, store: StackStore, worker: DeploymentWorker) =>
        new StackSubmissions(view, store, worker),
      inject: [TenantView, StackStore, DeploymentWorker],
    },
  ],
  exports: [TenantView],
})
export class AppModule {}
