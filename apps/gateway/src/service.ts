import { defineService } from '@stratum/service-kit';
import { AppModule } from './app.module';
import { gatewayConfigSchema } from './config/gateway.config';
import { gatewayMigrations } from './persistence/migrations';

/** The gateway (SPEC R-ARCH-1): authenticates every request against Keystone, authorizes it and proxies it (R-AU-1..6). */
export const service = defineService({
  name: 'gateway',
  description: 'authenticates every request against Keystone, authorizes it and proxies it (R-AU-1..6)',
  defaultPort: 8080,
  module: AppModule,
  store: 'postgres',
  migrations: gatewayMigrations,
  configSchema: gatewayConfigSchema,
});
