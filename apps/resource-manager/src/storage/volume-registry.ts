/**
 * Tenant-wide volumes (R-ST-3, R-ST-4): one export sub-directory on an NFS server the tenant owns,
 * claimed under the same name in every environment of the tenant. Creating, resizing and deleting are
 * desired state plus an operation; the reconciler makes the PersistentVolumes and claims.
 */
import { randomUUID } from 'node:crypto';
import type { ServiceDatabase } from '@stratum/persistence';
import type { EntityManager } from 'typeorm';
import { z } from 'zod';
import { conflict, notFound, uniqueOrConflict, validationFailed } from '../common/problems';
import { environmentsOf } from '../environments/network-assignments';
import type { WorkloadProbe } from '../environments/workload-probe';
import type { Operation, Operations } from '../operations/operations';
import { bumpGeneration, findTenant, type Tenant, UNKNOWN_TENANT_HINT } from '../tenants/tenant-registry';
import { volumeClaimName, volumeExportSubPath } from './nfs-manifests';

export const VolumeInputSchema = z.object({
  name: z
    .string()
    .min(1)
    .max(40)
    .regex(/^[a-z]([-a-z0-9]*[a-z0-9])?$/, 'must start with a letter and hold only a-z, 0-9 and "-"'),
  nfsServerId: z.string().min(1),
  sizeBytes: z.number().int().positive(),
});
export type VolumeInput = z.infer<typeof VolumeInputSchema>;

export const VolumeResizeSchema = z.object({ sizeBytes: z.number().int().positive() });

export type VolumeState = 'creating' | 'resizing' | 'ready' | 'deleting';

export interface Volume extends VolumeInput {
  id: string;
  tenantId: string;
  exportSubPath: string;
  claimName: string;
  state: VolumeState;
  version: number;
}

interface VolumeRow {
  id: string;
  tenant_id: string;
  name: string;
  nfs_server_id: string;
  size_bytes: string;
  export_sub_path: string;
  claim_name: string;
  state: VolumeState;
  version: number;
}

function fromRow(row: VolumeRow): Volume {
  return {
    id: row.id,
    tenantId: row.tenant_id,
    name: row.name,
    nfsServerId: row.nfs_server_id,
    sizeBytes: Number(row.size_bytes),
    exportSubPath: row.export_sub_path,
    claimName: row.claim_name,
    state: row.state,
    version: row.version,
  };
}

export async function volumesOf(manager: EntityManager, tenantId: string): Promise<Volume[]> {
  const rows = await manager.query<VolumeRow[]>('SELECT * FROM volume WHERE tenant_id = $1 ORDER BY name', [
    tenantId,
  ]);
  return rows.map(fromRow);
}

const NO_VOLUME_HINT = "List the tenant's volumes to find its id.";

export class VolumeRegistry {
  constructor(
    private readonly database: ServiceDatabase,
    private readonly operations: Operations,
    private readonly probe: WorkloadProbe,
  ) {}

  async list(tenantId: string): Promise<Volume[]> {
    await this.requireTenant(this.database.dataSource.manager, tenantId);
    return volumesOf(this.database.dataSource.manager, tenantId);
  }

  async get(tenantId: string, volumeId: string): Promise<Volume> {
    return this.find(this.database.dataSource.manager, tenantId, volumeId);
  }

  async create(
    tenantId: string,
    input: VolumeInput,
    requestedBy: string,
  ): Promise<{ volume: Volume; operation: Operation }> {
    return this.database.transaction(async (manager) => {
      const tenant = await this.requireTenant(manager, tenantId);
      await this.reserve(manager, tenantId, input.nfsServerId, input.sizeBytes, 0);
      const id = randomUUID();
      await uniqueOrConflict(
        manager,
        () =>
          manager.query(
            `INSERT INTO volume (id, tenant_id, name, nfs_server_id, size_bytes, export_sub_path, claim_name, state)
             VALUES ($1, $2, $3, $4, $5, $6, $7, 'creating')`,
            [
              id,
              tenantId,
              input.name,
              input.nfsServerId,
              input.sizeBytes,
              volumeExportSubPath(tenant, { id, name: input.name }),
              volumeClaimName({ name: input.name }),
            ],
          ),
        'name',
        `the tenant already has a volume named "${input.name}"`,
        'Choose another name.',
      );
      return this.accepted(manager, tenantId, id, 'volume.create', requestedBy);
    });
  }

