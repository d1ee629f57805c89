/** Everything the reconciler needs to converge one tenant, read in one consistent snapshot. */
import type { EntityManager } from 'typeorm';
import type { EnvironmentNetwork } from '../environments/environment-manifests';
import { type Environment, environmentsOf } from '../environments/network-assignments';
import { type NfsAssignment, nfsAssignmentsOf } from '../storage/nfs-registry';
import { type Volume, volumesOf } from '../storage/volume-registry';
import { membersOf, type TenantMember } from '../tenants/tenant-members';
import { findTenant, type Tenant } from '../tenants/tenant-registry';

export interface SnapshotEnvironment extends Environment {
  network: EnvironmentNetwork;
}

export interface TenantSnapshot {
  tenant: Tenant;
  /** The desired-state generation this snapshot is. */
  generation: number;
  environments: SnapshotEnvironment[];
  nfs: NfsAssignment[];
  volumes: Volume[];
  /** The tenant's Keystone members, mirrored into every environment's RBAC (R-AU-6). */
  members: TenantMember[];
}

interface NetworkRow {
  id: string;
  name: string;
  cidr: string;
  gateway: string;
  vlan: number | null;
  parent_interface: string | null;
  security_domain: string;
  isolation_domain: string;
}

export async function readSnapshot(
  manager: EntityManager,
  tenantId: string,
): Promise<TenantSnapshot | undefined> {
  const tenant = await findTenant(manager, tenantId);
  if (!tenant) return undefined;
  const environments = await environmentsOf(manager, tenantId);
  const networks = await manager.query<NetworkRow[]>(
    'SELECT n.* FROM network n JOIN environment e ON e.network_id = n.id WHERE e.tenant_id = $1',
    [tenantId],
  );
  const byId = new Map(networks.map((n) => [n.id, n]));
  return {
    tenant,
    generation: tenant.generation,
    environments: environments.map((environment) => {
      const row = byId.get(environment.networkId)!;
      return {
        ...environment,
        network: {
          id: row.id,
          name: row.name,
          cidr: row.cidr,
          gateway: row.gateway,
          ...(row.vlan !== null ? { vlan: row.vlan } : {}),
          ...(row.parent_interface !== null ? { parentInterface: row.parent_interface } : {}),
          securityDomain: row.security_domain,
          isolationDomain: row.isolation_domain,
        },
      };
    }),
    nfs: await nfsAssignmentsOf(manager, tenantId),
    volumes: await volumesOf(manager, tenantId),
    members: await membersOf(manager, tenantId),
  };
}
