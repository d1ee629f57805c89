import { defineService } from '@stratum/service-kit';
import { AppModule } from './app.module';
import { monitorConfigSchema } from './config/monitor.config';
import { monitorMigrations } from './persistence/migrations';

/** The monitor (SPEC R-ARCH-1): metrics, alert rules, event audit and syslog alerts to a message queue (R-MO). */
export const service = defineService({
  name: 'monitor',
  description: 'metrics, alert rules, event audit and syslog alerts to a message queue (R-MO)',
  defaultPort: 8085,
  module: AppModule,
  store: 'postgres',
  kubernetes: true,
  migrations: monitorMigrations,
  configSchema: monitorConfigSchema,
});
