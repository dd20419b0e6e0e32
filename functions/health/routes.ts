import { Hono } from "hono";
import * as z from "zod";
import { principalOf } from "../http/auth.js";
import type { AppEnv } from "../http/env.js";
import { note } from "../http/audit.js";
import { described } from "../http/openapi.js";
import type { HealthService } from "./service.js";

const Status = z.enum(["ok", "degraded", "down"]);
const Part = z.enum(["up", "down"]);
const PublicHealth = z.object({ status: Status, dynamodb: z.object({ status: Part }), hsm: z.object({ status: Part }) });
const PartDetail = { status: Part, latencyMs: z.number().meta({ examples: [2.4] }), error: z.string().optional() };
const HealthDetail = z.object({
  status: Status,
  dynamodb: z.object(PartDetail),
  hsm: z.object({ ...PartDetail, connectors: z.number().int(), identity: z.string().meta({ examples: ["SoftHSM/2.6.1 token tether"] }).optional(), rootKeyOk: z.boolean().optional() }),
  keyCache: z.object({ hits: z.number().int(), misses: z.number().int(), loads: z.number().int(), evictions: z.number().int(), size: z.number().int() }),
});

/**
 * `GET /health` (no credential): up, degraded or down, and nothing more; 503 when down, for load
 * balancers. `GET /v1/health` (the operator's admins and auditors): latencies, connectors, the
 * HSM's identity and the key cache.
 */
export const healthRoutes = (svc: HealthService) =>
  new Hono<AppEnv>()
    .get("/health", described({ operationId: "Health", summary: "Is Tether up", description: "Up, degraded or down, and nothing more (no credential needed): 503 with the same body when down, for load balancers.", response: PublicHealth, errors: ["KMSInternalException"] }), async (c) => {
      const summary = await svc.summary();
      return c.json(summary, summary.status === "down" ? 503 : 200);
    })
    .get("/v1/health", described({ operationId: "HealthDetail", summary: "Health in detail", description: "Latencies of DynamoDB and the HSM, connectors, the HSM's identity, the root key check and the key cache's counters: 503 with the same body when down. The operator tenant's admins and auditors.", response: HealthDetail, errors: [] }), async (c) => {
      await note(c, { action: "tether:ReadHealth" });
      const report = await svc.detail(principalOf(c));
      return c.json(report, report.status === "down" ? 503 : 200);
    });
