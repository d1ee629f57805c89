import { Module } from '@nestjs/common';
import { ServiceDatabase } from '@stratum/persistence';
import { DeployModule } from './deploy/deploy.module';
import { TenantView } from './tenant-view/tenant-view';
import { TenantViewConsumer } from './tenant-view/tenant-view.consumer';

/**
 * The orchestrator: TOSCA translator and dependency-ordered stack deployment (R-OR). So far its view
 * of each tenant's resources, built from the resource-manager's events (R-OR-3), and the durable,
 * dependency-ordered deployment engine with revisions and rollback (deploy/).
 */
@Module({
  imports: [DeployModule],
  controllers: [TenantViewConsumer],
  providers: [
    {
      provide: TenantView,
      useFactory: (db: ServiceDatabase) => new TenantView(db),
      inject: [ServiceDatabase],
    },
  ],
  exports: [TenantView],
})
export class AppModule {}
