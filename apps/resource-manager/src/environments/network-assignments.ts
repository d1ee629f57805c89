/**
 * Assigning a network to a tenant realises its environment (R-NW-3); a second or later one is linked
 * with the tenant's other environments (R-NW-4). Both are recorded here as desired state — an
 * `environment` row in state `creating` or `removing` and a new tenant generation — with an accepted
 * operation, in one transaction; the reconciler does the Kubernetes work.
 */
import { randomUUID } from 'node:crypto';
import type { KubeClusters } from '@stratum/kube';
import type { ServiceDatabase } from '@stratum/persistence';
import type { EntityManager } from 'typeorm';
import { conflict, notFound, uniqueOrConflict, validationFailed } from '../common/problems';
import type { Operation, Operations } from '../operations/operations';
import { bumpGeneration, findTenant, UNKNOWN_TENANT_HINT } from '../tenants/tenant-registry';
import { environmentNamespace } from './environment-manifests';
import type { WorkloadProbe } from './workload-probe';

export type EnvironmentState = 'creating' | 'ready' | 'removing';

export interface Environment {
  id: string;
  tenantId: string;
  networkId: string;
  networkName: string;
  clusterId: string;
  namespace: string;
  state: EnvironmentState;
  securityDomain: string;
  isolationDomain: string;
  cidr: string;
  createdAt: string;
  readyAt?: string;
}

interface EnvironmentRow {
  id: string;
  tenant_id: string;
  network_id: string;
  network_name: string;
  cluster_id: string;
  namespace: string;
  state: EnvironmentState;
  security_domain: string;
  isolation_domain: string;
  cidr: string;
  created_at: Date;
  ready_at: Date | null;
}

const SELECT = `SELECT e.*, n.name AS network_name, n.security_domain, n.isolation_domain, n.cidr
  FROM environment e JOIN network n ON n.id = e.network_id`;

function fromRow(row: EnvironmentRow): Environment {
  return {
    id: row.id,
    tenantId: row.tenant_id,
    networkId: row.network_id,
    networkName: row.network_name,
    clusterId: row.cluster_id,
    namespace: row.namespace,
    state: row.state,
    securityDomain: row.security_domain,
    isolationDomain: row.isolation_domain,
    cidr: row.cidr,
    createdAt: new Date(row.created_at).toISOString(),
    ...(row.ready_at !== null ? { readyAt: new Date(row.ready_at).toISOString() } : {}),
  };
}

export async function environmentsOf(manager: EntityManager, tenantId: string): Promise<Environment[]> {
  const rows = await manager.query<EnvironmentRow[]>(`${SELECT} WHERE e.tenant_id = $1 ORDER BY n.name`, [
    tenantId,
  ]);
  return rows.map(fromRow);
}

export class NetworkAssignments {
  constructor(
    private readonly database: ServiceDatabase,
    private readonly operations: Operations,
    private readonly kube: KubeClusters,
    private readonly probe: WorkloadProbe,
  ) {}

  async list(tenantId: string): Promise<Environment[]> {
    await this.requireTenant(this.database.dataSource.manager, tenantId);
    return environmentsOf(this.database.dataSource.manager, tenantId);
  }

  async get(tenantId: string, environmentId: string): Promise<Environment> {
    const rows = await this.database.dataSource.query<EnvironmentRow[]>(
      `${SELECT} WHERE e.id = $1 AND e.tenant_id = $2`,
      [environmentId, tenantId],
    );
    if (!rows[0]) {
      throw notFound(
        'environment',
        environmentId,
        'environmentId',
        "List the tenant's environments to find its id.",
      );
    }
    return fromRow(rows[0]);
  }

