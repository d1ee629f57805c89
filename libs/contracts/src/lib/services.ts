/** The seven Stratum services (SPEC R-ARCH-1). */
export const SERVICE_NAMES = [
  'gateway',
  'resource-manager',
  'orchestrator',
  'autoscaler',
  'log-shipper',
  'monitor',
  'image-sync',
] as const;

export type ServiceName = (typeof SERVICE_NAMES)[number];

/** Consumers outside the platform that read a topic (SPEC R-ARCH-3, R-LG-5). */
export type ExternalConsumer = `external:${string}`;
