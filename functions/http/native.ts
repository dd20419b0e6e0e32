import type { Hono, MiddlewareHandler } from "hono";
import * as z from "zod";
import { auditedOf, nativeAnswer, type AnyOperation } from "../contract/operation.js";
import { note } from "./audit.js";
import { principalOf } from "./auth.js";
import type { AppEnv } from "./env.js";
import { described } from "./openapi.js";
import { json, query, validated } from "./validate.js";

type Serving = { method: "GET" | "POST" | "PUT" | "PATCH" | "DELETE"; path: string; status?: 200 | 201 };
const WITH_BODY = new Set<Serving["method"]>(["POST", "PUT", "PATCH"]);

/**
 * The native door's codec: serves an operation of the contract as JSON at `path`. Path
 * parameters (`:keyId`) are input fields taken from the URL; the rest come in the JSON body
 * (POST, PUT, PATCH; it may hold no field the operation does not define) or the query string
 * (GET, DELETE). The answer is the operation's native answer, and its OpenAPI entry is the
 * operation's own.
 */
export function serveOperation<S>(app: Hono<AppEnv>, svc: S, op: AnyOperation<S>, at: Serving): void {
  const params = [...at.path.matchAll(/:([A-Za-z]+)/g)].map((m) => m[1] as string);
  const inPath = z.object(Object.fromEntries(params.map((p) => [p, op.input[p] ?? z.string()])));
  const rest = Object.fromEntries(Object.entries(op.input).filter(([name]) => !params.includes(name)));
  const fromBody = WITH_BODY.has(at.method);
  const validate = Object.keys(rest).length === 0 ? [] : fromBody ? [json(z.object(rest).strict())] : [query(z.object(rest))];
  const handler: MiddlewareHandler<AppEnv> = async (c) => {
    const fromPath = validated(inPath, c.req.param(), "path");
    const given = validate.length === 0 ? {} : (c.req.valid as (t: "json" | "query") => object)(fromBody ? "json" : "query");
    const input = { ...given, ...fromPath } as Record<string, unknown>;
    const audited = auditedOf(op, input);
    await note(c, { action: op.action, ...audited });
    const result = await op.run(svc, principalOf(c), input, c.var.call);
    const out = nativeAnswer(op, result, input);
    // An operation that found its key by the ciphertext, or made it, names it once it is known.
    const known = op.resultKey?.(result) ?? (typeof out.keyId === "string" ? out.keyId : undefined);
    if (!audited.keyId && known) await note(c, { action: op.action, ...audited, keyId: known });
    return c.json(out, at.status ?? 200);
  };
  const doc = described({ operationId: op.name, summary: op.summary, description: op.description, response: z.object(op.output), errors: op.errors, ...(at.status ? { status: at.status } : {}) });
  const handlers: MiddlewareHandler<AppEnv>[] = [...validate, doc, handler];
  app.on(at.method, at.path, ...(handlers as [MiddlewareHandler<AppEnv>]));
}
