import { createHash } from "node:crypto";
import * as z from "zod";

/** One audit record per request, allowed, denied or failed. Never plaintext, key material or secrets. */
export const AuditEntry = z.object({
  time: z.string(),
  requestId: z.string(),
  /** The caller's X-Request-Id, as given (a label, not an id Tether relies on). */
  clientRequestId: z.string().optional(),
  /**
   * "intent": written, durably, before a request that changes state does so; the request's own
   * record (no phase) follows with its outcome. An intent without an outcome is a change that may
   * or may not have happened (its outcome could not be recorded): the resource's state tells.
   */
  phase: z.literal("intent").optional(),
  /** "-" when no tenant was authenticated. */
  tenant: z.string(),
  principalId: z.string().optional(),
  credentialId: z.string().optional(),
  action: z.string(),
  /** The key as the caller named it (an id, an ARN, an alias). */
  keyId: z.string().optional(),
  /** Every key the request resolved and used, by id: batch items, re-encryption's source and destination, a key named by alias or only by its ciphertext. */
  keys: z.array(z.string()).optional(),
  /** "ok", "pending" (an intent) or the error code. */
  result: z.string(),
  status: z.number().int(),
  sourceIp: z.string().optional(),
  durationMs: z.number(),
  /** The request's encryption context (not secret, as in AWS CloudTrail); large values are recorded by their SHA-256. */
  encryptionContext: z.record(z.string(), z.string()).optional(),
  /** A call from AWS KMS to an XKS key store: what AWS says of it (its request id, the AWS principal, operation and KMS key). */
  xks: z.object({ kmsRequestId: z.string(), kmsOperation: z.string(), awsPrincipalArn: z.string().optional(), kmsKeyArn: z.string().optional() }).optional(),
  /** Fields recorded in reduced form to keep the record bounded (see boundEntry). */
  reduced: z.array(z.string()).optional(),
});
export type AuditEntry = z.infer<typeof AuditEntry>;

/** A record as stored: its place in its writer's chain for its tenant, and the hash that links it. */
export const AuditRecord = AuditEntry.extend({
  writer: z.string(),
  seq: z.number().int().min(1),
  /** Hash of the previous record of this chain (the chain's genesis value for seq 1). */
  prev: z.string(),
  /** SHA-256 over the canonical encoding of every other field. */
  hash: z.string(),
});
export type AuditRecord = z.infer<typeof AuditRecord>;

/**
 * A signed statement that a chain reached `seq` with head `hash`. Checkpoints of all a tenant's
 * chains form one log of their own, numbered (`n`) and linked (`prev`, the hash of checkpoint
 * n-1): a checkpoint deleted from the middle leaves a gap, one altered breaks the link, and every
 * chain a checkpoint names is found by verify even if its registry entry is gone.
 */
export const Checkpoint = z.object({
  tenant: z.string(),
  n: z.number().int().min(1),
  /** checkpointHash of checkpoint n-1 (the log's genesis value for n = 1). */
  prev: z.string(),
  writer: z.string(),
  seq: z.number().int().min(1),
  hash: z.string(),
  time: z.string(),
  /** Who signed: the writer itself, or the sweeper for a chain its writer left unsigned. */
  by: z.enum(["writer", "sweeper"]),
  /** The highest checkpoint number its signer had seen in this log before: above n-1, entries were deleted. */
  seen: z.number().int().min(0).optional(),
  /** ECDSA P-256 / SHA-256 (DER, base64) by the HSM-resident checkpoint key over checkpointMessage(). */
  signature: z.string(),
});
export type Checkpoint = z.infer<typeof Checkpoint>;
export type ChainHead = Pick<Checkpoint, "tenant" | "writer" | "seq" | "hash" | "time" | "by">;

/**
 * The canonical encoding hashed for a record: JSON with keys sorted at every level and absent
 * fields left out, so that the same record always hashes the same, whoever re-reads it.
 */
