import { Hono } from "hono";
import * as z from "zod";
import { principalOf } from "../http/auth.js";
import type { AppEnv } from "../http/env.js";
import { note } from "../http/audit.js";
import { json, query } from "../http/validate.js";
import { GrantId, GrantPrincipal, GrantToken, KeyRef, Timestamp } from "../contract/fields.js";
import { described } from "../http/openapi.js";
import { GRANT_OPERATIONS } from "../policy/actions.js";
import type { GrantService } from "./service.js";
import { GrantConstraints, type GrantRecord } from "./store.js";

const PrincipalName = GrantPrincipal;
const CreateGrantBody = z
  .object({
    granteePrincipal: PrincipalName,
    retiringPrincipal: PrincipalName.optional(),
    operations: z.array(z.enum(GRANT_OPERATIONS)).min(1).max(GRANT_OPERATIONS.length),
    constraints: GrantConstraints.optional(),
    name: z.string().regex(/^[a-zA-Z0-9:/_-]{1,256}$/).optional(),
  })
  .strict();
const RetireBody = z.union([z.object({ grantToken: GrantToken }).strict(), z.object({ keyId: KeyRef, grantId: GrantId }).strict()]);
const RetirableQuery = z.object({ retiringPrincipal: PrincipalName });

const view = ({ tenant: _t, ...g }: GrantRecord) => g;
const GrantView = z.object({
  keyId: z.string().meta({ examples: ["1234abcd-12ab-34cd-56ef-1234567890ab"] }),
  grantId: GrantId,
  name: z.string().optional(),
  granteePrincipal: PrincipalName,
  retiringPrincipal: PrincipalName.optional(),
  operations: z.array(z.enum(GRANT_OPERATIONS)),
  constraints: GrantConstraints.optional(),
  issuingPrincipal: PrincipalName,
  createdAt: Timestamp,
});

/** Grants on a key (/v1/keys/:keyId/grants) and their retirement (/v1/grants). */
export const grantRoutes = (svc: GrantService) =>
  new Hono<AppEnv>()
    .post("/v1/keys/:keyId/grants", json(CreateGrantBody), described({ operationId: "CreateGrant", summary: "Grant use of a key", description: "Lets a principal perform some operations on the key, optionally only with a given encryption context, until the grant is retired or revoked. The grant token makes it usable at once.", response: z.object({ grantId: GrantId, grantToken: GrantToken }), errors: ["NotFoundException", "KMSInvalidStateException", "LimitExceededException"], status: 201 }), async (c) => {
      await note(c, { action: "kms:CreateGrant", keyId: c.req.param("keyId") });
      return c.json(await svc.create(principalOf(c), c.req.param("keyId"), c.req.valid("json")), 201);
    })
    .get("/v1/keys/:keyId/grants", described({ operationId: "ListGrants", summary: "List a key's grants", description: "Every grant on the key.", response: z.object({ grants: z.array(GrantView) }), errors: ["NotFoundException"] }), async (c) => {
      await note(c, { action: "kms:ListGrants", keyId: c.req.param("keyId") });
      return c.json({ grants: (await svc.list(principalOf(c), c.req.param("keyId"))).map(view) });
    })
    .delete("/v1/keys/:keyId/grants/:grantId", described({ operationId: "RevokeGrant", summary: "Revoke a grant", description: "The grant ends at once (key administrators).", response: z.object({ revoked: GrantId }), errors: ["NotFoundException"] }), async (c) => {
      await note(c, { action: "kms:RevokeGrant", keyId: c.req.param("keyId") });
      await svc.revoke(principalOf(c), c.req.param("keyId"), c.req.param("grantId"));
      return c.json({ revoked: c.req.param("grantId") });
    })
    .post("/v1/grants/retire", json(RetireBody), described({ operationId: "RetireGrant", summary: "Retire a grant", description: "The grant ends, by its token or by key and grant id: for its retiring principal, or a grantee allowed RetireGrant.", response: z.object({ retired: z.literal(true) }), errors: ["NotFoundException"] }), async (c) => {
      await note(c, { action: "kms:RetireGrant" });
      await svc.retire(principalOf(c), c.req.valid("json"));
      return c.json({ retired: true });
    })
    .get("/v1/grants/retirable", query(RetirableQuery), described({ operationId: "ListRetirableGrants", summary: "List grants a principal may retire", description: "The tenant's grants whose retiring principal is the one named.", response: z.object({ grants: z.array(GrantView) }), errors: [] }), async (c) => {
      await note(c, { action: "kms:ListRetirableGrants" });
      return c.json({ grants: (await svc.listRetirable(principalOf(c), c.req.valid("query").retiringPrincipal)).map(view) });
    });
