import { Hono } from "hono";
import * as z from "zod";
import { principalOf } from "../http/auth.js";
import type { AppEnv } from "../http/env.js";
import { note } from "../http/audit.js";
import { query } from "../http/validate.js";
import type { AuditService } from "./service.js";

const DAY_MS = 86_400_000;
const RecordsQuery = z
  .object({
    from: z.iso.datetime({ offset: true }).optional(),
    to: z.iso.datetime({ offset: true }).optional(),
    keyId: z.string().max(2048).optional(),
    principalId: z.string().max(256).optional(),
    action: z.string().max(128).optional(),
    result: z.string().max(128).optional(),
    limit: z.coerce.number().int().min(1).max(1000).default(100),
    cursor: z.string().max(4096).optional(),
  })
  .transform((q, ctx) => {
    const to = q.to ? new Date(q.to) : new Date();
    const from = q.from ? new Date(q.from) : new Date(to.getTime() - DAY_MS);
    if (from > to || to.getTime() - from.getTime() > 31 * DAY_MS) ctx.addIssue({ code: "custom", message: "from must be before to, at most 31 days apart" });
    return { ...q, from: from.toISOString(), to: to.toISOString() };
  });

/** The tenant's audit trail: `GET /v1/audit/records` (filtered, paginated) and `POST /v1/audit/verify`. */
export const auditRoutes = (svc: AuditService) =>
  new Hono<AppEnv>()
    .get("/v1/audit/records", query(RecordsQuery), async (c) => {
      await note(c, { action: "tether:ReadAudit" });
      const page = await svc.query(principalOf(c), c.req.valid("query"));
      return c.json({ records: page.records, ...(page.cursor ? { nextCursor: page.cursor } : {}) });
    })
    .post("/v1/audit/verify", async (c) => {
      await note(c, { action: "tether:VerifyAudit" });
      return c.json(await svc.verify(principalOf(c)));
    });
