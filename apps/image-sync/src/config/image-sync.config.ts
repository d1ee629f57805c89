import { z } from 'zod';

/**
 * The image-sync's own settings, besides the common ones (HTTP_PORT, KAFKA_BROKERS, DATABASE_URL, …) that
 * @stratum/service-kit validates for every service. Grows with the service's features.
 */
export const imageSyncConfigSchema = z.object({});

export type ImageSyncConfig = z.infer<typeof imageSyncConfigSchema>;
