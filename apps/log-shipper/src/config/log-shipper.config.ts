import { z } from 'zod';

/** The log-shipper's own settings (besides the common ones in @stratum/service-kit). R-LG-4. */
export const logShipperConfigSchema = z.object({
  /** This host's identity, stamped on every record; set when the agent starts. */
  HOST_ID: z.string().min(1).default('local-host'),
  HOST_NAME: z.string().min(1).default('localhost'),
  /** Where the agent keeps how far it has read each file (its own store, instead of PostgreSQL). */
  CHECKPOINT_DIR: z.string().min(1).default('.data/log-shipper'),
});

export type LogShipperConfig = z.infer<typeof logShipperConfigSchema>;
