import { defineService } from '@stratum/service-kit';
import { AppModule } from './app.module';
import { orchestratorConfigSchema } from './config/orchestrator.config';
import { orchestratorMigrations } from './persistence/migrations';

/** The orchestrator (SPEC R-ARCH-1): TOSCA translator and dependency-ordered stack deployment (R-OR). */
export const service = defineService({
  name: 'orchestrator',
  description: 'TOSCA translator and dependency-ordered stack deployment (R-OR)',
  defaultPort: 8082,
  module: AppModule,
  store: 'postgres',
  kubernetes: true,
  verifiesIdentity: true,
  migrations: orchestratorMigrations,
  configSchema: orchestratorConfigSchema,
});
