import type { Hono, MiddlewareHandler } from "hono";
import * as z from "zod";
import { KmsError } from "../../shared/errors.js";
import { auditedOf, type AnyOperation } from "../contract/operation.js";
import { note } from "./audit.js";
import { principalOf } from "./auth.js";
import type { AppEnv } from "./env.js";
import { described } from "./openapi.js";
import { json } from "./validate.js";

type Serving = { method: "GET" | "POST"; path: string; status?: 200 | 201 };

/**
 * The native door's codec: serves an operation of the contract as JSON at `path`. Path
 * parameters (`:keyId`) are input fields taken from the URL; the rest come in the JSON body
 * (POST), which may hold no field the operation does not define. The answer is the operation's
 * output as it is, and its OpenAPI entry is the operation's own.
 */
export function serveOperation<S>(app: Hono<AppEnv>, svc: S, op: AnyOperation<S>, at: Serving): void {
  const params = [...at.path.matchAll(/:([A-Za-z]+)/g)].map((m) => m[1] as string);
  const inPath = z.object(Object.fromEntries(params.map((p) => [p, op.input[p] ?? z.string()])));
  const inBody = z.object(Object.fromEntries(Object.entries(op.input).filter(([name]) => !params.includes(name)))).strict();
  const handler: MiddlewareHandler<AppEnv> = async (c) => {
    const fromPath = inPath.safeParse(c.req.param());
    if (!fromPath.success) throw new KmsError("ValidationException", `${fromPath.error.issues[0]?.path.join(".") ?? "path"}: ${fromPath.error.issues[0]?.message ?? "invalid"}`);
    const input = { ...(at.method === "POST" ? (c.req.valid as (t: "json") => object)("json") : {}), ...fromPath.data } as Record<string, unknown>;
    const audited = auditedOf(op, input);
    await note(c, { action: op.action, ...audited });
    const out: Record<string, unknown> = await op.run(svc, principalOf(c), input, c.var.call);
    // An operation that found its key by the ciphertext names it once it is known.
    if (!audited.keyId && typeof out.keyId === "string") await note(c, { action: op.action, ...audited, keyId: out.keyId });
    return c.json(out, at.status ?? 200);
  };
  const doc = described({ operationId: op.name, summary: op.summary, description: op.description, response: z.object(op.output), errors: op.errors, ...(at.status ? { status: at.status } : {}) });
  if (at.method === "POST") app.post(at.path, json(inBody), doc, handler);
  else app.get(at.path, doc, handler);
}
