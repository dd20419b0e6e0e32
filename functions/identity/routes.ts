import { Hono } from "hono";
import * as z from "zod";
import { principalOf } from "../http/auth.js";
import type { AppEnv } from "../http/env.js";
import { note } from "../http/audit.js";
import { json } from "../http/validate.js";
import { Role } from "./principal.js";
import type { IdentityService } from "./service.js";
import { PrincipalKind } from "./store.js";

const PrincipalId = z.string().regex(/^[A-Za-z0-9@._+-]{1,128}$/, "letters, digits and @ . _ + - (1-128)");
const Roles = z.array(Role).max(4);
const CreatePrincipalBody = z.object({ principalId: PrincipalId, kind: PrincipalKind, roles: Roles, description: z.string().max(1024).optional() }).strict();
const UpdatePrincipalBody = z.object({ roles: Roles.optional(), description: z.string().max(1024).optional() }).strict();
const ForPrincipalBody = z.object({ principalId: PrincipalId }).strict();

/** Principals and credentials of the caller's tenant (tenant admins), and session tokens (anyone authenticated). */
export const identityRoutes = (svc: IdentityService) =>
  new Hono<AppEnv>()
    .post("/v1/principals", json(CreatePrincipalBody), async (c) => {
      await note(c, { action: "tether:CreatePrincipal" });
      return c.json({ principal: await svc.createPrincipal(principalOf(c), c.req.valid("json")) }, 201);
    })
    .get("/v1/principals", async (c) => {
      await note(c, { action: "tether:ListPrincipals" });
      return c.json({ principals: await svc.listPrincipals(principalOf(c)) });
    })
    .get("/v1/principals/:id", async (c) => {
      await note(c, { action: "tether:GetPrincipal" });
      return c.json({ principal: await svc.getPrincipal(principalOf(c), c.req.param("id")) });
    })
    .patch("/v1/principals/:id", json(UpdatePrincipalBody), async (c) => {
      await note(c, { action: "tether:UpdatePrincipal" });
      return c.json({ principal: await svc.updatePrincipal(principalOf(c), c.req.param("id"), c.req.valid("json")) });
    })
    .delete("/v1/principals/:id", async (c) => {
      await note(c, { action: "tether:DeletePrincipal" });
      await svc.deletePrincipal(principalOf(c), c.req.param("id"));
      return c.json({ deleted: c.req.param("id") });
    })
    .post("/v1/api-keys", json(ForPrincipalBody), async (c) => {
      await note(c, { action: "tether:CreateApiKey" });
      const out = await svc.createApiKey(principalOf(c), c.req.valid("json"));
      return c.json({ apiKey: out.apiKey, token: out.token, note: "the token is shown once; keep it" }, 201);
    })
    .get("/v1/api-keys", async (c) => {
      await note(c, { action: "tether:ListApiKeys" });
      return c.json({ apiKeys: await svc.listApiKeys(principalOf(c)) });
    })
    .delete("/v1/api-keys/:id", async (c) => {
      await note(c, { action: "tether:DeleteApiKey" });
      await svc.deleteApiKey(principalOf(c), c.req.param("id"));
      return c.json({ deleted: c.req.param("id") });
    })
    .post("/v1/access-keys", json(ForPrincipalBody), async (c) => {
      await note(c, { action: "tether:CreateAccessKey" });
      const key = await svc.createAccessKey(principalOf(c), c.req.valid("json"), c.var.call);
      return c.json({ accessKey: key, note: "the secret access key is shown once; keep it" }, 201);
    })
    .get("/v1/access-keys", async (c) => {
      await note(c, { action: "tether:ListAccessKeys" });
      return c.json({ accessKeys: await svc.listAccessKeys(principalOf(c)) });
    })
    .delete("/v1/access-keys/:id", async (c) => {
      await note(c, { action: "tether:DeleteAccessKey" });
      await svc.deleteAccessKey(principalOf(c), c.req.param("id"));
      return c.json({ deleted: c.req.param("id") });
    })
    .post("/v1/tokens", async (c) => {
      await note(c, { action: "tether:CreateSessionToken" });
      return c.json(await svc.issueToken(principalOf(c)), 201);
    });
