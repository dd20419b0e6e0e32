import { checkpointSignatureValid } from "./checkpoints.js";
import { checkpointGenesis, checkpointHash, genesis, recordHash, type AuditRecord, type Checkpoint } from "./record.js";

export type Problem = {
  /** The record (chains) or checkpoint number (the log) concerned; 0 for a chain as a whole. */
  seq: number;
  requestId?: string;
  problem: "modified" | "missing" | "reordered" | "forged-checkpoint" | "truncated" | "missing-checkpoint" | "unregistered" | "unsigned";
  detail: string;
};

export type ChainReport = { writer: string; records: number; lastSeq: number; checkpointedSeq: number; uncheckpointed: number; problems: Problem[] };

/** What verifying a chain needs to know beyond its records. */
export type ChainContext = {
  /** The chain's checkpoints that verified against the log (signature and links). */
  checkpoints: readonly Checkpoint[];
  /** Whether the tenant's chain registry lists it. */
  registered: boolean;
  /** Records older than this instant must be vouched for by a signed checkpoint. */
  signedBy: string;
};

/**
 * Walks one chain in stored order and names every break: a record whose content no longer
 * matches its hash (modified), a gap in the sequence (missing), a record out of its place or
 * linked to the wrong predecessor (reordered), records a checkpoint vouches for that are gone
 * from the end (truncated), records old enough to have been signed that no checkpoint vouches
 * for (unsigned: deleting checkpoints to rewrite what they covered shows here), and a chain the
 * registry does not list (unregistered: found through the checkpoint log instead).
 */
export function verifyChain(tenant: string, writer: string, records: readonly AuditRecord[], ctx: ChainContext): ChainReport {
  const problems: Problem[] = [];
  if (!ctx.registered) problems.push({ seq: 0, problem: "unregistered", detail: "the tenant's chain registry does not list this chain (its entry was deleted); the checkpoint log names it" });
  const hashAt = new Map(records.map((r) => [r.seq, r.hash]));
  let expected = 1;
  for (const r of records) {
    const { hash, ...unhashed } = r;
    const where = { seq: r.seq, requestId: r.requestId };
    if (r.seq > expected) {
      let gapEnd = expected;
      while (gapEnd < r.seq && !hashAt.has(gapEnd)) gapEnd++;
      if (gapEnd > expected) problems.push({ seq: expected, problem: "missing", detail: `records ${expected}–${gapEnd - 1} are gone` });
      if (gapEnd < r.seq) problems.push({ ...where, problem: "reordered", detail: `record ${r.seq} stands before record ${gapEnd}` });
    } else if (r.seq < expected) problems.push({ ...where, problem: "reordered", detail: `record ${r.seq} stands after record ${expected - 1}` });
    const predecessor = r.seq === 1 ? genesis(tenant, writer) : hashAt.get(r.seq - 1);
    if (recordHash(unhashed) !== hash || r.tenant !== tenant || r.writer !== writer) problems.push({ ...where, problem: "modified", detail: "its content does not match its hash" });
    else if (predecessor !== undefined && r.prev !== predecessor) problems.push({ seq: r.seq - 1, problem: "modified", detail: `record ${r.seq} was chained to a different record ${r.seq - 1}` });
    expected = Math.max(expected, r.seq + 1);
  }
  const lastSeq = expected - 1;
  let checkpointedSeq = 0;
  for (const c of ctx.checkpoints) {
    checkpointedSeq = Math.max(checkpointedSeq, c.seq);
    if (c.seq > lastSeq) problems.push({ seq: c.seq, problem: "truncated", detail: `signed checkpoint ${c.n} vouches for record ${c.seq}; the chain ends at ${lastSeq}` });
    else if (hashAt.has(c.seq) && hashAt.get(c.seq) !== c.hash) problems.push({ seq: c.seq, problem: "modified", detail: `the chain up to here differs from what signed checkpoint ${c.n} recorded` });
  }
  const stale = records.filter((r) => r.seq > checkpointedSeq && r.time < ctx.signedBy);
  const first = stale[0];
  if (first) problems.push({ seq: first.seq, requestId: first.requestId, problem: "unsigned", detail: `${stale.length} record(s) from ${first.seq} are older than the signing deadline and no signed checkpoint vouches for them` });
  return { writer, records: records.length, lastSeq, checkpointedSeq, uncheckpointed: Math.max(0, lastSeq - checkpointedSeq), problems };
}

/**
 * The last record of `tail` if the records after the one checkpoint `c` signed continue it
 * unbroken (each in its place, linked to the one before, matching its hash); undefined if the
 * signed record is not there as signed or anything after it is broken.
 */
export function continuation(c: Checkpoint, tail: readonly AuditRecord[]): AuditRecord | undefined {
  let last = tail.find((r) => r.seq === c.seq);
  if (!last || last.hash !== c.hash) return undefined;
  for (const r of tail.filter((t) => t.seq > c.seq)) {
    const { hash, ...unhashed } = r;
    if (r.seq !== last.seq + 1 || r.prev !== last.hash || recordHash(unhashed) !== hash || r.tenant !== c.tenant || r.writer !== c.writer) return undefined;
    last = r;
  }
  return last;
}

/**
 * Walks the tenant's checkpoint log: a number missing (deleted), a checkpoint not linked to its
 * predecessor (altered or replaced), a signature that does not verify with the HSM key's public
 * half (forged), a signer that had seen a higher number than its predecessor's (the log's tail was
 * deleted, then continued). Returns the problems and the checkpoints that verified.
 */
export function verifyCheckpointLog(tenant: string, log: readonly Checkpoint[], publicKey: Uint8Array): { problems: Problem[]; valid: Checkpoint[] } {
  const problems: Problem[] = [];
  const valid: Checkpoint[] = [];
  let previous: Checkpoint | undefined;
  let expected = 1;
  for (const c of [...log].sort((a, b) => a.n - b.n)) {
    if (c.n > expected) problems.push({ seq: expected, problem: "missing-checkpoint", detail: `checkpoints ${expected}–${c.n - 1} of the tenant's log are gone` });
    const linkedTo = c.n === 1 ? checkpointGenesis(tenant) : previous?.n === c.n - 1 ? checkpointHash(previous) : undefined;
    if (c.tenant !== tenant || !checkpointSignatureValid(c, publicKey)) problems.push({ seq: c.n, problem: "forged-checkpoint", detail: `checkpoint ${c.n}'s signature does not verify with the HSM key` });
    else {
      if (linkedTo !== undefined && c.prev !== linkedTo) problems.push({ seq: c.n, problem: "modified", detail: `checkpoint ${c.n} does not follow checkpoint ${c.n - 1} as signed` });
      if (c.seen !== undefined && c.seen >= c.n) problems.push({ seq: c.n, problem: "missing-checkpoint", detail: `checkpoint ${c.n}'s signer had already seen checkpoint ${c.seen}: the log's tail was deleted` });
      valid.push(c);
    }
    previous = c;
    expected = c.n + 1;
  }
  return { problems, valid };
}
