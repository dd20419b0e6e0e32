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

/** A chain as its tenant's registry lists it. */
export type RegisteredChain = {
  writer: string;
  /** The number of the latest checkpoint signed for this chain, once one was (a pointer into the log, checked before use). */
  signedN?: number;
};

/** Hash-chained audit records, their writers' chains and the tenant's log of signed checkpoints. */
export interface AuditStore {
  /** Writes a batch atomically (all or nothing): records in chain order, plus the chains they start. */
  append(records: readonly AuditRecord[], newChains: readonly { tenant: string; writer: string; createdAt: string }[]): Promise<void>;
  /** Every chain registered as written for the tenant. */
  chains(tenant: string): Promise<RegisteredChain[]>;
  /** One chain's records, in the order of their place (seq) in it. */
  chain(tenant: string, writer: string): Promise<AuditRecord[]>;
  /** One chain's records from `seq` on, in order (possibly with some just before it). */
  chainFrom(tenant: string, writer: string, seq: number): Promise<AuditRecord[]>;
  /** Notes in the chain's registry entry that checkpoint `n` signed it up to `seq` (kept only if `seq` is its highest). */
  markSigned(checkpoint: Checkpoint): Promise<void>;
  /** The last checkpoint of the tenant's log, read consistently. */
  lastCheckpoint(tenant: string): Promise<Checkpoint | undefined>;
  /** Adds checkpoint `n` to the tenant's log; false if another writer took `n` first. */
  putCheckpoint(checkpoint: Checkpoint): Promise<boolean>;
  /** Checkpoint `n` of the tenant's log, if there is one that parses. */
  checkpoint(tenant: string, n: number): Promise<Checkpoint | undefined>;
  /** The tenant's whole checkpoint log, in order of `n`. */
  checkpoints(tenant: string): Promise<Checkpoint[]>;
  /** The tenant's records in a time range, filtered, oldest first, a page at a time. */
  query(tenant: string, q: AuditQuery): Promise<{ records: AuditRecord[]; cursor?: string }>;
}
