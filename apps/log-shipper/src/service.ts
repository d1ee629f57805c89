import { defineService } from '@stratum/service-kit';
import { AppModule } from './app.module';
import { logShipperConfigSchema } from './config/log-shipper.config';

/** The log-shipper (SPEC R-ARCH-1): per-host agent collecting host, container and application logs into Kafka (R-LG). */
export const service = defineService({
  name: 'log-shipper',
  description: 'per-host agent collecting host, container and application logs into Kafka (R-LG)',
  defaultPort: 8084,
  module: AppModule,
  store: 'checkpoint',
  kubernetes: true,
  configSchema: logShipperConfigSchema,
});
