import { defineService } from '@stratum/service-kit';
import { AppModule } from './app.module';
import { resourceManagerConfigSchema } from './config/resource-manager.config';
import { resourceManagerMigrations } from './persistence/migrations';

/** The resource-manager (SPEC R-ARCH-1): networks, environments, NFS servers and volumes (R-NW, R-ST). */
export const service = defineService({
  name: 'resource-manager',
  description: 'networks, environments, NFS servers and volumes (R-NW, R-ST)',
  defaultPort: 8081,
  module: AppModule,
  store: 'postgres',
  kubernetes: true,
  verifiesIdentity: true,
  migrations: resourceManagerMigrations,
  configSchema: resourceManagerConfigSchema,
});
