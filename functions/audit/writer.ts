import { randomBytes } from "node:crypto";
import { KmsError } from "../../shared/errors.js";
import type { Logger } from "../../shared/log.js";
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
  /** How long the first batch of a new chain waits for its writer's first checkpoint before it is answered anyway. */
  firstCheckpointWaitMs?: number;
};

/**
 * This instance's audit writer. Each tenant's records form a hash chain per writer (this
 * instance). Entries are group-committed: while one batch is being written, new entries queue
 * and go out together in the next, one atomic write per batch (at most `maxBatch`); each caller
 * is answered once its own entry is durable. A batch that cannot be written fails every request
 * in it and leaves the chain as it was, so a chain never has a hole. Entries are bounded in size
 * (boundEntry), so a batch always fits DynamoDB's limits. Chain heads are signed by an
 * HSM-resident key into the tenant's checkpoint log every `checkpointEvery` records or
 * `checkpointMs`, off the request path: by a timer, and by the next write after the interval
 * (a frozen Lambda instance runs no timers; the sweeper signs what a writer never got to). The
 * one exception: a new chain's first batch is answered once the writer has signed it (or after
 * `firstCheckpointWaitMs`), because the sweeper extends only chains their writer signed once —
 * never one planted in the table. A checkpoint only ever names records already durable.
 */
export class AuditWriter implements AuditSink {
  readonly writer = `${Date.now().toString(36)}-${randomBytes(6).toString("hex")}`;
  private readonly chains = new Map<string, Chain>();
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
    this.opts = { maxBatch: 100, checkpointEvery: 100, checkpointMs: 5_000, retries: 3, firstCheckpointWaitMs: 2_000, ...opts };
    this.checkpoints = new CheckpointLog(store, signer);
    this.timer = setInterval(() => void this.checkpoint(() => true), this.opts.checkpointMs);
    this.timer.unref();
  }

  write(entry: AuditEntry): Promise<void> {
    return new Promise((resolve, reject) => {
      this.queue.push({ entry: boundEntry(entry), resolve, reject });
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
    const heads = new Map<string, { seq: number; head: string }>();
    const newChains: { tenant: string; writer: string; createdAt: string }[] = [];
    const records = batch.map(({ entry }): AuditRecord => {
      const chain = heads.get(entry.tenant) ?? this.chains.get(entry.tenant) ?? { seq: 0, head: genesis(entry.tenant, this.writer) };
      if (chain.seq === 0) newChains.push({ tenant: entry.tenant, writer: this.writer, createdAt: entry.time });
      const unhashed = { ...entry, writer: this.writer, seq: chain.seq + 1, prev: chain.head };
      const record = { ...unhashed, hash: recordHash(unhashed) };
      heads.set(entry.tenant, { seq: record.seq, head: record.hash });
      return record;
    });
    try {
      await this.withRetries(() => this.store.append(records, newChains));
    } catch (err) {
      this.log.error("audit batch not written; its requests fail", { records: records.length, error: err instanceof Error ? err.message : String(err) });
      const failure = new KmsError("KMSInternalException", "the audit log is unavailable; the request was not completed");
      for (const w of batch) w.reject(failure);
      return;
    }
    for (const [tenant, head] of heads) this.chains.set(tenant, { ...head, checkpointedSeq: this.chains.get(tenant)?.checkpointedSeq ?? 0 });
    const fresh = new Set(newChains.map((c) => c.tenant));
    const overdue = Date.now() - this.lastRound >= this.opts.checkpointMs;
    const round = this.checkpoint((c, tenant) => fresh.has(tenant) || overdue || c.seq - c.checkpointedSeq >= this.opts.checkpointEvery);
    if (fresh.size) await settledWithin(round, this.opts.firstCheckpointWaitMs);
    for (const w of batch) w.resolve();
  }

  private async withRetries(write: () => Promise<void>): Promise<void> {
    for (let attempt = 1; ; attempt++) {
      try {
        return await write();
      } catch (err) {
        if (attempt >= this.opts.retries) throw err;
        await new Promise((r) => setTimeout(r, 20 * 2 ** attempt));
      }
    }
  }

  /** Signs the heads of the chains that `due` picks, one at a time, never two rounds at once. */
  private checkpoint(due: (c: Chain, tenant: string) => boolean): Promise<void> {
    this.checkpointing = this.checkpointing.then(async () => {
      this.lastRound = Date.now();
      for (const [tenant, chain] of this.chains) {
        if (chain.seq === chain.checkpointedSeq || !due(chain, tenant)) continue;
        const head = { tenant, writer: this.writer, seq: chain.seq, hash: chain.head, time: new Date().toISOString(), by: "writer" as const };
        try {
          await this.checkpoints.append(head);
          const current = this.chains.get(tenant);
          if (current) current.checkpointedSeq = Math.max(current.checkpointedSeq, head.seq);
        } catch (err) {
          this.log.warn("audit checkpoint failed; retried later", { tenant, seq: head.seq, error: err instanceof Error ? err.message : String(err) });
        }
      }
    });
    return this.checkpointing;
  }
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
