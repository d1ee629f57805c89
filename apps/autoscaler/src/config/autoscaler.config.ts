import { z } from 'zod';

/**
 * The autoscaler's own settings, besides the common ones (HTTP_PORT, KAFKA_BROKERS, DATABASE_URL, …) that
 * @stratum/service-kit validates for every service. Grows with the service's features.
 */
export const autoscalerConfigSchema = z.object({});

export type AutoscalerConfig = z.infer<typeof autoscalerConfigSchema>;
