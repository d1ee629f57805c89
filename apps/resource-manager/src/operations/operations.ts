/**
 * Long-running operations (issue #4 §6): every asynchronous change is answered with 202 and an
 * operation id at once; the reconciler reports each step and the end result here and on the bus
 * (`stratum.resource.operation-progress.v1`), written in the same transaction as the state it
 * describes (outbox).
 *
 * An operation belongs to the tenant generation its change produced: when the reconciler has
 * converged a tenant at generation g, every open operation of that tenant with generation ≤ g is done.
 */
import { randomUUID } from 'node:crypto';
import { OperationProgress } from '@stratum/contracts';
import type { ErrorInfo } from '@stratum/contracts';
import type { Outbox } from '@stratum/messaging';
import type { ServiceDatabase } from '@stratum/persistence';
import type { EntityManager } from 'typeorm';
import { notFound } from '../common/problems';
import { returning } from '../common/sql';

export type OperationKind =
  | 'tenant.register'
  | 'tenant.update'
  | 'network.assign'
  | 'network.unassign'
  | 'nfs-server.assign'
  | 'nfs-server.unassign'
  | 'volume.create'
  | 'volume.resize'
  | 'volume.delete';

export type OperationState = 'accepted' | 'running' | 'succeeded' | 'failed';

export interface Operation {
  id: string;
  tenantId: string | null;
  kind: OperationKind;
  targetId: string;
  state: OperationState;
  step?: string;
  stepsDone: number;
  stepsTotal: number;
  message?: string;
  error?: ErrorInfo;
  requestedBy: string;
  createdAt: string;
  updatedAt: string;
  finishedAt?: string;
}

interface OperationRow {
  id: string;
  tenant_id: string | null;
  kind: OperationKind;
  target_id: string;
  state: OperationState;
  step: string | null;
  steps_done: number;
  steps_total: number;
  message: string | null;
  error: ErrorInfo | null;
  requested_by: string;
  created_at: Date;
  updated_at: Date;
  finished_at: Date | null;
}

function fromRow(row: OperationRow): Operation {
  return {
    id: row.id,
    tenantId: row.tenant_id,
    kind: row.kind,
    targetId: row.target_id,
    state: row.state,
    ...(row.step !== null ? { step: row.step } : {}),
    stepsDone: row.steps_done,
    stepsTotal: row.steps_total,
    ...(row.message !== null ? { message: row.message } : {}),
    ...(row.error !== null ? { error: row.error } : {}),
    requestedBy: row.requested_by,
    createdAt: new Date(row.created_at).toISOString(),
    updatedAt: new Date(row.updated_at).toISOString(),
    ...(row.finished_at !== null ? { finishedAt: new Date(row.finished_at).toISOString() } : {}),
  };
}

export interface StepProgress {
  step: string;
  stepsDone: number;
  stepsTotal: number;
  message?: string;
}

export class Operations {
  constructor(
    private readonly database: ServiceDatabase,
    private readonly outbox: Outbox,
  ) {}

  /** Records an accepted operation for a change made in `manager`'s transaction. */
  async accept(
    manager: EntityManager,
    request: {
      tenantId: string;
      kind: OperationKind;
      targetId: string;
      requestedBy: string;
      tenantGeneration: number;
    },
  ): Promise<Operation> {
    const id = randomUUID();
    const rows = await manager.query<OperationRow[]>(
      `INSERT INTO operation (id, tenant_id, kind, target_id, state, tenant_generation, requested_by, message)
       VALUES ($1, $2, $3, $4, 'accepted', $5, $6, 'waiting for the reconciler') RETURNING *`,
      [id, request.tenantId, request.kind, request.targetId, request.tenantGeneration, request.requestedBy],
    );
    const operation = fromRow(rows[0]);
    await this.announce(manager, [operation]);
    return operation;
  }

  async get(id: string): Promise<Operation> {
    const rows = await this.database.dataSource.query<OperationRow[]>(
      'SELECT * FROM operation WHERE id = $1',
      [id],
    );
    if (!rows[0]) {
      throw notFound('operation', id, 'operationId', 'Operation ids are returned by the 202 answers.');
    }
    return fromRow(rows[0]);
  }

  async list(filter: { tenantId?: string; open?: boolean; limit?: number }): Promise<Operation[]> {
    const rows = await this.database.dataSource.query<OperationRow[]>(
      `SELECT * FROM operation
       WHERE ($1::text IS NULL OR tenant_id = $1) AND (NOT $2 OR state IN ('accepted', 'running'))
       ORDER BY created_at DESC LIMIT $3`,
      [filter.tenantId ?? null, filter.open ?? false, filter.limit ?? 100],
    );
    return rows.map(fromRow);
  }

  /** Whether the tenant has operations waiting on generations up to `generation`. */
  async hasOpen(tenantId: string, generation: number): Promise<boolean> {
    const rows = await this.database.dataSource.query<unknown[]>(
      `SELECT 1 FROM operation WHERE tenant_id = $1 AND tenant_generation <= $2 AND state IN ('accepted', 'running') LIMIT 1`,
      [tenantId, generation],
    );
    return rows.length > 0;
  }

  /** Step n of m for every open operation the reconcile covers. */
  async progress(manager: EntityManager, tenantId: string, generation: number, progress: StepProgress) {
    const rows = await returning<OperationRow>(
      manager,
      `UPDATE operation SET state = 'running', step = $3, steps_done = $4, steps_total = $5, message = $6, updated_at = now()
       WHERE tenant_id = $1 AND tenant_generation <= $2 AND state IN ('accepted', 'running') RETURNING *`,
      [
        tenantId,
        generation,
        progress.step,
        progress.stepsDone,
        progress.stepsTotal,
        progress.message ?? null,
      ],
    );
    await this.announce(manager, rows.map(fromRow));
  }

  async succeed(manager: EntityManager, tenantId: string, generation: number, stepsTotal: number) {
    const rows = await returning<OperationRow>(
      manager,
      `UPDATE operation SET state = 'succeeded', step = 'done', steps_done = $3, steps_total = $3, message = 'done',
         error = NULL, updated_at = now(), finished_at = now()
       WHERE tenant_id = $1 AND tenant_generation <= $2 AND state IN ('accepted', 'running') RETURNING *`,
      [tenantId, generation, stepsTotal],
    );
    await this.announce(manager, rows.map(fromRow));
  }

  /** The reconcile could not converge and will not by retrying (e.g. the cluster refuses an object). */
  async fail(manager: EntityManager, tenantId: string, generation: number, error: ErrorInfo) {
    const rows = await returning<OperationRow>(
      manager,
      `UPDATE operation SET state = 'failed', error = $3::jsonb, message = $4, updated_at = now(), finished_at = now()
       WHERE tenant_id = $1 AND tenant_generation <= $2 AND state IN ('accepted', 'running') RETURNING *`,
      [tenantId, generation, JSON.stringify(error), error.message],
    );
    await this.announce(manager, rows.map(fromRow));
  }

  private async announce(manager: EntityManager, operations: Operation[]): Promise<void> {
    await this.outbox.addMany(
      manager,
      OperationProgress.Topic,
      operations.map((operation) => ({
        operationId: operation.id,
        tenantId: operation.tenantId,
        kind: operation.kind,
        state: operation.state,
        ...(operation.step ? { step: operation.step } : {}),
        stepsDone: Math.min(operation.stepsDone, operation.stepsTotal),
        stepsTotal: operation.stepsTotal,
        ...(operation.message ? { message: operation.message } : {}),
        ...(operation.error ? { error: operation.error } : {}),
      })),
    );
  }
}
