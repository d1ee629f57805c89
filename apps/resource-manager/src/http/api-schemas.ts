/**
 * Request bodies of the resource-manager's API, as zod schemas: the same schema validates the body
 * and is rendered into the OpenAPI document (openapi.ts), so the two cannot disagree.
 */
import { z } from 'zod';
import { NfsServerInputSchema } from '../storage/nfs-registry';
import { VolumeInputSchema, VolumeResizeSchema } from '../storage/volume-registry';
import { TenantSettingsSchema } from '../tenants/tenant-registry';

export const NetworkInputSchema = z.object({
  name: z
    .string()
    .min(1)
    .max(30)
    .regex(/^[a-z]([-a-z0-9]*[a-z0-9])?$/, 'must start with a letter and hold only a-z, 0-9 and "-"'),
  /** Subnet and mask, e.g. 10.20.0.0/24 (flat network, R-NW-1). */
  cidr: z.string().min(1),
  gateway: z.string().min(1),
  vlan: z.number().int().min(1).max(4094).optional(),
  parentInterface: z
    .string()
    .regex(/^[A-Za-z0-9_.-]{1,15}$/, 'must be a host interface name (at most 15 of A-Z a-z 0-9 _ . -)')
    .optional(),
  securityDomain: z.string().min(1).max(63),
  isolationDomain: z.string().min(1).max(63),
  clusterId: z.string().min(1),
  description: z.string().max(500).optional(),
});

export const NetworkUpdateSchema = NetworkInputSchema.extend({
  /** The version read before changing; a stale one gets 409 instead of overwriting someone's change. */
  version: z.number().int().positive().optional(),
});

export { NfsServerInputSchema, TenantSettingsSchema, VolumeInputSchema, VolumeResizeSchema };
