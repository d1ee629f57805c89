import { z } from 'zod';

/**
 * The gateway's own settings, besides the common ones (HTTP_PORT, KAFKA_BROKERS, DATABASE_URL, …) that
 * @stratum/service-kit validates for every service. Grows with the service's features.
 */
export const gatewayConfigSchema = z.object({});

export type GatewayConfig = z.infer<typeof gatewayConfigSchema>;
