import { Hono } from "hono";
import { z } from "zod";
import { principalOf } from "../http/auth.js";
import type { AppEnv } from "../http/env.js";
import { json } from "../http/validate.js";
import { Role } from "./principal.js";
import type { IdentityService } from "./service.js";

const CreateApiKeyBody = z
  .object({ principalId: z.string().regex(/^[A-Za-z0-9@._+-]{1,128}$/, "letters, digits and @ . _ + - (1-128)"), roles: z.array(Role).min(1).max(4) })
  .strict();

/** API keys of the caller's tenant (tenant admins only). */
export const identityRoutes = (svc: IdentityService) =>
  new Hono<AppEnv>()
    .post("/v1/api-keys", json(CreateApiKeyBody), async (c) => {
      c.set("audit", { action: "tether:CreateApiKey" });
      const out = await svc.createApiKey(principalOf(c), c.req.valid("json"));
      return c.json({ apiKey: out.apiKey, token: out.token, note: "the token is shown once; keep it" }, 201);
    })
    .get("/v1/api-keys", async (c) => {
      c.set("audit", { action: "tether:ListApiKeys" });
      return c.json({ apiKeys: await svc.listApiKeys(principalOf(c)) });
    })
    .delete("/v1/api-keys/:id", async (c) => {
      c.set("audit", { action: "tether:DeleteApiKey" });
      await svc.deleteApiKey(principalOf(c), c.req.param("id"));
      return c.json({ deleted: c.req.param("id") });
    });
