import { defineService } from '@stratum/service-kit';
import { AppModule } from './app.module';
import { autoscalerConfigSchema } from './config/autoscaler.config';
import { autoscalerMigrations } from './persistence/migrations';

/** The autoscaler (SPEC R-ARCH-1): time-windowed autoscaling policies (R-AS). */
export const service = defineService({
  name: 'autoscaler',
  description: 'time-windowed autoscaling policies (R-AS)',
  defaultPort: 8083,
  module: AppModule,
  store: 'postgres',
  kubernetes: true,
  migrations: autoscalerMigrations,
  configSchema: autoscalerConfigSchema,
});
