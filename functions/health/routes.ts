import { Hono } from "hono";
import type { AppEnv } from "../http/env.js";
import type { HealthService } from "./service.js";

/** Unauthenticated: reports whether DynamoDB and the HSM answer, and how fast. */
export const healthRoutes = (svc: HealthService) =>
  new Hono<AppEnv>().get("/health", async (c) => {
    const report = await svc.check();
    return c.json(report, report.status === "down" ? 503 : 200);
  });
