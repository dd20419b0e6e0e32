import type { Context, MiddlewareHandler } from "hono";
import type { AuditSink } from "../audit/writer.js";
import { codeOf } from "./errors.js";
import type { AppEnv } from "./env.js";
import { timePhase } from "./request-id.js";

export type SourceIp = (c: Context<AppEnv>) => string | undefined;

/**
 * Writes one audit record per request, allowed, denied or failed, and waits until it is durable
 * before the response leaves (if it cannot be written, the request fails). Routes name their
 * action, key and encryption context with c.var.audit.
 */
export const auditTrail = (sink: AuditSink, sourceIp: SourceIp): MiddlewareHandler<AppEnv> =>
  async function auditTrail(c, next) {
    const started = performance.now();
    await next();
    const principal = c.get("principal");
    const note = c.get("audit");
    const writing = performance.now();
    await sink.write({
      time: new Date().toISOString(),
      requestId: c.get("requestId"),
      clientRequestId: c.get("clientRequestId"),
      tenant: principal?.tenant ?? "-",
      principalId: principal?.principalId,
      credentialId: principal?.credentialId,
      action: note.action,
      keyId: note.keyId,
      result: c.error ? codeOf(c.error) : "ok",
      status: c.res.status,
      sourceIp: sourceIp(c),
      durationMs: Math.round((writing - started) * 100) / 100,
      encryptionContext: note.encryptionContext,
    });
    timePhase(c, "audit", writing);
  };
