import type { AuditRecord, Checkpoint } from "./record.js";

export type AuditQuery = {
  from: string;
  to: string;
  keyId?: string | undefined;
  principalId?: string | undefined;
  action?: string | undefined;
  result?: string | undefined;
  limit: number;
  cursor?: string | undefined;
};

/** Hash-chained audit records, their writers' chains and the tenant's log of signed checkpoints. */
export interface AuditStore {
  /** Writes a batch atomically (all or nothing): records in chain order, plus the chains they start. */
  append(records: readonly AuditRecord[], newChains: readonly { tenant: string; writer: string; createdAt: string }[]): Promise<void>;
  /** Every writer registered as having written for the tenant. */
  writers(tenant: string): Promise<string[]>;
  /** One chain's records, in the order of their place (seq) in it. */
  chain(tenant: string, writer: string): Promise<AuditRecord[]>;
  /** The last checkpoint of the tenant's log, read consistently. */
  lastCheckpoint(tenant: string): Promise<Checkpoint | undefined>;
  /** Adds checkpoint `n` to the tenant's log; false if another writer took `n` first. */
  putCheckpoint(checkpoint: Checkpoint): Promise<boolean>;
  /** The tenant's whole checkpoint log, in order of `n`. */
  checkpoints(tenant: string): Promise<Checkpoint[]>;
  /** The tenant's records in a time range, filtered, oldest first, a page at a time. */
  query(tenant: string, q: AuditQuery): Promise<{ records: AuditRecord[]; cursor?: string }>;
}