  async assign(
    tenantId: string,
    networkId: string,
    requestedBy: string,
  ): Promise<{ environment: Environment; operation: Operation }> {
    return this.database.transaction(async (manager) => {
      const tenant = await this.requireTenant(manager, tenantId);
      const networks = await manager.query<Array<{ id: string; name: string; cluster_id: string }>>(
        'SELECT id, name, cluster_id FROM network WHERE id = $1 FOR UPDATE',
        [networkId],
      );
      const network = networks[0];
      if (!network) throw notFound('network', networkId, 'networkId', 'List the networks to find its id.');
      if (!this.kube.has(network.cluster_id)) {
        throw validationFailed([
          {
            field: 'networkId',
            message: `network "${network.name}" targets cluster "${network.cluster_id}", which is not in this resource-manager's kubeconfig (known: ${this.kube.names().join(', ')})`,
          },
        ]);
      }
      const holders = await manager.query<Array<{ tenant_id: string }>>(
        'SELECT tenant_id FROM environment WHERE network_id = $1',
        [networkId],
      );
      if (holders[0]) {
        throw conflict(
          'networkId',
          holders[0].tenant_id === tenantId
            ? `network "${network.name}" is already assigned to this tenant`
            : `network "${network.name}" is assigned to another tenant; a network belongs to one tenant at a time`,
          'Choose another network, or unassign it from its tenant first.',
        );
      }
      const id = randomUUID();
      const namespace = environmentNamespace(tenant, network);
      await uniqueOrConflict(
        manager,
        () =>
          manager.query(
            `INSERT INTO environment (id, tenant_id, network_id, cluster_id, namespace, state)
             VALUES ($1, $2, $3, $4, $5, 'creating')`,
            [id, tenantId, networkId, network.cluster_id, namespace],
          ),
        'networkId',
        `namespace "${namespace}" already exists in cluster "${network.cluster_id}"`,
        'Rename the network or the tenant so that their namespace is unique.',
      );
      const generation = await bumpGeneration(manager, tenantId);
      const operation = await this.operations.accept(manager, {
        tenantId,
        kind: 'network.assign',
        targetId: id,
        requestedBy,
        tenantGeneration: generation,
      });
      const environment = (await manager.query<EnvironmentRow[]>(`${SELECT} WHERE e.id = $1`, [id]))[0];
      return { environment: fromRow(environment), operation };
    });
  }

  /** Refused while anything runs in the environment; otherwise it is unlinked and removed. */
  async unassign(
    tenantId: string,
    networkId: string,
    requestedBy: string,
  ): Promise<{ environment: Environment; operation: Operation }> {
    const current = await this.byNetwork(this.database.dataSource.manager, tenantId, networkId);
    if (current.state !== 'removing') {
      const running = await this.probe.running(current.clusterId, current.namespace);
      if (running.length) {
        throw conflict(
          'networkId',
          `environment ${current.namespace} still runs ${running.length} workload(s): ${running.slice(0, 10).join(', ')}${running.length > 10 ? ', …' : ''}`,
          'Delete the stacks deployed in this environment first, then unassign the network again.',
        );
      }
    }
    return this.database.transaction(async (manager) => {
      await manager.query('SELECT 1 FROM environment WHERE id = $1 FOR UPDATE', [current.id]);
      await manager.query(`UPDATE environment SET state = 'removing' WHERE id = $1`, [current.id]);
      const generation = await bumpGeneration(manager, tenantId);
      const operation = await this.operations.accept(manager, {
        tenantId,
        kind: 'network.unassign',
        targetId: current.id,
        requestedBy,
        tenantGeneration: generation,
      });
      return { environment: { ...current, state: 'removing' as const }, operation };
    });
  }

  private async byNetwork(manager: EntityManager, tenantId: string, networkId: string): Promise<Environment> {
    await this.requireTenant(manager, tenantId);
    const rows = await manager.query<EnvironmentRow[]>(
      `${SELECT} WHERE e.network_id = $1 AND e.tenant_id = $2`,
      [networkId, tenantId],
    );
    if (!rows[0]) {
      throw notFound(
        'network assigned to this tenant',
        networkId,
        'networkId',
        "List the tenant's environments.",
      );
    }
    return fromRow(rows[0]);
  }

  private async requireTenant(manager: EntityManager, tenantId: string) {
    const tenant = await findTenant(manager, tenantId);
    if (!tenant) throw notFound('tenant', tenantId, 'tenantId', UNKNOWN_TENANT_HINT);
    return tenant;
  }
}
