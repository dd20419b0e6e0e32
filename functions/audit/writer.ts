import { randomBytes } from "node:crypto";
import { isKmsError, KmsError } from "../../shared/errors.js";
import type { Logger } from "../../shared/log.js";
import { currentDeadline, dependencyTimeout, withDeadline } from "../deadline.js";
import { CheckpointLog, type CheckpointSigner } from "./checkpoints.js";
import { boundEntry, genesis, recordHash, type AuditEntry, type AuditRecord } from "./record.js";
import type { AuditStore } from "./store.js";

/** Where audit entries go; `write` resolves once the entry is durable. */
export interface AuditSink {
  write(entry: AuditEntry): Promise<void>;
}

type Chain = { seq: number; head: string; checkpointedSeq: number };
type Waiting = { entry: AuditEntry; resolve: () => void; reject: (err: Error) => void };

export type AuditWriterOptions = {
  maxBatch?: number;
  checkpointEvery?: number;
  checkpointMs?: number;
  retries?: number;
  /** How long one attempt at writing a batch (or a checkpoint) may take. */
  writeTimeoutMs?: number;
  /** How long the first batch of a new chain waits for its writer's first checkpoint before it is answered anyway. */
  firstCheckpointWaitMs?: number;
};

/**
 * This instance's audit writer. Each tenant's records form a hash chain per writer (this
 * instance). Entries are group-committed: while one batch is being written, new entries queue
 * and go out together in the next, one atomic write per batch (at most `maxBatch`); each caller
 * is answered once its own entry is durable. A batch that cannot be written fails every request
 * in it; since it may have landed all the same (an answer lost to a timeout), the writer then
 * carries on under a new writer id, in new chains: a chain never has a hole nor two records at
 * one place. A caller waits for its entry no longer than its request's deadline (an entry still
 * queued then is dropped, never written). Entries are bounded in size
 * (boundEntry), so a batch always fits DynamoDB's limits. Chain heads are signed by an
 * HSM-resident key into the tenant's checkpoint log every `checkpointEvery` records or
 * `checkpointMs`, off the request path: by a timer, and by the next write after the interval
 * (a frozen Lambda instance runs no timers; the sweeper signs what a writer never got to). The
 * one exception: a new chain's first batch is answered once the writer has signed it (or after
 * `firstCheckpointWaitMs`), because the sweeper extends only chains their writer signed once —
 * never one planted in the table. A checkpoint only ever names records already durable.
 */
export class AuditWriter implements AuditSink {
  private lineage: Lineage = newLineage();
  /** Earlier lineages (ended by a failed batch) with records not yet signed: every round signs them first. */
  private retired: Lineage[] = [];
  /** Why the last attempt at writing a batch failed, until one succeeds: what a caller whose deadline passes is told. */
  private lastFailure: unknown;
  private queue: Waiting[] = [];
  private flushing: Promise<void> | undefined;
  private checkpointing: Promise<void> = Promise.resolve();
  private lastRound = Date.now();
  private readonly checkpoints: CheckpointLog;
  private readonly timer: NodeJS.Timeout;
  private readonly opts: Required<AuditWriterOptions>;

  constructor(
    private readonly store: AuditStore,
    signer: CheckpointSigner,
    private readonly log: Logger,
    opts: AuditWriterOptions = {},
  ) {
    this.opts = { maxBatch: 100, checkpointEvery: 100, checkpointMs: 5_000, retries: 3, firstCheckpointWaitMs: 2_000, writeTimeoutMs: 5_000, ...opts };
    this.checkpoints = new CheckpointLog(store, signer);
    this.timer = setInterval(() => void this.checkpoint(() => true), this.opts.checkpointMs);
    this.timer.unref();
  }

  /** The id this writer's chains are written under now (a failed batch starts new ones). */
  get writer(): string {
    return this.lineage.writer;
  }

