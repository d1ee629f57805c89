/**
 * Each tenant's members as Keystone has them (R-AU-2), from the gateway's `tenant.members-changed`
 * events, kept to mirror the tenant roles into every environment's RBAC (R-AU-6). The gateway reads
 * Keystone; this service never does.
 *
 * One row per tenant with the newest state seen: events may arrive out of order after a replay of the
 * compacted topic, so a state replaces the stored one only when it was observed later (ties broken by
 * revision, so every replica ends with the same row). A changed member list bumps the tenant's desired
 * state generation in the same transaction, and the reconciler converges the environments' Roles and
 * RoleBindings like any other change. Members of a project that is not registered yet are kept: the
 * tenant may be registered and get a network later, and its environments then start with them.
 */
import type { TenantMembersChanged } from '@stratum/contracts';
import type { EntityManager } from 'typeorm';
import { returning } from '../common/sql';

export type TenantMember = TenantMembersChanged.Member;

export interface TenantMembers {
  tenantId: string;
  tenantName: string;
  members: TenantMember[];
  revision: string;
  observedAt: string;
}

interface TenantMembersRow {
  tenant_id: string;
  tenant_name: string;
  members: TenantMember[];
  revision: string;
  observed_at: Date;
}

export type MembersOutcome =
  /** A new member list: stored, and the tenant (if registered) will be reconciled. */
  | 'changed'
  /** The same list observed again: only `observed_at` moved on. */
  | 'unchanged'
  /** Older than (or the same event as) the stored state: ignored. */
  | 'stale';

/** The tenant's latest members; none before the gateway published any. */
export async function membersOf(manager: EntityManager, tenantId: string): Promise<TenantMember[]> {
  const rows = await manager.query<Array<Pick<TenantMembersRow, 'members'>>>(
    'SELECT members FROM tenant_members WHERE tenant_id = $1',
    [tenantId],
  );
  return rows[0]?.members ?? [];
}

export async function findTenantMembers(
  manager: EntityManager,
  tenantId: string,
): Promise<TenantMembers | undefined> {
  const rows = await manager.query<TenantMembersRow[]>('SELECT * FROM tenant_members WHERE tenant_id = $1', [
    tenantId,
  ]);
  const row = rows[0];
  return row
    ? {
        tenantId: row.tenant_id,
        tenantName: row.tenant_name,
        members: row.members,
        revision: row.revision,
        observedAt: new Date(row.observed_at).toISOString(),
      }
    : undefined;
}

/**
 * Stores the state if it is newer than the stored one and, when the member list changed, bumps the
 * tenant's generation so the reconciler mirrors it. Runs in the caller's transaction (the consumer's,
 * which also records the event in the inbox).
 */
export async function recordMembers(
  manager: EntityManager,
  state: TenantMembersChanged.Value,
): Promise<MembersOutcome> {
  // The row lock orders this against a concurrent state for the same tenant (another replica replaying).
  const previous = await manager.query<Array<Pick<TenantMembersRow, 'revision'>>>(
    'SELECT revision FROM tenant_members WHERE tenant_id = $1 FOR UPDATE',
    [state.tenantId],
  );
  const written = await returning<{ tenant_id: string }>(
    manager,
    `INSERT INTO tenant_members (tenant_id, tenant_name, members, revision, observed_at)
     VALUES ($1, $2, $3, $4, $5)
     ON CONFLICT (tenant_id) DO UPDATE SET tenant_name = EXCLUDED.tenant_name, members = EXCLUDED.members,
       revision = EXCLUDED.revision, observed_at = EXCLUDED.observed_at, updated_at = now()
     WHERE (tenant_members.observed_at, tenant_members.revision) < (EXCLUDED.observed_at, EXCLUDED.revision)
     RETURNING tenant_id`,
    [state.tenantId, state.tenantName, JSON.stringify(state.members), state.revision, state.observedAt],
  );
  if (!written.length) return 'stale';
  if (previous[0]?.revision === state.revision) return 'unchanged';
  // An unregistered tenant has no row: nothing to reconcile until it is registered.
  await manager.query('UPDATE tenant SET generation = generation + 1 WHERE id = $1', [state.tenantId]);
  return 'changed';
}
