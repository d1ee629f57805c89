/**
 * Stacks, revisions and deployments as the rest of the orchestrator sees them, and how they are read
 * from their rows (migration CreateStacks).
 */
import type { ErrorInfo } from '@stratum/contracts';
import type { StackRevisionPlan } from './deploy-plan';

export type StackStatus = 'deploying' | 'deployed' | 'failed' | 'rolling-back' | 'deleting' | 'deleted';
export type RevisionOutcome = 'pending' | 'deployed' | 'failed' | 'rolled-back' | 'superseded';
export type DeploymentKind = 'deploy' | 'update' | 'rollback' | 'delete';
export type DeploymentState = 'accepted' | 'running' | 'succeeded' | 'failed';
export type DeploymentTrigger = 'requested' | 'automatic';

/** What a deployment does with a unit: apply it, leave it (unchanged in an update), or remove it. */
export type UnitAction = 'apply' | 'keep' | 'remove';
export type UnitState = 'pending' | 'applying' | 'waiting' | 'ready' | 'failed' | 'removing' | 'removed';

export interface UnitProgress {
  action: UnitAction;
  state: UnitState;
  clusterId: string;
  namespace: string;
  /** When its objects were applied (the last time, if a resumed deployment applied them again). */
  appliedAt?: string;
  readyAt?: string;
  removedAt?: string;
  message?: string;
}

export interface Stack {
  id: string;
  tenantId: string;
  name: string;
  status: StackStatus;
  /** The revision running: the last deployed successfully (none before the first success or after deletion). */
  currentRevision: number | null;
  latestRevision: number;
  createdAt: string;
  updatedAt: string;
}

export interface StackRevision {
  stackId: string;
  revision: number;
  outcome: RevisionOutcome;
  templateDigest: string;
  /** Set on a revision made by an explicit rollback: the revision whose plan it restores. */
  restoredFrom: number | null;
  requestedBy: string | null;
  createdAt: string;
}

export interface StackRevisionDetail extends StackRevision {
  plan: StackRevisionPlan;
  template: string | null;
}

export interface Deployment {
  /** Also the operation id answered to the request. */
  id: string;
  stackId: string;
  tenantId: string;
  kind: DeploymentKind;
  trigger: DeploymentTrigger;
  /** The revision this deployment brings up (for a delete: the latest revision). */
  revision: number;
  /** The revision running before, whose units an update or rollback replaces. */
  fromRevision: number | null;
  /** The failed deployment an automatic rollback repairs. */
  causedBy: string | null;
  state: DeploymentState;
  units: Record<string, UnitProgress>;
  failedUnit: string | null;
  error: ErrorInfo | null;
  requestedBy: string | null;
  createdAt: string;
  startedAt: string | null;
  finishedAt: string | null;
}

export interface StackRow {
  id: string;
  tenant_id: string;
  name: string;
  status: StackStatus;
  current_revision: number | null;
  latest_revision: number;
  created_at: Date;
  updated_at: Date;
}

export interface RevisionRow {
  stack_id: string;
  revision: number;
  outcome: RevisionOutcome;
  template_digest: string;
  restored_from: number | null;
  requested_by: string | null;
  created_at: Date;
  plan?: StackRevisionPlan;
  template?: string | null;
}

export interface DeploymentRow {
  id: string;
  stack_id: string;
  tenant_id: string;
  kind: DeploymentKind;
  trigger: DeploymentTrigger;
  revision: number;
  from_revision: number | null;
  caused_by: string | null;
  state: DeploymentState;
  units: Record<string, UnitProgress>;
  failed_unit: string | null;
  error: ErrorInfo | null;
  requested_by: string | null;
  created_at: Date;
  started_at: Date | null;
  finished_at: Date | null;
}

const iso = (value: Date | string) => new Date(value).toISOString();
const isoOrNull = (value: Date | string | null) => (value === null ? null : iso(value));

export function stackOf(row: StackRow): Stack {
  return {
    id: row.id,
    tenantId: row.tenant_id,
    name: row.name,
    status: row.status,
    currentRevision: row.current_revision,
    latestRevision: row.latest_revision,
    createdAt: iso(row.created_at),
    updatedAt: iso(row.updated_at),
  };
}

export function revisionOf(row: RevisionRow): StackRevision {
  return {
    stackId: row.stack_id,
    revision: row.revision,
    outcome: row.outcome,
    templateDigest: row.template_digest,
    restoredFrom: row.restored_from,
    requestedBy: row.requested_by,
    createdAt: iso(row.created_at),
  };
}

export function deploymentOf(row: DeploymentRow): Deployment {
  return {
    id: row.id,
    stackId: row.stack_id,
    tenantId: row.tenant_id,
    kind: row.kind,
    trigger: row.trigger,
    revision: row.revision,
    fromRevision: row.from_revision,
    causedBy: row.caused_by,
    state: row.state,
    units: row.units,
    failedUnit: row.failed_unit,
    error: row.error,
    requestedBy: row.requested_by,
    createdAt: iso(row.created_at),
    startedAt: isoOrNull(row.started_at),
    finishedAt: isoOrNull(row.finished_at),
  };
}

/**
 * The rows of an `UPDATE … RETURNING`: TypeORM's PostgreSQL driver answers those with
 * `[rows, affectedCount]` (INSERT/SELECT with the rows).
 */
export async function returning<T>(
  runner: { query(sql: string, parameters?: unknown[]): Promise<unknown> },
  sql: string,
  parameters: unknown[] = [],
): Promise<T[]> {
  const result = await runner.query(sql, parameters);
  if (
    Array.isArray(result) &&
    result.length === 2 &&
    Array.isArray(result[0]) &&
    typeof result[1] === 'number'
  ) {
    return result[0] as T[];
  }
  return result as T[];
}
