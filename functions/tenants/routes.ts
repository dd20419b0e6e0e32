import { Hono } from "hono";
import * as z from "zod";
import { principalOf } from "../http/auth.js";
import type { AppEnv } from "../http/env.js";
import { note } from "../http/audit.js";
import { json } from "../http/validate.js";
import type { TenantService } from "./service.js";
import { OidcConfig } from "./store.js";

const CreateTenantBody = z.object({ name: z.string().min(1).max(256) }).strict();

/** Tenants (operator) and the caller's own tenant and OIDC provider. */
export const tenantRoutes = (svc: TenantService) =>
  new Hono<AppEnv>()
    .post("/v1/tenants", json(CreateTenantBody), async (c) => {
      await note(c, { action: "tether:CreateTenant" });
      const out = await svc.create(principalOf(c), c.req.valid("json"));
      return c.json({ tenant: out.tenant, adminPrincipal: "admin", adminToken: out.adminToken, note: "the token is shown once; keep it" }, 201);
    })
    .get("/v1/tenants", async (c) => {
      await note(c, { action: "tether:ListTenants" });
      return c.json({ tenants: await svc.list(principalOf(c)) });
    })
    .get("/v1/tenants/:id", async (c) => {
      await note(c, { action: "tether:ReadTenant" });
      return c.json({ tenant: await svc.get(principalOf(c), c.req.param("id")) });
    })
    .get("/v1/tenant", async (c) => {
      await note(c, { action: "tether:ReadTenant" });
      const p = principalOf(c);
      return c.json({ tenant: await svc.get(p, p.tenant) });
    })
    .put("/v1/tenant/oidc", json(OidcConfig), async (c) => {
      await note(c, { action: "tether:SetOidcProvider" });
      return c.json({ tenant: await svc.setOidc(principalOf(c), c.req.valid("json")) });
    })
    .delete("/v1/tenant/oidc", async (c) => {
      await note(c, { action: "tether:SetOidcProvider" });
      return c.json({ tenant: await svc.setOidc(principalOf(c), undefined) });
    });