export function canonical(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonical).join(",")}]`;
  if (value && typeof value === "object") {
    const entries = Object.entries(value as Record<string, unknown>).filter(([, v]) => v !== undefined).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${canonical(v)}`).join(",")}}`;
  }
  return JSON.stringify(value);
}

const sha256 = (text: string) => createHash("sha256").update(text).digest("hex");

/** The value `prev` holds for a chain's first record. */
export const genesis = (tenant: string, writer: string): string => sha256(`tether-audit-genesis\n${tenant}\n${writer}`);

/** The hash of a record: over everything but the hash itself (prev included, which links the chain). */
export const recordHash = (r: Omit<AuditRecord, "hash">): string => sha256(canonical(r));

/** The value `prev` holds for a tenant's first checkpoint. */
export const checkpointGenesis = (tenant: string): string => sha256(`tether-audit-checkpoint-genesis\n${tenant}`);

/** What a checkpoint signs: everything but the signature. */
export const checkpointMessage = (c: Omit<Checkpoint, "signature">): Uint8Array =>
  Buffer.from(canonical({ by: c.by, hash: c.hash, n: c.n, prev: c.prev, seen: c.seen, seq: c.seq, tenant: c.tenant, time: c.time, writer: c.writer, v: "tether-audit-checkpoint/2" }));

/** What the next checkpoint's `prev` holds: a hash of this one, signature included. */
export const checkpointHash = (c: Checkpoint): string => sha256(canonical(c));

/**
 * The most a record weighs once bounded (DynamoDB takes 400 KB an item and 4 MB a transaction; a
 * batch holds ≤ 100 records): six identifiers of ≤ 256 characters, a context of ≤ 4 KiB, the keys
 * used within 8 KiB, and the fixed fields.
 */
export const MAX_RECORD_BYTES = 20 * 1024;
const MAX_CONTEXT_BYTES = 4 * 1024;
const MAX_KEYS_BYTES = 8 * 1024;
const MAX_FIELD = 256;

const digest = (value: string) => `sha256:${sha256(value)}`;

/**
 * A record bounded in size whatever the request: an encryption context over 4 KB keeps its keys
 * with each long value replaced by its SHA-256 (and, if still too large, becomes one digest of
 * its canonical form); over-long identifiers are replaced by their SHA-256; the keys used are
 * named as long as they fit 8 KiB (every key of a 100-item batch does), then counted. `reduced`
 * names what was reduced, so an auditor can still match a known value by hashing it.
 */
function boundKeys(keys: readonly string[], reduce: () => void): string[] {
  const kept: string[] = [];
  let bytes = 0;
  for (const key of keys) {
    const named = key.length > MAX_FIELD ? (reduce(), digest(key)) : key;
    bytes += Buffer.byteLength(named) + 3;
    if (bytes > MAX_KEYS_BYTES) {
      reduce();
      return [...kept, `…${keys.length - kept.length} more`];
    }
    kept.push(named);
  }
  return kept;
}

/** What AWS says of an XKS call, each value over the field bound by its digest. */
function boundXks(xks: NonNullable<AuditEntry["xks"]>, onReduced: () => void): NonNullable<AuditEntry["xks"]> {
  const long = (v: string | undefined) => v !== undefined && v.length > MAX_FIELD;
  if (!Object.values(xks).some(long)) return xks;
  onReduced();
  const cut = (v: string | undefined) => (v !== undefined && long(v) ? digest(v) : v);
  return { kmsRequestId: cut(xks.kmsRequestId) ?? "", kmsOperation: cut(xks.kmsOperation) ?? "", awsPrincipalArn: cut(xks.awsPrincipalArn), kmsKeyArn: cut(xks.kmsKeyArn) };
}

export function boundEntry(e: AuditEntry): AuditEntry {
  const reduced = new Set(e.reduced ?? []);
  const short = (field: "action" | "keyId" | "principalId" | "credentialId" | "clientRequestId" | "sourceIp"): string | undefined => {
    const value = e[field];
    if (value === undefined || value.length <= MAX_FIELD) return value;
    reduced.add(field);
    return digest(value);
  };
  let context = e.encryptionContext;
  if (context && Buffer.byteLength(canonical(context)) > MAX_CONTEXT_BYTES) {
    reduced.add("encryptionContext");
    const hashed = Object.fromEntries(Object.entries(context).map(([k, v]) => [k.length > 128 ? digest(k) : k, v.length > 64 ? digest(v) : v]));
    context = Buffer.byteLength(canonical(hashed)) <= MAX_CONTEXT_BYTES ? hashed : { "tether:digest": digest(canonical(context)) };
  }
  const keys = e.keys && boundKeys(e.keys, () => reduced.add("keys"));
  const xks = e.xks && boundXks(e.xks, () => reduced.add("xks"));
  return {
    ...e,
    action: short("action") ?? e.action,
    keyId: short("keyId"),
    principalId: short("principalId"),
    credentialId: short("credentialId"),
    clientRequestId: short("clientRequestId"),
    sourceIp: short("sourceIp"),
    encryptionContext: context,
    keys,
    ...(xks ? { xks } : {}),
    reduced: reduced.size ? [...reduced].sort() : undefined,
  };
}
