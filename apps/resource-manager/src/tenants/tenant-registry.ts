/**
 * Tenants as the platform knows them (R-AU-2): a Keystone project id with the settings the platform
 * needs to build its environments — a DNS-safe name for namespaces, the resource quota and container
 * defaults (R-NW-3), the Keystone groups mirrored into RBAC. Keystone stays the source of users,
 * projects and role assignments; a platform admin registers a project here before giving it resources,
 * and a project that was never registered is an "unknown tenant" to every other call.
 *
 * Every change of a tenant's desired state bumps its `generation` inside the same transaction; the
 * reconciler converges the tenant to it (see reconcile/).
 */
import type { Outbox } from '@stratum/messaging';
import type { ServiceDatabase } from '@stratum/persistence';
import type { EntityManager } from 'typeorm';
import { z } from 'zod';
import { conflict, notFound, uniqueOrConflict } from '../common/problems';
import type { Operation, Operations } from '../operations/operations';
import { returning } from '../common/sql';

const quantity = z
  .string()
  .regex(/^\d+(\.\d+)?(m|k|Ki|Mi|Gi|Ti|M|G|T)?$/, 'must be a Kubernetes quantity such as 500m, 4, 8Gi');

export const TenantSettingsSchema = z.object({
  /** Used in namespace names (`<tenant>-<network>`): lower-case letters, digits and "-", at most 30. */
  name: z
    .string()
    .min(1)
    .max(30)
    .regex(/^[a-z]([-a-z0-9]*[a-z0-9])?$/, 'must start with a letter and hold only a-z, 0-9 and "-"'),
  quota: z.object({
    cpu: quantity,
    memory: quantity,
    pods: z.number().int().positive(),
    storage: quantity.optional(),
  }),
  containerDefaults: z
    .object({
      cpuRequest: quantity,
      memoryRequest: quantity,
      cpuLimit: quantity,
      memoryLimit: quantity,
    })
    .default({ cpuRequest: '100m', memoryRequest: '128Mi', cpuLimit: '1', memoryLimit: '1Gi' }),
  developerGroups: z.array(z.string().min(1)).default([]),
  viewerGroups: z.array(z.string().min(1)).default([]),
});
export type TenantSettings = z.infer<typeof TenantSettingsSchema>;

export interface Tenant extends TenantSettings {
  id: string;
  version: number;
  generation: number;
  reconciledGeneration: number;
  lastError?: string;
  lastReconciledAt?: string;
}

interface TenantRow {
  id: string;
  name: string;
  quota: TenantSettings['quota'];
  container_defaults: TenantSettings['containerDefaults'];
  developer_groups: string[];
  viewer_groups: string[];
  version: number;
  generation: string;
  reconciled_generation: string;
  last_error: string | null;
  last_reconciled_at: Date | null;
}

function fromRow(row: TenantRow): Tenant {
  return {
    id: row.id,
    name: row.name,
    quota: row.quota,
    containerDefaults: row.container_defaults,
    developerGroups: row.developer_groups,
    viewerGroups: row.viewer_groups,
    version: row.version,
    generation: Number(row.generation),
    reconciledGeneration: Number(row.reconciled_generation),
    ...(row.last_error !== null ? { lastError: row.last_error } : {}),
    ...(row.last_reconciled_at !== null
      ? { lastReconciledAt: new Date(row.last_reconciled_at).toISOString() }
      : {}),
  };
}

export const UNKNOWN_TENANT_HINT =
  'A platform admin registers the Keystone project first: PUT /api/v1/tenants/{tenantId}.';

/** Next desired-state generation of the tenant; locks its row until the transaction ends. */
export async function bumpGeneration(manager: EntityManager, tenantId: string): Promise<number> {
  const rows = await returning<{ generation: string }>(
    manager,
    'UPDATE tenant SET generation = generation + 1 WHERE id = $1 RETURNING generation',
    [tenantId],
  );
  if (!rows[0]) throw notFound('tenant', tenantId, 'tenantId', UNKNOWN_TENANT_HINT);
  return Number(rows[0].generation);
}

export async function findTenant(manager: EntityManager, id: string): Promise<Tenant | undefined> {
  const rows = await manager.query<TenantRow[]>('SELECT * FROM tenant WHERE id = $1', [id]);
  return rows[0] ? fromRow(rows[0]) : undefined;
}

export class TenantRegistry {
  constructor(
    private readonly database: ServiceDatabase,
    readonly outbox: Outbox,
    private readonly operations: Operations,
  ) {}

  async list(): Promise<Tenant[]> {
    const rows = await this.database.dataSource.query<TenantRow[]>('SELECT * FROM tenant ORDER BY name');
    return rows.map(fromRow);
  }

  async get(id: string): Promise<Tenant> {
    const tenant = await findTenant(this.database.dataSource.manager, id);
    if (!tenant) throw notFound('tenant', id, 'tenantId', UNKNOWN_TENANT_HINT);
    return tenant;
  }

  /** Registers the project or replaces its settings; the environments follow through an operation. */
  async put(
    id: string,
    settings: TenantSettings,
    requestedBy: string,
  ): Promise<{ tenant: Tenant; operation: Operation; created: boolean }> {
    return this.database.transaction(async (manager) => {
      const existing = await findTenant(manager, id);
      await uniqueOrConflict(
        manager,
        () =>
          existing
            ? manager.query(
                `UPDATE tenant SET name = $2, quota = $3, container_defaults = $4, developer_groups = $5, viewer_groups = $6,
                 version = version + 1, updated_at = now() WHERE id = $1`,
                this.values(id, settings),
              )
            : manager.query(
                `INSERT INTO tenant (id, name, quota, container_defaults, developer_groups, viewer_groups)
                 VALUES ($1, $2, $3, $4, $5, $6)`,
                this.values(id, settings),
              ),
        'name',
        `a tenant named "${settings.name}" already exists`,
        'Tenant names are unique; choose another.',
      );
      if (existing && existing.name !== settings.name) {
        const environments = await manager.query<unknown[]>(
          'SELECT 1 FROM environment WHERE tenant_id = $1',
          [id],
        );
        if (environments.length) {
          throw conflict(
            'name',
            'the name of a tenant with environments cannot change (its namespaces are named after it)',
            'Keep the current name, or unassign its networks first.',
          );
        }
      }
      const generation = await bumpGeneration(manager, id);
      const operation = await this.operations.accept(manager, {
        tenantId: id,
        kind: existing ? 'tenant.update' : 'tenant.register',
        targetId: id,
        requestedBy,
        tenantGeneration: generation,
      });
      return { tenant: (await findTenant(manager, id))!, operation, created: !existing };
    });
  }

  private values(id: string, settings: TenantSettings): unknown[] {
    return [
      id,
      settings.name,
      JSON.stringify(settings.quota),
      JSON.stringify(settings.containerDefaults),
      settings.developerGroups,
      settings.viewerGroups,
    ];
  }
}