  write(entry: AuditEntry): Promise<void> {
    const deadline = currentDeadline();
    return new Promise((resolve, reject) => {
      const waiting: Waiting = { entry: boundEntry(entry), resolve, reject };
      if (deadline !== undefined) {
        const timer = setTimeout(() => {
          const queued = this.queue.indexOf(waiting);
          if (queued >= 0) this.queue.splice(queued, 1);
          reject(this.lastFailure === undefined ? dependencyTimeout("the audit log") : auditFailure(this.lastFailure));
        }, deadline - Date.now());
        waiting.resolve = () => {
          clearTimeout(timer);
          resolve();
        };
        waiting.reject = (err) => {
          clearTimeout(timer);
          reject(err);
        };
      }
      this.queue.push(waiting);
      this.kick();
    });
  }

  /**
   * Starts draining unless a drain runs. A write can land after a drain's last look at the queue
   * and before it is marked finished: the drain's end looks again, or that write would wait forever.
   */
  private kick(): void {
    if (this.flushing) return;
    this.flushing = this.drain().finally(() => {
      this.flushing = undefined;
      if (this.queue.length) this.kick();
    });
  }

  /** Entries waiting or being written. */
  backlog(): number {
    return this.queue.length + (this.flushing ? 1 : 0);
  }

  /** Writes what is queued, signs every chain head, stops the timer. */
  async close(): Promise<void> {
    clearInterval(this.timer);
    await this.checkpointNow();
  }

  /** Waits for what is queued, then signs the head of every chain with unsigned records. */
  async checkpointNow(): Promise<void> {
    await this.flushing;
    await this.checkpoint(() => true);
  }

  private async drain(): Promise<void> {
    while (this.queue.length) {
      const batch = this.queue.splice(0, this.opts.maxBatch);
      await this.commit(batch);
    }
  }

  private async commit(batch: Waiting[]): Promise<void> {
    // The chains move on only once the batch is durable: a checkpoint round meanwhile signs what is written.
    const { writer, chains } = this.lineage;
    const heads = new Map<string, { seq: number; head: string }>();
    const newChains: { tenant: string; writer: string; createdAt: string }[] = [];
    const records = batch.map(({ entry }): AuditRecord => {
      const chain = heads.get(entry.tenant) ?? chains.get(entry.tenant) ?? { seq: 0, head: genesis(entry.tenant, writer) };
      if (chain.seq === 0) newChains.push({ tenant: entry.tenant, writer, createdAt: entry.time });
      const unhashed = { ...entry, writer, seq: chain.seq + 1, prev: chain.head };
      const record = { ...unhashed, hash: recordHash(unhashed) };
      heads.set(entry.tenant, { seq: record.seq, head: record.hash });
      return record;
    });
    try {
      await this.withRetries(() => this.store.append(records, newChains));
    } catch (err) {
      this.log.error("audit batch not written; its requests fail, and new chains begin", { records: records.length, error: err instanceof Error ? err.message : String(err) });
      const failure = auditFailure(err);
      for (const w of batch) w.reject(failure);
      this.startOver();
      return;
    }
    for (const [tenant, head] of heads) chains.set(tenant, { ...head, checkpointedSeq: chains.get(tenant)?.checkpointedSeq ?? 0 });
    const fresh = new Set(newChains.map((c) => c.tenant));
    const overdue = Date.now() - this.lastRound >= this.opts.checkpointMs;
    const round = this.checkpoint((c, tenant) => fresh.has(tenant) || overdue || c.seq - c.checkpointedSeq >= this.opts.checkpointEvery);
    if (fresh.size) await settledWithin(round, this.opts.firstCheckpointWaitMs);
    for (const w of batch) w.resolve();
  }

  /**
   * After a failed batch: its records may be in the table all the same, so the chains carry on
   * under a new writer id rather than write a second record at a place that may be taken. The
   * old chains' heads (as far as known durable) are signed by the next rounds, from now on, once
   * the log can be reached (and by the sweeper if this instance goes first).
   */
  private startOver(): void {
    this.retired.push(this.lineage);
    this.lineage = newLineage();
    void this.checkpoint(() => false);
  }

  /**
   * Runs one attempt at a store write under the writer's own deadline, never a request's; the
   * store's calls carry it, and the writer stops waiting at it whatever the store does.
   */
  private async attempt<T>(write: () => Promise<T>): Promise<T> {
    let timer: NodeJS.Timeout | undefined;
    const late = new Promise<never>((_, reject) => (timer = setTimeout(() => reject(dependencyTimeout("the audit log")), this.opts.writeTimeoutMs)));
    try {
      return await Promise.race([withDeadline(Date.now() + this.opts.writeTimeoutMs, write), late]);
    } finally {
      clearTimeout(timer);
    }
  }

