import type { Context, MiddlewareHandler } from "hono";
import type { AuditSink } from "../audit/sink.js";
import { codeOf } from "./errors.js";
import type { AppEnv } from "./env.js";

/**
 * Writes one audit record per request, allowed, denied or failed, and waits until it is durable
 * before the response leaves. Routes name their action with c.var.audit.
 */
export type SourceIp = (c: Context<AppEnv>) => string | undefined;

export const auditTrail = (sink: AuditSink, sourceIp: SourceIp): MiddlewareHandler<AppEnv> =>
  async function auditTrail(c, next) {
    const started = performance.now();
    await next();
    const principal = c.get("principal");
    const note = c.get("audit");
    await sink.write({
      time: new Date().toISOString(),
      requestId: c.get("requestId"),
      tenant: principal?.tenant,
      principalId: principal?.principalId,
      credentialId: principal?.credentialId,
      action: note.action,
      keyId: note.keyId,
      result: c.error ? codeOf(c.error) : "ok",
      status: c.res.status,
      sourceIp: sourceIp(c),
      durationMs: Math.round((performance.now() - started) * 100) / 100,
    });
  };
