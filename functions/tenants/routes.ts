import { Hono } from "hono";
import * as z from "zod";
import { principalOf } from "../http/auth.js";
import type { AppEnv } from "../http/env.js";
import { note } from "../http/audit.js";
import { json } from "../http/validate.js";
import { AccountId, Timestamp } from "../contract/fields.js";
import { described } from "../http/openapi.js";
import type { TenantService } from "./service.js";
import { OidcConfig } from "./store.js";

const CreateTenantBody = z.object({ name: z.string().min(1).max(256).meta({ examples: ["Acme Corp"] }) }).strict();
const Tenant = z.object({ tenantId: AccountId, name: z.string().meta({ examples: ["Acme Corp"] }), createdAt: Timestamp, oidc: OidcConfig.optional() });

/** Tenants (operator) and the caller's own tenant and OIDC provider. */
export const tenantRoutes = (svc: TenantService) =>
  new Hono<AppEnv>()
    .post("/v1/tenants", json(CreateTenantBody), described({ operationId: "CreateTenant", summary: "Create a tenant", description: "A new tenant (account) with its first administrator, whose API key is shown once. The operator tenant's admins only.", response: z.object({ tenant: Tenant, adminPrincipal: z.literal("admin"), adminToken: z.string().meta({ examples: ["tth_0123456789abcdef_s3cr3t…"] }), note: z.string().meta({ examples: ["the token is shown once; keep it"] }) }), errors: [], status: 201 }), async (c) => {
      await note(c, { action: "tether:CreateTenant" });
      const out = await svc.create(principalOf(c), c.req.valid("json"));
      return c.json({ tenant: out.tenant, adminPrincipal: "admin", adminToken: out.adminToken, note: "the token is shown once; keep it" }, 201);
    })
    .get("/v1/tenants", described({ operationId: "ListTenants", summary: "List tenants", description: "Every tenant (the operator tenant's admins only).", response: z.object({ tenants: z.array(Tenant) }), errors: [] }), async (c) => {
      await note(c, { action: "tether:ListTenants" });
      return c.json({ tenants: await svc.list(principalOf(c)) });
    })
    .get("/v1/tenants/:id", described({ operationId: "GetTenant", summary: "Get a tenant", description: "One tenant (the operator tenant's admins only).", response: z.object({ tenant: Tenant }), errors: ["NotFoundException"] }), async (c) => {
      await note(c, { action: "tether:ReadTenant" });
      return c.json({ tenant: await svc.get(principalOf(c), c.req.param("id")) });
    })
    .get("/v1/tenant", described({ operationId: "GetOwnTenant", summary: "Get the caller's tenant", description: "The caller's own tenant and its OIDC provider.", response: z.object({ tenant: Tenant }), errors: [] }), async (c) => {
      await note(c, { action: "tether:ReadTenant" });
      const p = principalOf(c);
      return c.json({ tenant: await svc.get(p, p.tenant) });
    })
    .put("/v1/tenant/oidc", json(OidcConfig), described({ operationId: "PutTenantOidc", summary: "Set the tenant's OIDC provider", description: "JWTs from this issuer (checked against its JWKS, audience and algorithms) authenticate the tenant's principals, with roles from a claim.", response: z.object({ tenant: Tenant }), errors: ["AlreadyExistsException"] }), async (c) => {
      await note(c, { action: "tether:SetOidcProvider" });
      return c.json({ tenant: await svc.setOidc(principalOf(c), c.req.valid("json")) });
    })
    .delete("/v1/tenant/oidc", described({ operationId: "DeleteTenantOidc", summary: "Remove the tenant's OIDC provider", description: "JWTs no longer authenticate anyone of the tenant.", response: z.object({ tenant: Tenant }), errors: [] }), async (c) => {
      await note(c, { action: "tether:SetOidcProvider" });
      return c.json({ tenant: await svc.setOidc(principalOf(c), undefined) });
    });
