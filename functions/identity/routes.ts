import { Hono } from "hono";
import * as z from "zod";
import { principalOf } from "../http/auth.js";
import type { AppEnv } from "../http/env.js";
import { note } from "../http/audit.js";
import { json } from "../http/validate.js";
import { AccountId, Deleted, Timestamp } from "../contract/fields.js";
import { described } from "../http/openapi.js";
import { Role } from "./principal.js";
import type { IdentityService } from "./service.js";
import { PrincipalKind } from "./store.js";

const PrincipalId = z
  .string()
  .regex(/^[A-Za-z0-9@._+-]{1,128}$/, "letters, digits and @ . _ + - (1-128)")
  .meta({ examples: ["alice"] });
const Roles = z.array(Role).max(4);
const PrincipalView = z.object({ tenant: AccountId, principalId: PrincipalId, kind: PrincipalKind, roles: Roles, description: z.string().meta({ examples: ["Payments service"] }), createdAt: Timestamp });
const ApiKeyView = z.object({ id: z.string().meta({ examples: ["0123456789abcdef"] }), tenant: AccountId, principalId: PrincipalId, createdAt: Timestamp });
const AccessKeyView = z.object({ accessKeyId: z.string().meta({ examples: ["TTHAEXAMPLEKEY234567"] }), principalId: PrincipalId, createdAt: Timestamp });
const CreatePrincipalBody = z.object({ principalId: PrincipalId, kind: PrincipalKind, roles: Roles, description: z.string().max(1024).optional() }).strict();
const UpdatePrincipalBody = z.object({ roles: Roles.optional(), description: z.string().max(1024).optional() }).strict();
const ForPrincipalBody = z.object({ principalId: PrincipalId }).strict();

