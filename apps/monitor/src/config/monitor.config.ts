import { z } from 'zod';

/**
 * The monitor's own settings, besides the common ones (HTTP_PORT, KAFKA_BROKERS, DATABASE_URL, …) that
 * @stratum/service-kit validates for every service. Grows with the service's features.
 */
export const monitorConfigSchema = z.object({});

export type MonitorConfig = z.infer<typeof monitorConfigSchema>;
