import { Hono } from "hono";
import { principalOf } from "../http/auth.js";
import type { AppEnv } from "../http/env.js";
import { note } from "../http/audit.js";
import type { HealthService } from "./service.js";

/**
 * `GET /health` (no credential): up, degraded or down, and nothing more; 503 when down, for load
 * balancers. `GET /v1/health` (the operator's admins and auditors): latencies, connectors, the
 * HSM's identity and the key cache.
 */
export const healthRoutes = (svc: HealthService) =>
  new Hono<AppEnv>()
    .get("/health", async (c) => {
      const summary = await svc.summary();
      return c.json(summary, summary.status === "down" ? 503 : 200);
    })
    .get("/v1/health", async (c) => {
      await note(c, { action: "tether:ReadHealth" });
      const report = await svc.detail(principalOf(c));
      return c.json(report, report.status === "down" ? 503 : 200);
    });
