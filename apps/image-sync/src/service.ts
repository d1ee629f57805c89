import { defineService } from '@stratum/service-kit';
import { AppModule } from './app.module';
import { imageSyncConfigSchema } from './config/image-sync.config';
import { imageSyncMigrations } from './persistence/migrations';

/** The image-sync (SPEC R-ARCH-1): test → production registry sync and image states (R-IM). */
export const service = defineService({
  name: 'image-sync',
  description: 'test → production registry sync and image states (R-IM)',
  defaultPort: 8086,
  module: AppModule,
  store: 'postgres',
  migrations: imageSyncMigrations,
  configSchema: imageSyncConfigSchema,
});
