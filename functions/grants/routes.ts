import { Hono } from "hono";
import * as z from "zod";
import { principalOf } from "../http/auth.js";
import type { AppEnv } from "../http/env.js";
import { note } from "../http/audit.js";
import { json, query } from "../http/validate.js";
import { GRANT_OPERATIONS } from "../policy/actions.js";
import type { GrantService } from "./service.js";
import { GrantConstraints, type GrantRecord } from "./store.js";

const PrincipalName = z.string().min(1).max(256).regex(/^[\w@.:/+=,-]+$/, "a principal id or ARN");
const CreateGrantBody = z
  .object({
    granteePrincipal: PrincipalName,
    retiringPrincipal: PrincipalName.optional(),
    operations: z.array(z.enum(GRANT_OPERATIONS)).min(1).max(GRANT_OPERATIONS.length),
    constraints: GrantConstraints.optional(),
    name: z.string().regex(/^[a-zA-Z0-9:/_-]{1,256}$/).optional(),
  })
  .strict();
const RetireBody = z.union([z.object({ grantToken: z.string().min(1).max(512) }).strict(), z.object({ keyId: z.string().min(1).max(2048), grantId: z.string().min(1).max(128) }).strict()]);
const RetirableQuery = z.object({ retiringPrincipal: PrincipalName });

const view = ({ tenant: _t, ...g }: GrantRecord) => g;

/** Grants on a key (/v1/keys/:keyId/grants) and their retirement (/v1/grants). */
export const grantRoutes = (svc: GrantService) =>
  new Hono<AppEnv>()
    .post("/v1/keys/:keyId/grants", json(CreateGrantBody), async (c) => {
      await note(c, { action: "kms:CreateGrant", keyId: c.req.param("keyId") });
      return c.json(await svc.create(principalOf(c), c.req.param("keyId"), c.req.valid("json")), 201);
    })
    .get("/v1/keys/:keyId/grants", async (c) => {
      await note(c, { action: "kms:ListGrants", keyId: c.req.param("keyId") });
      return c.json({ grants: (await svc.list(principalOf(c), c.req.param("keyId"))).map(view) });
    })
    .delete("/v1/keys/:keyId/grants/:grantId", async (c) => {
      await note(c, { action: "kms:RevokeGrant", keyId: c.req.param("keyId") });
      await svc.revoke(principalOf(c), c.req.param("keyId"), c.req.param("grantId"));
      return c.json({ revoked: c.req.param("grantId") });
    })
    .post("/v1/grants/retire", json(RetireBody), async (c) => {
      await note(c, { action: "kms:RetireGrant" });
      await svc.retire(principalOf(c), c.req.valid("json"));
      return c.json({ retired: true });
    })
    .get("/v1/grants/retirable", query(RetirableQuery), async (c) => {
      await note(c, { action: "kms:ListRetirableGrants" });
      return c.json({ grants: (await svc.listRetirable(principalOf(c), c.req.valid("query").retiringPrincipal)).map(view) });
    });
