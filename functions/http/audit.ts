import type { Context, MiddlewareHandler } from "hono";
import type { AuditEntry } from "../audit/record.js";
import type { AuditSink } from "../audit/writer.js";
import { STATE_CHANGING } from "../policy/actions.js";
import { codeOf } from "./errors.js";
import type { AppEnv, AuditNote } from "./env.js";
import { timePhase } from "./request-id.js";

export type SourceIp = (c: Context<AppEnv>) => string | undefined;

/**
 * Writes one audit record per request, allowed, denied or failed, and waits until it is durable
 * before the response leaves (if it cannot be written, the request fails). A request whose
 * action changes state also writes an intent record, durably, before it changes anything (see
 * `note`): if that cannot be written, nothing changes. Routes name their action, key and
 * encryption context with `note`; the keys a request resolved come from its principal.
 */
export const auditTrail = (sink: AuditSink, sourceIp: SourceIp): MiddlewareHandler<AppEnv> =>
  async function auditTrail(c, next) {
    const started = performance.now();
    let intended: Promise<void> | undefined;
    c.set("intend", () => (intended ??= sink.write(entryOf(c, sourceIp, { phase: "intent", result: "pending", status: 0, durationMs: 0 }))));
    await next();
    const writing = performance.now();
    await sink.write(entryOf(c, sourceIp, { result: c.error ? codeOf(c.error) : "ok", status: c.res.status, durationMs: Math.round((writing - started) * 100) / 100 }));
    timePhase(c, "audit", writing);
  };

function entryOf(c: Context<AppEnv>, sourceIp: SourceIp, outcome: Pick<AuditEntry, "result" | "status" | "durationMs" | "phase">): AuditEntry {
  const principal = c.get("principal");
  const note = c.get("audit");
  const keys = principal?.keysUsed?.size ? [...principal.keysUsed].sort() : undefined;
  return {
    time: new Date().toISOString(),
    requestId: c.get("requestId"),
    clientRequestId: c.get("clientRequestId"),
    tenant: principal?.tenant ?? "-",
    principalId: principal?.principalId,
    credentialId: principal?.credentialId,
    action: note.action,
    keyId: note.keyId,
    keys,
    sourceIp: sourceIp(c),
    encryptionContext: note.encryptionContext,
    ...(note.xks ? { xks: note.xks } : {}),
    ...outcome,
  };
}

/**
 * Names the request's action (and key, and encryption context) for its audit record. For an
 * action that changes state, the first call also makes the intent record durable before
 * returning: call it before the change.
 */
export async function note(c: Context<AppEnv>, n: AuditNote): Promise<void> {
  c.set("audit", n);
  if (STATE_CHANGING.has(n.action)) await c.get("intend")();
}
