import { Hono } from "hono";
import * as z from "zod";
import { principalOf } from "../http/auth.js";
import type { AppEnv } from "../http/env.js";
import { note } from "../http/audit.js";
import { query } from "../http/validate.js";
import { AccountId, Timestamp } from "../contract/fields.js";
import { described } from "../http/openapi.js";
import { AuditRecord } from "./record.js";
import type { AuditService } from "./service.js";

const DAY_MS = 86_400_000;
const Hash = z.string().meta({ examples: ["3q2+7wAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA="] });
const RecordView = AuditRecord.extend({
  time: Timestamp,
  requestId: z.string().meta({ examples: ["req-5f0c2b7e"] }),
  tenant: AccountId,
  action: z.string().meta({ examples: ["kms:Encrypt"] }),
  result: z.string().meta({ examples: ["ok"] }),
  status: z.number().int().meta({ examples: [200] }),
  durationMs: z.number().meta({ examples: [1.7] }),
  writer: z.string().meta({ examples: ["w-7d1f3a"] }),
  prev: Hash,
  hash: Hash,
});
const Problem = z.object({ seq: z.number().int(), requestId: z.string().optional(), problem: z.enum(["modified", "missing", "reordered", "forged-checkpoint", "truncated", "missing-checkpoint", "unregistered", "unsigned"]), detail: z.string().meta({ examples: ["record 12 does not hash to what record 13 links"] }) });
const Report = z.object({
  ok: z.boolean(),
  chains: z.array(z.object({ writer: z.string().meta({ examples: ["w-7d1f3a"] }), records: z.number().int(), lastSeq: z.number().int(), checkpointedSeq: z.number().int(), uncheckpointed: z.number().int(), problems: z.array(Problem) })),
  checkpoints: z.number().int(),
  problems: z.array(Problem),
});
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
    .get("/v1/audit/records", query(RecordsQuery), described({ operationId: "ListAuditRecords", summary: "Query the audit trail", description: "The tenant's audit records in a time window (24 hours by default, at most 31 days), filtered by key, principal, action or result; newest first, paginated. Auditors and tenant admins.", response: z.object({ records: z.array(RecordView), nextCursor: z.string().optional() }), errors: [] }), async (c) => {
      await note(c, { action: "tether:ReadAudit" });
      const page = await svc.query(principalOf(c), c.req.valid("query"));
      return c.json({ records: page.records, ...(page.cursor ? { nextCursor: page.cursor } : {}) });
    })
    .post("/v1/audit/verify", described({ operationId: "VerifyAudit", summary: "Verify the audit trail", description: "Checks every chain of the tenant's audit records against its links and signed checkpoints: a record altered, deleted, reordered or added is reported, and so is what no checkpoint vouches for yet.", response: Report, errors: [] }), async (c) => {
      await note(c, { action: "tether:VerifyAudit" });
      return c.json(await svc.verify(principalOf(c)));
    });
