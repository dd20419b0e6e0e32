import { createHash } from "node:crypto";
import * as z from "zod";

/** One audit record per request, allowed, denied or failed. Never plaintext, key material or secrets. */
export const AuditEntry = z.object({
  time: z.string(),
  requestId: z.string(),
  /** The caller's X-Request-Id, as given (a label, not an id Tether relies on). */
  clientRequestId: z.string().optional(),
  /** "-" when no tenant was authenticated. */
  tenant: z.string(),
  principalId: z.string().optional(),
  credentialId: z.string().optional(),
  action: z.string(),
  keyId: z.string().optional(),
  /** "ok" or the error code. */
  result: z.string(),
  status: z.number().int(),
  sourceIp: z.string().optional(),
  durationMs: z.number(),
  /** The request's encryption context (not secret, as in AWS CloudTrail). */
  encryptionContext: z.record(z.string(), z.string()).optional(),
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

/** A signed statement that a chain reached `seq` with head `hash`. */
export const Checkpoint = z.object({
  tenant: z.string(),
  writer: z.string(),
  seq: z.number().int().min(1),
  hash: z.string(),
  time: z.string(),
  /** ECDSA P-256 / SHA-256 (DER, base64) by the HSM-resident checkpoint key over checkpointMessage(). */
  signature: z.string(),
});
export type Checkpoint = z.infer<typeof Checkpoint>;

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

/** What a checkpoint signs. */
export const checkpointMessage = (c: Omit<Checkpoint, "signature">): Uint8Array => Buffer.from(canonical({ hash: c.hash, seq: c.seq, tenant: c.tenant, time: c.time, writer: c.writer, v: "tether-audit-checkpoint/1" }));