  /** Volumes grow only: shrinking an NFS directory under its data is not something the platform can check. */
  async resize(tenantId: string, volumeId: string, sizeBytes: number, requestedBy: string) {
    return this.database.transaction(async (manager) => {
      await this.requireTenant(manager, tenantId);
      const volume = await this.find(manager, tenantId, volumeId, true);
      this.refuseWhileDeleting(volume);
      if (sizeBytes < volume.sizeBytes) {
        throw validationFailed([
          { field: 'sizeBytes', message: `volumes only grow; it is ${volume.sizeBytes} bytes now` },
        ]);
      }
      await this.reserve(manager, tenantId, volume.nfsServerId, sizeBytes, volume.sizeBytes);
      await manager.query(
        `UPDATE volume SET size_bytes = $2, state = 'resizing', version = version + 1, updated_at = now() WHERE id = $1`,
        [volumeId, sizeBytes],
      );
      return this.accepted(manager, tenantId, volumeId, 'volume.resize', requestedBy);
    });
  }

  /** Refused while a workload in any environment of the tenant mounts the claim. */
  async delete(tenantId: string, volumeId: string, requestedBy: string) {
    const manager = this.database.dataSource.manager;
    await this.requireTenant(manager, tenantId);
    const volume = await this.find(manager, tenantId, volumeId);
    const users: string[] = [];
    for (const environment of await environmentsOf(manager, tenantId)) {
      const found = await this.probe.claimUsers(
        environment.clusterId,
        environment.namespace,
        volume.claimName,
      );
      users.push(...found.map((user) => `${environment.namespace}/${user}`));
    }
    if (users.length) {
      throw conflict(
        'volumeId',
        `volume "${volume.name}" is mounted by ${users.slice(0, 10).join(', ')}${users.length > 10 ? ', …' : ''}`,
        'Remove the volume from those workloads (a new template for their stacks) and delete it again.',
      );
    }
    return this.database.transaction(async (tx) => {
      await this.find(tx, tenantId, volumeId, true);
      await tx.query(`UPDATE volume SET state = 'deleting', updated_at = now() WHERE id = $1`, [volumeId]);
      return this.accepted(tx, tenantId, volumeId, 'volume.delete', requestedBy);
    });
  }

  private async accepted(
    manager: EntityManager,
    tenantId: string,
    volumeId: string,
    kind: 'volume.create' | 'volume.resize' | 'volume.delete',
    requestedBy: string,
  ): Promise<{ volume: Volume; operation: Operation }> {
    const generation = await bumpGeneration(manager, tenantId);
    const operation = await this.operations.accept(manager, {
      tenantId,
      kind,
      targetId: volumeId,
      requestedBy,
      tenantGeneration: generation,
    });
    return { volume: await this.find(manager, tenantId, volumeId), operation };
  }

  /** The tenant must own the server, and the server must have room (capacity across all tenants). */
  private async reserve(
    manager: EntityManager,
    tenantId: string,
    nfsServerId: string,
    size: number,
    current: number,
  ) {
    const owned = await manager.query<Array<{ state: string }>>(
      'SELECT state FROM nfs_assignment WHERE nfs_server_id = $1 AND tenant_id = $2',
      [nfsServerId, tenantId],
    );
    if (!owned[0] || owned[0].state === 'removing') {
      throw validationFailed([
        {
          field: 'nfsServerId',
          message: `the tenant owns no NFS server with id ${nfsServerId}`,
        },
      ]);
    }
    const rows = await manager.query<Array<{ capacity_bytes: string; allocated: string }>>(
      `SELECT s.capacity_bytes, (SELECT COALESCE(sum(size_bytes), 0) FROM volume WHERE nfs_server_id = s.id) AS allocated
       FROM nfs_server s WHERE s.id = $1 FOR UPDATE`,
      [nfsServerId],
    );
    const free = Number(rows[0].capacity_bytes) - Number(rows[0].allocated) + current;
    if (size > free) {
      throw conflict(
        'sizeBytes',
        `the NFS server has ${free} bytes left for this volume, ${size} were asked`,
        'Choose a smaller size or another NFS server of the tenant.',
      );
    }
  }

  private refuseWhileDeleting(volume: Volume) {
    if (volume.state === 'deleting') {
      throw conflict('volumeId', `volume "${volume.name}" is being deleted`, 'Create a new volume instead.');
    }
  }

  private async find(
    manager: EntityManager,
    tenantId: string,
    volumeId: string,
    forUpdate = false,
  ): Promise<Volume> {
    const rows = await manager.query<VolumeRow[]>(
      `SELECT * FROM volume WHERE id = $1 AND tenant_id = $2${forUpdate ? ' FOR UPDATE' : ''}`,
      [volumeId, tenantId],
    );
    if (!rows[0]) throw notFound('volume', volumeId, 'volumeId', NO_VOLUME_HINT);
    return fromRow(rows[0]);
  }

  private async requireTenant(manager: EntityManager, tenantId: string): Promise<Tenant> {
    const tenant = await findTenant(manager, tenantId);
    if (!tenant) throw notFound('tenant', tenantId, 'tenantId', UNKNOWN_TENANT_HINT);
    return tenant;
  }
}
