import { z } from 'zod';
import { deployConfigSchema } from '../deploy/deploy.config';

/**
 * The orchestrator's own settings, besides the common ones (HTTP_PORT, KAFKA_BROKERS, DATABASE_URL, …) that
 * @stratum/service-kit validates for every service. Grows with the service's features.
 */
export const orchestratorConfigSchema = z.object({}).extend(deployConfigSchema.shape);

export type OrchestratorConfig = z.infer<typeof orchestratorConfigSchema>;
