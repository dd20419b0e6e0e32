import { checkpointSignatureValid } from "./checkpoints.js";
import { genesis, recordHash, type AuditRecord, type Checkpoint } from "./record.js";

export type Problem = {
  seq: number;
  requestId?: string;
  problem: "modified" | "missing" | "reordered" | "forged-checkpoint" | "truncated";
  detail: string;
};

export type ChainReport = { writer: string; records: number; lastSeq: number; checkpointedSeq: number; uncheckpointed: number; problems: Problem[] };

/**
 * Walks one chain in stored order and names every break: a record whose content no longer
 * matches its hash (modified), a gap in the sequence (missing), a record out of its place or
 * linked to the wrong predecessor (reordered), a checkpoint whose signature fails (forged), and
 * records a valid checkpoint vouches for that are gone from the end (truncated). Records after
 * the last checkpoint are counted: a wholesale rewrite of those is what a checkpoint cannot catch.
 */
export function verifyChain(tenant: string, writer: string, records: readonly AuditRecord[], checkpoints: readonly Checkpoint[], publicKey: Uint8Array): ChainReport {
  const problems: Problem[] = [];
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
  for (const c of checkpoints) {
    if (c.tenant !== tenant || c.writer !== writer || !checkpointSignatureValid(c, publicKey)) {
      problems.push({ seq: c.seq, problem: "forged-checkpoint", detail: "the checkpoint's signature does not verify with the HSM key" });
      continue;
    }
    checkpointedSeq = Math.max(checkpointedSeq, c.seq);
    if (c.seq > lastSeq) problems.push({ seq: c.seq, problem: "truncated", detail: `a signed checkpoint vouches for record ${c.seq}; the chain ends at ${lastSeq}` });
    else if (hashAt.has(c.seq) && hashAt.get(c.seq) !== c.hash) problems.push({ seq: c.seq, problem: "modified", detail: "the chain up to here differs from what the signed checkpoint recorded" });
  }
  return { writer, records: records.length, lastSeq, checkpointedSeq, uncheckpointed: Math.max(0, lastSeq - checkpointedSeq), problems };
}
