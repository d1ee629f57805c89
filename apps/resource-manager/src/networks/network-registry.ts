/**
 * Network records (R-NW-2): a platform admin creates, changes and deletes them; nothing is built
 * until a network is assigned to a tenant. Each change is validated against the other networks
 * (network-rules), stored, and announced on the bus in the same transaction (outbox).
 *
 * Overlap checks and writes for one isolation domain are serialised with a transaction advisory
 * lock, so two concurrent creates of overlapping subnets cannot both pass.
 */
import { randomUUID } from 'node:crypto';
import { NetworkDeleted, NetworkRecorded } from '@stratum/contracts';
import type { Outbox } from '@stratum/messaging';
import type { ServiceDatabase } from '@stratum/persistence';
import { DomainException, ErrorCode } from '@stratum/service-kit';
import type { EntityManager } from 'typeorm';
import {
  checkAssignedNetworkChange,
  type NetworkProblem,
  type NetworkRecord,
  validateNetwork,
} from './network-rules';

export interface NetworkInput {
  name: string;
  cidr: string;
  gateway: string;
  vlan?: number;
  parentInterface?: string;
  securityDomain: string;
  isolationDomain: string;
  clusterId: string;
  description?: string;
}

export interface Network extends NetworkInput {
  id: string;
  version: number;
  assignedTo: string[];
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
  cluster_id: string;
  description: string | null;
  version: number;
  assigned_to: string[] | null;
}

const SELECT = `
  SELECT n.*, COALESCE(array_agg(e.tenant_id ORDER BY e.tenant_id) FILTER (WHERE e.tenant_id IS NOT NULL), '{}') AS assigned_to
  FROM network n LEFT JOIN environment e ON e.network_id = n.id`;

function fromRow(row: NetworkRow): Network {
  return {
    id: row.id,
    name: row.name,
    cidr: row.cidr,
    gateway: row.gateway,
    ...(row.vlan !== null ? { vlan: row.vlan } : {}),
    ...(row.parent_interface !== null ? { parentInterface: row.parent_interface } : {}),
    securityDomain: row.security_domain,
    isolationDomain: row.isolation_domain,
    clusterId: row.cluster_id,
    ...(row.description !== null ? { description: row.description } : {}),
    version: row.version,
    assignedTo: row.assigned_to ?? [],
  };
}

/** $1…$10 of the INSERT and the UPDATE: id, then the columns in table order. */
function columnValues(id: string, input: NetworkInput): unknown[] {
  return [
    id,
    input.name,
    input.cidr,
    input.gateway,
    input.vlan ?? null,
    input.parentInterface ?? null,
    input.securityDomain,
    input.isolationDomain,
    input.clusterId,
    input.description ?? null,
  ];
}

function invalid(problems: NetworkProblem[]): DomainException {
  return new DomainException(
    ErrorCode.ValidationFailed,
    problems.map((p) => `${p.field}: ${p.message}`).join('; '),
    'Correct the named fields and send the request again; nothing was changed.',
    { problems },
  );
}

export class NetworkRegistry {
  constructor(
    private readonly database: ServiceDatabase,
    private readonly outbox: Outbox,
  ) {}

  async list(): Promise<Network[]> {
    const rows = await this.database.dataSource.query<NetworkRow[]>(
      `${SELECT} GROUP BY n.id ORDER BY n.name`,
    );
    return rows.map(fromRow);
  }

  async get(id: string): Promise<Network> {
    const network = await this.find(this.database.dataSource.manager, id);
    if (!network) throw this.notFound(id);
    return network;
  }

  async create(input: NetworkInput): Promise<Network> {
    const id = randomUUID();
    return this.database.transaction(async (manager) => {
      await this.lockDomains(manager, [input.isolationDomain]);
      await this.assertValid(manager, { id, ...input });
      await this.insertOrConflict(
        manager,
        () =>
          manager.query(
            `INSERT INTO network (id, name, cidr, gateway, vlan, parent_interface, security_domain, isolation_domain, cluster_id, description)
           VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)`,
            columnValues(id, input),
          ),
        input.name,
      );
      const network = (await this.find(manager, id))!;
      await this.announce(manager, network, 'created');
      return network;
    });
  }

