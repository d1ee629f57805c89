import { z } from 'zod';

/**
 * The resource-manager's own settings, besides the common ones (HTTP_PORT, KAFKA_BROKERS, DATABASE_URL, …) that
 * @stratum/service-kit validates for every service. Grows with the service's features.
 */
export const resourceManagerConfigSchema = z.object({});

export type ResourceManagerConfig = z.infer<typeof resourceManagerConfigSchema>;