  private async withRetries(write: () => Promise<void>): Promise<void> {
    for (let attempt = 1; ; attempt++) {
      try {
        await this.attempt(write);
        this.lastFailure = undefined;
        return;
      } catch (err) {
        this.lastFailure = err;
        if (attempt >= this.opts.retries) throw err;
        await new Promise((r) => setTimeout(r, 20 * 2 ** attempt));
      }
    }
  }

  /** A round: signs every retired lineage's heads, then the current chains' that `due` picks; never two rounds at once. */
  private checkpoint(due: (c: Chain, tenant: string) => boolean): Promise<void> {
    this.checkpointing = this.checkpointing.then(async () => {
      this.lastRound = Date.now();
      for (const lineage of this.retired) if (!(await this.signHeads(lineage, () => true))) break;
      this.retired = this.retired.filter((l) => [...l.chains.values()].some((c) => c.seq !== c.checkpointedSeq));
      await this.signHeads(this.lineage, due);
    });
    return this.checkpointing;
  }

  /** Signs the heads of a lineage's chains that `due` picks, one at a time; false once one could not be (the rest wait for the next round). */
  private async signHeads({ writer, chains }: Lineage, due: (c: Chain, tenant: string) => boolean): Promise<boolean> {
    for (const [tenant, chain] of chains) {
      if (chain.seq === chain.checkpointedSeq || !due(chain, tenant)) continue;
      const head = { tenant, writer, seq: chain.seq, hash: chain.head, time: new Date().toISOString(), by: "writer" as const };
      try {
        await this.attempt(() => this.checkpoints.append(head));
        const current = chains.get(tenant); // a batch may have moved the chain on meanwhile
        if (current) current.checkpointedSeq = Math.max(current.checkpointedSeq, head.seq);
      } catch (err) {
        this.log.warn("audit checkpoint failed; retried later", { tenant, writer, seq: head.seq, error: err instanceof Error ? err.message : String(err) });
        return false;
      }
    }
    return true;
  }
}

/** A writer id and the chains written under it. */
type Lineage = { readonly writer: string; readonly chains: Map<string, Chain> };

const newLineage = (): Lineage => ({ writer: `${Date.now().toString(36)}-${randomBytes(6).toString("hex")}`, chains: new Map() });

/**
 * Why a batch's requests fail: the database's own condition when it is one a caller can act on
 * (out of time, throttled, unreachable: retry), else an internal error.
 */
function auditFailure(err: unknown): KmsError {
  const code = isKmsError(err) && ["DependencyTimeoutException", "DependencyUnavailableException", "ThrottlingException"].includes(err.code) ? err.code : "KMSInternalException";
  return new KmsError(code, `the audit record could not be written, so the request was not completed${code === "KMSInternalException" ? "" : `: ${(err as KmsError).message}`}`);
}

/** Waits for `work` to settle, at most `ms`. */
async function settledWithin(work: Promise<unknown>, ms: number): Promise<void> {
  let timer: NodeJS.Timeout | undefined;
  await Promise.race([work.catch(() => undefined), new Promise((r) => (timer = setTimeout(r, ms)))]);
  clearTimeout(timer);
}

/**
 * Several writers side by side in one instance: each keeps its own chains and commits its own
 * batches, so up to `lanes` batches are in flight at once (one per chain, never two, so each
 * chain stays gap-free). A request goes to the lane with the shortest queue.
 */
export class AuditLanes implements AuditSink {
  constructor(readonly lanes: readonly AuditWriter[]) {
    if (lanes.length === 0) throw new Error("at least one audit lane");
  }

  write(entry: AuditEntry): Promise<void> {
    const lane = this.lanes.reduce((best, l) => (l.backlog() < best.backlog() ? l : best));
    return lane.write(entry);
  }

  async checkpointNow(): Promise<void> {
    await Promise.all(this.lanes.map((l) => l.checkpointNow()));
  }

  async close(): Promise<void> {
    await Promise.all(this.lanes.map((l) => l.close()));
  }
}
