import type { AuditEntry } from './audit-writer';

/** What the audit process needs to reach the gateway's outbox and the brokers (distributed mode only). */
export interface AuditProcessSettings {
  /** The gateway's PostgreSQL database (the outbox the gateway's other events go through too). */
  database: { url: string; poolSize: number; statementTimeoutMs?: number };
  kafka: { brokers: string[]; clientId: string };
  logLevel: string;
}

/** Gateway → audit process. Entries travel in numbered batches, acknowledged once committed. */
export type ToAuditProcess =
  | { type: 'start'; settings: AuditProcessSettings }
  | { type: 'entries'; seq: number; entries: AuditEntry[] }
  | { type: 'close' };

/** Audit process → gateway. */
export type FromAuditProcess =
  | { type: 'ready' }
  | { type: 'start-failed'; error: string }
  /** Every batch up to and including `seq` is in the outbox. */
  | { type: 'committed'; seq: number }
  /**
   * Once a second: events the relay published since the last report (per topic), its health, and
   * whether commits to the outbox are failing (the gateway's own `database` check pings the database).
   */
  | {
      type: 'stats';
      published: Record<string, number>;
      relayErrors: number;
      relay: { ok: boolean; detail?: string };
      commits: { ok: boolean; detail?: string };
    };
