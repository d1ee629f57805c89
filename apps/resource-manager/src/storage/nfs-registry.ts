/**
 * NFS servers (R-ST-1, R-ST-4): a platform admin records them — address, export path, tier, capacity —
 * and assigns them to tenants (R-ST-2). Records are synchronous; an assignment is desired state that
 * the reconciler installs in every environment of the tenant (a StorageClass per tenant and server),
 * including environments created later.
 */
import { randomUUID } from 'node:crypto';
import { NfsServerRecorded } from '@stratum/contracts';
import type { Outbox } from '@stratum/messaging';
import type { ServiceDatabase } from '@stratum/persistence';
import type { EntityManager } from 'typeorm';
import { z } from 'zod';
import { conflict, notFound, uniqueOrConflict } from '../common/problems';
import type { Operation, Operations } from '../operations/operations';
import { bumpGeneration, findTenant, UNKNOWN_TENANT_HINT } from '../tenants/tenant-registry';
import { storageClassName } from './nfs-manifests';

export const NfsServerInputSchema = z.object({
  name: z
    .string()
    .min(1)
    .max(30)
    .regex(/^[a-z]([-a-z0-9]*[a-z0-9])?$/, 'must start with a letter and hold only a-z, 0-9 and "-"'),
  /** Host name or IP address. */
  address: z
    .string()
    .min(1)
    .regex(/^[A-Za-z0-9.:-]+$/, 'must be a host name or an IP address'),
  exportPath: z
    .string()
    .startsWith('/', 'must be an absolute path')
    .regex(/^\/[^\s#]*$/, 'must not contain spaces or "#"'),
  tier: z.enum(['gold', 'silver', 'bronze']),
  capacityBytes: z.number().int().positive(),
  description: z.string().max(500).optional(),
});
export type NfsServerInput = z.infer<typeof NfsServerInputSchema>;

export interface NfsServer extends NfsServerInput {
  id: string;
  version: number;
  /** Sum of the volumes carved from it, across tenants. */
  allocatedBytes: number;
  assignedTo: string[];
}

interface NfsServerRow {
  id: string;
  name: string;
  address: string;
  export_path: string;
  tier: NfsServerInput['tier'];
  capacity_bytes: string;
  description: string | null;
  version: number;
  allocated_bytes: string;
  assigned_to: string[];
}

const SELECT = `SELECT s.*,
    (SELECT COALESCE(sum(v.size_bytes), 0) FROM volume v WHERE v.nfs_server_id = s.id) AS allocated_bytes,
    (SELECT COALESCE(array_agg(a.tenant_id ORDER BY a.tenant_id), '{}') FROM nfs_assignment a WHERE a.nfs_server_id = s.id) AS assigned_to
  FROM nfs_server s`;

function fromRow(row: NfsServerRow): NfsServer {
  return {
    id: row.id,
    name: row.name,
    address: row.address,
    exportPath: row.export_path,
    tier: row.tier,
    capacityBytes: Number(row.capacity_bytes),
    ...(row.description !== null ? { description: row.description } : {}),
    version: row.version,
    allocatedBytes: Number(row.allocated_bytes),
    assignedTo: row.assigned_to,
  };
}

export async function findNfsServer(manager: EntityManager, id: string): Promise<NfsServer | undefined> {
  const rows = await manager.query<NfsServerRow[]>(`${SELECT} WHERE s.id = $1`, [id]);
  return rows[0] ? fromRow(rows[0]) : undefined;
}

export interface NfsAssignment {
  nfsServerId: string;
  tenantId: string;
  storageClassName: string;
  state: 'installing' | 'ready' | 'removing';
  server: NfsServer;
}

const NO_SERVER_HINT = 'List the NFS servers to find its id.';

export class NfsRegistry {
  constructor(
    private readonly database: ServiceDatabase,
    private readonly outbox: Outbox,
    private readonly operations: Operations,
  ) {}

  async list(): Promise<NfsServer[]> {
    const rows = await this.database.dataSource.query<NfsServerRow[]>(`${SELECT} ORDER BY s.name`);
    return rows.map(fromRow);
  }

  async get(id: string): Promise<NfsServer> {
    const server = await findNfsServer(this.database.dataSource.manager, id);
    if (!server) throw notFound('NFS server', id, 'nfsServerId', NO_SERVER_HINT);
    return server;
  }

  async create(input: NfsServerInput): Promise<NfsServer> {
    const id = randomUUID();
    return this.database.transaction(async (manager) => {
      await this.write(manager, input, () =>
        manager.query(
          `INSERT INTO nfs_server (id, name, address, export_path, tier, capacity_bytes, description)
           VALUES ($1, $2, $3, $4, $5, $6, $7)`,
          this.values(id, input),
        ),
      );
      const server = (await findNfsServer(manager, id))!;
      await this.announce(manager, server, 'created');
      return server;
    });
  }

  /** Address and export path are fixed while assigned (claims point at them); tier and capacity may change. */
  async update(id: string, input: NfsServerInput): Promise<NfsServer> {
    return this.database.transaction(async (manager) => {
      await manager.query('SELECT 1 FROM nfs_server WHERE id = $1 FOR UPDATE', [id]);
      const existing = await findNfsServer(manager, id);
      if (!existing) throw notFound('NFS server', id, 'nfsServerId', NO_SERVER_HINT);
      if (existing.assignedTo.length) {
        for (const field of ['address', 'exportPath'] as const) {
          if (existing[field] !== input[field]) {
            throw conflict(
              field,
              `cannot change while the server is assigned to ${existing.assignedTo.join(', ')}`,
              'Unassign the server from its tenants first.',
            );
          }
        }
      }
      if (input.capacityBytes < existing.allocatedBytes) {
        throw conflict(
          'capacityBytes',
          `is below the ${existing.allocatedBytes} bytes already allocated to volumes`,
          'Delete or shrink volumes first, or keep a larger capacity.',
        );
      }
      await this.write(manager, input, () =>
        manager.query(
          `UPDATE nfs_server SET name = $2, address = $3, export_path = $4, tier = $5, capacity_bytes = $6, description = $7,
           version = version + 1, updated_at = now() WHERE id = $1`,
          this.values(id, input),
        ),
      );
      const server = (await findNfsServer(manager, id))!;
      await this.announce(manager, server, 'updated');
      return server;
    });
  }

  async delete(id: string): Promise<void> {
    await this.database.transaction(async (manager) => {
      await manager.query('SELECT 1 FROM nfs_server WHERE id = $1 FOR UPDATE', [id]);
      const existing = await findNfsServer(manager, id);
      if (!existing) throw notFound('NFS server', id, 'nfsServerId', NO_SERVER_HINT);
      if (existing.assignedTo.length) {
        throw conflict(
          'nfsServerId',
          `NFS server "${existing.name}" is assigned to ${existing.assignedTo.join(', ')}`,
          'Unassign it from its tenants before deleting it.',
        );
      }
      await manager.query('DELETE FROM nfs_server WHERE id = $1', [id]);
    });
  }

  async assignments(tenantId: string): Promise<NfsAssignment[]> {
    const manager = this.database.dataSource.manager;
    if (!(await findTenant(manager, tenantId))) {
      throw notFound('tenant', tenantId, 'tenantId', UNKNOWN_TENANT_HINT);
    }
    return nfsAssignmentsOf(manager, tenantId);
  }

  async assign(
    tenantId: string,
    nfsServerId: string,
    requestedBy: string,
  ): Promise<{ assignment: NfsAssignment; operation: Operation }> {
    return this.database.transaction(async (manager) => {
      const tenant = await findTenant(manager, tenantId);
      if (!tenant) throw notFound('tenant', tenantId, 'tenantId', UNKNOWN_TENANT_HINT);
      await manager.query('SELECT 1 FROM nfs_server WHERE id = $1 FOR SHARE', [nfsServerId]);
      const server = await findNfsServer(manager, nfsServerId);
      if (!server) throw notFound('NFS server', nfsServerId, 'nfsServerId', NO_SERVER_HINT);
      const className = storageClassName(tenant, server);
      await uniqueOrConflict(
        manager,
        () =>
          manager.query(
            `INSERT INTO nfs_assignment (nfs_server_id, tenant_id, storage_class_name, state) VALUES ($1, $2, $3, 'installing')`,
            [nfsServerId, tenantId, className],
          ),
        'nfsServerId',
        `NFS server "${server.name}" is already assigned to this tenant`,
        "Nothing to do; list the tenant's NFS servers to see it.",
      );
      const generation = await bumpGeneration(manager, tenantId);
      const operation = await this.operations.accept(manager, {
        tenantId,
        kind: 'nfs-server.assign',
        targetId: nfsServerId,
        requestedBy,
        tenantGeneration: generation,
      });
      const assignment = (await nfsAssignmentsOf(manager, tenantId)).find(
        (a) => a.nfsServerId === nfsServerId,
      )!;
      return { assignment, operation };
    });
  }

  /** Refused while the tenant has volumes on the server. */
  async unassign(
    tenantId: string,
    nfsServerId: string,
    requestedBy: string,
  ): Promise<{ operation: Operation }> {
    return this.database.transaction(async (manager) => {
      if (!(await findTenant(manager, tenantId))) {
        throw notFound('tenant', tenantId, 'tenantId', UNKNOWN_TENANT_HINT);
      }
      const rows = await manager.query<unknown[]>(
        'SELECT 1 FROM nfs_assignment WHERE nfs_server_id = $1 AND tenant_id = $2 FOR UPDATE',
        [nfsServerId, tenantId],
      );
      if (!rows.length) {
        throw notFound(
          'NFS server assigned to this tenant',
          nfsServerId,
          'nfsServerId',
          "List the tenant's NFS servers.",
        );
      }
      const volumes = await manager.query<Array<{ name: string }>>(
        'SELECT name FROM volume WHERE nfs_server_id = $1 AND tenant_id = $2 ORDER BY name',
        [nfsServerId, tenantId],
      );
      if (volumes.length) {
        throw conflict(
          'nfsServerId',
          `the tenant still has ${volumes.length} volume(s) on this server: ${volumes.map((v) => v.name).join(', ')}`,
          'Delete those volumes first.',
        );
      }
      await manager.query(
        `UPDATE nfs_assignment SET state = 'removing' WHERE nfs_server_id = $1 AND tenant_id = $2`,
        [nfsServerId, tenantId],
      );
      const generation = await bumpGeneration(manager, tenantId);
      const operation = await this.operations.accept(manager, {
        tenantId,
        kind: 'nfs-server.unassign',
        targetId: nfsServerId,
        requestedBy,
        tenantGeneration: generation,
      });
      return { operation };
    });
  }

  private async write(manager: EntityManager, input: NfsServerInput, write: () => Promise<unknown>) {
    const clash = await manager.query<Array<{ name: string }>>(
      'SELECT name FROM nfs_server WHERE address = $1 AND export_path = $2 AND name <> $3',
      [input.address, input.exportPath, input.name],
    );
    if (clash[0]) {
      throw conflict(
        'exportPath',
        `${input.address}:${input.exportPath} is already recorded as NFS server "${clash[0].name}"`,
        'Record each export once.',
      );
    }
    await uniqueOrConflict(
      manager,
      write,
      'name',
      `an NFS server named "${input.name}" already exists`,
      'Choose another name.',
    );
  }

  private values(id: string, input: NfsServerInput): unknown[] {
    return [
      id,
      input.name,
      input.address,
      input.exportPath,
      input.tier,
      input.capacityBytes,
      input.description ?? null,
    ];
  }

  private async announce(manager: EntityManager, server: NfsServer, change: 'created' | 'updated') {
    await this.outbox.add(manager, NfsServerRecorded.Topic, {
      nfsServerId: server.id,
      name: server.name,
      address: server.address,
      exportPath: server.exportPath,
      tier: server.tier,
      capacityBytes: server.capacityBytes,
      change,
    });
  }
}

export async function nfsAssignmentsOf(manager: EntityManager, tenantId: string): Promise<NfsAssignment[]> {
  const rows = await manager.query<
    Array<{
      nfs_server_id: string;
      tenant_id: string;
      storage_class_name: string;
      state: NfsAssignment['state'];
    }>
  >('SELECT * FROM nfs_assignment WHERE tenant_id = $1 ORDER BY nfs_server_id', [tenantId]);
  const result: NfsAssignment[] = [];
  for (const row of rows) {
    result.push({
      nfsServerId: row.nfs_server_id,
      tenantId: row.tenant_id,
      storageClassName: row.storage_class_name,
      state: row.state,
      server: (await findNfsServer(manager, row.nfs_server_id))!,
    });
  }
  return result;
}