  /** Replaces the record's parameters; `expectedVersion` guards against lost updates. */
  async update(id: string, input: NetworkInput, expectedVersion?: number): Promise<Network> {
    return this.database.transaction(async (manager) => {
      const current = await this.find(manager, id);
      if (!current) throw this.notFound(id);
      await this.lockDomains(manager, [current.isolationDomain, input.isolationDomain]);
      const existing = (await this.find(manager, id, true))!;
      if (expectedVersion !== undefined && existing.version !== expectedVersion) {
        throw new DomainException(
          ErrorCode.Conflict,
          `network "${existing.name}" was changed by someone else (version ${existing.version}, you sent ${expectedVersion})`,
          'Read it again and repeat your change.',
        );
      }
      const next = { id, ...input };
      const problems = checkAssignedNetworkChange(existing, { kind: 'update', next }, existing.assignedTo);
      if (problems.length) throw invalid(problems);
      await this.assertValid(manager, next);
      await this.insertOrConflict(
        manager,
        () =>
          manager.query(
            `UPDATE network SET name = $2, cidr = $3, gateway = $4, vlan = $5, parent_interface = $6, security_domain = $7,
             isolation_domain = $8, cluster_id = $9, description = $10, version = version + 1, updated_at = now()
           WHERE id = $1`,
            columnValues(id, input),
          ),
        input.name,
      );
      const network = (await this.find(manager, id))!;
      await this.announce(manager, network, 'updated');
      return network;
    });
  }

  async delete(id: string): Promise<void> {
    await this.database.transaction(async (manager) => {
      const existing = await this.find(manager, id, true);
      if (!existing) throw this.notFound(id);
      const problems = checkAssignedNetworkChange(existing, { kind: 'delete' }, existing.assignedTo);
      if (problems.length) {
        throw new DomainException(
          ErrorCode.Conflict,
          problems[0].message,
          'Unassign the network from its tenants first.',
          { problems },
        );
      }
      await manager.query('DELETE FROM network WHERE id = $1', [id]);
      await this.outbox.add(manager, NetworkDeleted.Topic, { networkId: id });
    });
  }

  private async find(manager: EntityManager, id: string, forUpdate = false): Promise<Network | undefined> {
    if (forUpdate) await manager.query('SELECT 1 FROM network WHERE id = $1 FOR UPDATE', [id]);
    const rows = await manager.query<NetworkRow[]>(`${SELECT} WHERE n.id = $1 GROUP BY n.id`, [id]);
    return rows[0] ? fromRow(rows[0]) : undefined;
  }

  /** One writer per isolation domain at a time (sorted, so two domains never deadlock). */
  private async lockDomains(manager: EntityManager, domains: string[]): Promise<void> {
    for (const domain of [...new Set(domains)].sort()) {
      await manager.query(
        "SELECT pg_advisory_xact_lock(hashtext('stratum.network.isolation-domain:' || $1))",
        [domain],
      );
    }
  }

  private async assertValid(manager: EntityManager, candidate: NetworkRecord): Promise<void> {
    const others = await manager.query<NetworkRecord[]>(
      'SELECT id, name, cidr, gateway, isolation_domain AS "isolationDomain" FROM network WHERE isolation_domain = $1 AND id <> $2',
      [candidate.isolationDomain, candidate.id],
    );
    const problems = validateNetwork(candidate, others);
    if (problems.length) throw invalid(problems);
  }

  private async insertOrConflict(
    manager: EntityManager,
    write: () => Promise<unknown>,
    name: string,
  ): Promise<void> {
    await manager.query('SAVEPOINT network_write');
    try {
      await write();
      await manager.query('RELEASE SAVEPOINT network_write');
    } catch (error) {
      if ((error as { code?: string }).code !== '23505') throw error;
      await manager.query('ROLLBACK TO SAVEPOINT network_write');
      throw new DomainException(
        ErrorCode.Conflict,
        `name: a network named "${name}" already exists`,
        'Choose another name.',
        {
          problems: [{ field: 'name', message: `a network named "${name}" already exists` }],
        },
      );
    }
  }

  private async announce(
    manager: EntityManager,
    network: Network,
    change: 'created' | 'updated',
  ): Promise<void> {
    await this.outbox.add(manager, NetworkRecorded.Topic, {
      networkId: network.id,
      name: network.name,
      cidr: network.cidr,
      gateway: network.gateway,
      ...(network.vlan !== undefined ? { vlan: network.vlan } : {}),
      ...(network.parentInterface !== undefined ? { parentInterface: network.parentInterface } : {}),
      securityDomain: network.securityDomain,
      isolationDomain: network.isolationDomain,
      clusterId: network.clusterId,
      ...(network.description !== undefined ? { description: network.description } : {}),
      change,
    });
  }

  private notFound(id: string): DomainException {
    return new DomainException(
      ErrorCode.NotFound,
      `no network with id ${id}`,
      'List the networks to find its id.',
    );
  }
}
