import { Hono } from "hono";
import * as z from "zod";
import { principalOf } from "../http/auth.js";
import type { AppEnv } from "../http/env.js";
import { note } from "../http/audit.js";
import { query } from "../http/validate.js";
import { serveOperation } from "../http/native.js";
import { GRANT_MANAGEMENT as OPS } from "./operations.js";
import { GrantId, GrantPrincipal, Timestamp } from "../contract/fields.js";
import { described } from "../http/openapi.js";
import { GRANT_OPERATIONS } from "../policy/actions.js";
import type { GrantService } from "./service.js";
import { GrantConstraints, type GrantRecord } from "./store.js";

const PrincipalName = GrantPrincipal;
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
export const grantRoutes = (svc: GrantService) => {
  const app = new Hono<AppEnv>();
  serveOperation(app, svc, OPS.CreateGrant, { method: "POST", path: "/v1/keys/:keyId/grants", status: 201 });
  serveOperation(app, svc, OPS.RevokeGrant, { method: "DELETE", path: "/v1/keys/:keyId/grants/:grantId" });
  serveOperation(app, svc, OPS.RetireGrant, { method: "POST", path: "/v1/grants/retire" });
  return app
    .get("/v1/keys/:keyId/grants", described({ operationId: "ListGrants", summary: "List a key's grants", description: "Every grant on the key.", response: z.object({ grants: z.array(GrantView) }), errors: ["NotFoundException"] }), async (c) => {
      await note(c, { action: "kms:ListGrants", keyId: c.req.param("keyId") });
      return c.json({ grants: (await svc.list(principalOf(c), c.req.param("keyId"))).map(view) });
    })
    .get("/v1/grants/retirable", query(RetirableQuery), described({ operationId: "ListRetirableGrants", summary: "List grants a principal may retire", description: "The tenant's grants whose retiring principal is the one named.", response: z.object({ grants: z.array(GrantView) }), errors: [] }), async (c) => {
      await note(c, { action: "kms:ListRetirableGrants" });
      return c.json({ grants: (await svc.listRetirable(principalOf(c), c.req.valid("query").retiringPrincipal)).map(view) });
    });
};
