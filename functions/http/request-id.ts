import { randomUUID } from "node:crypto";
import type { MiddlewareHandler } from "hono";
import type { Logger } from "../../shared/log.js";
import { withDeadline } from "../deadline.js";
import type { AppEnv } from "./env.js";

const CALLER_ID = /^[A-Za-z0-9._-]{1,64}$/;

/**
 * Gives each request an id of Tether's own, a child logger and a deadline, which every
 * dependency call of the request carries (functions/deadline.ts); on Lambda it never passes the
 * invocation's own end, less a margin to answer in. The caller's
 * X-Request-Id (if well-formed) is kept as the client's label only: it never becomes the id
 * audit records and sealed HSM payloads are bound to, which a caller could otherwise repeat.
 */
export const requestContext = (log: Logger, requestTimeoutMs: number): MiddlewareHandler<AppEnv> =>
  async function requestContext(c, next) {
    const lambdaLeft = lambdaRemainingMs(c.env);
    const deadline = Date.now() + Math.min(requestTimeoutMs, lambdaLeft === undefined ? Infinity : lambdaLeft - LAMBDA_MARGIN_MS);
    const given = c.req.header("x-request-id");
    const requestId = randomUUID();
    c.set("requestId", requestId);
    c.set("clientRequestId", given && CALLER_ID.test(given) ? given : undefined);
    c.set("log", log.child({ requestId }));
    c.set("call", { requestId, deadline });
    c.set("principal", undefined);
    // Until a route names its action (and for requests refused before it does): what was asked.
    c.set("audit", { action: `${c.req.method} ${c.req.path.slice(0, 256)}` });
    c.set("intend", () => Promise.reject(new Error("a state change outside the audit trail")));
    c.set("timings", []);
    c.header("x-request-id", requestId);
    const started = performance.now();
    await withDeadline(deadline, next);
    timePhase(c, "total", started);
    c.res.headers.set("server-timing", c.get("timings").join(", "));
    c.get("log").debug("request", { method: c.req.method, path: c.req.path, status: c.res.status, timings: c.get("timings") });
  };

/** Time kept back on Lambda to answer after the deadline passed. */
const LAMBDA_MARGIN_MS = 1_000;

/** On Lambda (hono/aws-lambda puts the invocation's context in env), the time the invocation has left. */
const lambdaRemainingMs = (env: unknown): number | undefined =>
  (env as { lambdaContext?: { getRemainingTimeInMillis?: () => number } } | undefined)?.lambdaContext?.getRemainingTimeInMillis?.();

/**
 * Adds a phase (auth, audit, total) to the request's Server-Timing header: every response says
 * what its request cost, and the benchmark reads these to price authentication and audit.
 */
export const timePhase = (c: { get(key: "timings"): string[] }, name: string, startedAt: number): void => {
  c.get("timings").push(`${name};dur=${(performance.now() - startedAt).toFixed(3)}`);
};
