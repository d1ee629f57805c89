import { z } from 'zod';

/**
 * The orchestrator's own settings, besides the common ones (HTTP_PORT, KAFKA_BROKERS, DATABASE_URL, …) that
 * @stratum/service-kit validates for every service. Grows with the service's features.
 */
export const orchestratorConfigSchema = z.object({});

export type OrchestratorConfig = z.infer<typeof orchestratorConfigSchema>;