/** Principals and credentials of the caller's tenant (tenant admins), and session tokens (anyone authenticated). */
export const identityRoutes = (svc: IdentityService) =>
  new Hono<AppEnv>()
    .post("/v1/principals", json(CreatePrincipalBody), described({ operationId: "CreatePrincipal", summary: "Create a principal", description: "A user, role or service of the tenant, with its roles (tenantAdmin, keyAdmin, keyUser, auditor); its credentials come next (API keys, access keys). Tenant admins only.", response: z.object({ principal: PrincipalView }), errors: ["AlreadyExistsException"], status: 201 }), async (c) => {
      await note(c, { action: "tether:CreatePrincipal" });
      return c.json({ principal: await svc.createPrincipal(principalOf(c), c.req.valid("json")) }, 201);
    })
    .get("/v1/principals", described({ operationId: "ListPrincipals", summary: "List principals", description: "Every principal of the tenant. Tenant admins only.", response: z.object({ principals: z.array(PrincipalView) }), errors: [] }), async (c) => {
      await note(c, { action: "tether:ListPrincipals" });
      return c.json({ principals: await svc.listPrincipals(principalOf(c)) });
    })
    .get("/v1/principals/:id", described({ operationId: "GetPrincipal", summary: "Get a principal", description: "One principal of the tenant, with its roles.", response: z.object({ principal: PrincipalView }), errors: ["NotFoundException"] }), async (c) => {
      await note(c, { action: "tether:GetPrincipal" });
      return c.json({ principal: await svc.getPrincipal(principalOf(c), c.req.param("id")) });
    })
    .patch("/v1/principals/:id", json(UpdatePrincipalBody), described({ operationId: "UpdatePrincipal", summary: "Change a principal", description: "Replaces its roles or description; its credentials carry the new roles at once.", response: z.object({ principal: PrincipalView }), errors: ["NotFoundException"] }), async (c) => {
      await note(c, { action: "tether:UpdatePrincipal" });
      return c.json({ principal: await svc.updatePrincipal(principalOf(c), c.req.param("id"), c.req.valid("json")) });
    })
    .delete("/v1/principals/:id", described({ operationId: "DeletePrincipal", summary: "Delete a principal", description: "The principal and every credential it holds are gone.", response: Deleted, errors: ["NotFoundException"] }), async (c) => {
      await note(c, { action: "tether:DeletePrincipal" });
      await svc.deletePrincipal(principalOf(c), c.req.param("id"));
      return c.json({ deleted: c.req.param("id") });
    })
    .post("/v1/api-keys", json(ForPrincipalBody), described({ operationId: "CreateApiKey", summary: "Create an API key", description: "A bearer credential for a principal: the token is shown once and kept only as a scrypt hash.", response: z.object({ apiKey: ApiKeyView, token: z.string().meta({ examples: ["tth_0123456789abcdef_s3cr3t…"] }), note: z.string().meta({ examples: ["the token is shown once; keep it"] }) }), errors: ["NotFoundException"], status: 201 }), async (c) => {
      await note(c, { action: "tether:CreateApiKey" });
      const out = await svc.createApiKey(principalOf(c), c.req.valid("json"));
      return c.json({ apiKey: out.apiKey, token: out.token, note: "the token is shown once; keep it" }, 201);
    })
    .get("/v1/api-keys", described({ operationId: "ListApiKeys", summary: "List API keys", description: "The tenant's API keys (never their secrets).", response: z.object({ apiKeys: z.array(ApiKeyView) }), errors: [] }), async (c) => {
      await note(c, { action: "tether:ListApiKeys" });
      return c.json({ apiKeys: await svc.listApiKeys(principalOf(c)) });
    })
    .delete("/v1/api-keys/:id", described({ operationId: "DeleteApiKey", summary: "Revoke an API key", description: "The key stops working at once, everywhere.", response: Deleted, errors: ["NotFoundException"] }), async (c) => {
      await note(c, { action: "tether:DeleteApiKey" });
      await svc.deleteApiKey(principalOf(c), c.req.param("id"));
      return c.json({ deleted: c.req.param("id") });
    })
    .post("/v1/access-keys", json(ForPrincipalBody), described({ operationId: "CreateAccessKey", summary: "Create a SigV4 access key", description: "An access key for AWS SDKs and the AWS CLI (SigV4, service kms): the secret is shown once and kept wrapped by the HSM root key.", response: z.object({ accessKey: AccessKeyView.extend({ secretAccessKey: z.string().meta({ examples: ["wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"] }) }), note: z.string().meta({ examples: ["the secret access key is shown once; keep it"] }) }), errors: ["NotFoundException", "HsmUnavailableException"], status: 201 }), async (c) => {
      await note(c, { action: "tether:CreateAccessKey" });
      const key = await svc.createAccessKey(principalOf(c), c.req.valid("json"), c.var.call);
      return c.json({ accessKey: key, note: "the secret access key is shown once; keep it" }, 201);
    })
    .get("/v1/access-keys", described({ operationId: "ListAccessKeys", summary: "List access keys", description: "The tenant's SigV4 access keys (never their secrets).", response: z.object({ accessKeys: z.array(AccessKeyView) }), errors: [] }), async (c) => {
      await note(c, { action: "tether:ListAccessKeys" });
      return c.json({ accessKeys: await svc.listAccessKeys(principalOf(c)) });
    })
    .delete("/v1/access-keys/:id", described({ operationId: "DeleteAccessKey", summary: "Revoke an access key", description: "The access key stops working at once, everywhere.", response: Deleted, errors: ["NotFoundException"] }), async (c) => {
      await note(c, { action: "tether:DeleteAccessKey" });
      await svc.deleteAccessKey(principalOf(c), c.req.param("id"));
      return c.json({ deleted: c.req.param("id") });
    })
    .post("/v1/tokens", described({ operationId: "CreateSessionToken", summary: "Exchange a credential for a session token", description: "A 15-minute bearer token with the caller\'s own rights (for a browser, say, that should not hold the long-lived key).", response: z.object({ token: z.string().meta({ examples: ["tts_eyJhbGciOiJFZERTQSJ9…"] }), expiresAt: Timestamp }), errors: [], status: 201 }), async (c) => {
      await note(c, { action: "tether:CreateSessionToken" });
      return c.json(await svc.issueToken(principalOf(c)), 201);
    });
