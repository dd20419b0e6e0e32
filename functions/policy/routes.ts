import { Hono } from "hono";
import * as z from "zod";
import { principalOf } from "../http/auth.js";
import type { AppEnv } from "../http/env.js";
import { note } from "../http/audit.js";
import { EncryptionContext, GrantTokens, KeyRef } from "../contract/fields.js";
import { serveOperation } from "../http/native.js";
import { POLICY_OPERATIONS as OPS, PolicyVersion } from "./operations.js";
import { json } from "../http/validate.js";
import { Timestamp } from "../contract/fields.js";
import { described } from "../http/openapi.js";
import { Role } from "../identity/principal.js";
import { KEY_ACTIONS, type KeyAction } from "./actions.js";
import type { KeyPolicyService } from "./service.js";

const RollbackBody = z.object({ version: z.number().int().min(0).max(1_000_000), bypassPolicyLockoutSafetyCheck: z.boolean().optional() }).strict();
const SimulateBody = z
  .object({
    principal: z.object({ id: z.string().min(1).max(256), roles: z.array(Role).max(4) }).strict().optional(),
    action: z.string().meta({ examples: ["kms:Encrypt"] }).refine((a): a is KeyAction => Object.hasOwn(KEY_ACTIONS, a), "a key action, e.g. kms:Encrypt"),
    keyId: KeyRef,
    encryptionContext: EncryptionContext,
    sourceIp: z.union([z.ipv4(), z.ipv6()]).optional(),
    time: z.iso.datetime({ offset: true }).optional(),
    requestTags: z.record(z.string().min(1).max(128), z.string().max(256)).optional(),
    tagKeys: z.array(z.string().min(1).max(128)).max(50).optional(),
    grantTokens: GrantTokens,
  })
  .strict();

/** Key policies (versioned, with rollback) and the simulator. */
export const policyRoutes = (svc: KeyPolicyService) => {
  const app = new Hono<AppEnv>();
  serveOperation(app, svc, OPS.GetKeyPolicy, { method: "GET", path: "/v1/keys/:keyId/policy" });
  serveOperation(app, svc, OPS.PutKeyPolicy, { method: "PUT", path: "/v1/keys/:keyId/policy" });
  return app
    .get("/v1/keys/:keyId/policy/versions", described({ operationId: "ListKeyPolicyVersions", summary: "List a key's policy versions", description: "Every version of the key's policy, oldest first (version 0 is the default policy), and which is in force.", response: z.object({ current: PolicyVersion, versions: z.array(z.object({ version: PolicyVersion, createdAt: Timestamp, createdBy: z.string().meta({ examples: ["alice"] }) })) }), errors: ["NotFoundException"] }), async (c) => {
      await note(c, { action: "kms:GetKeyPolicy", keyId: c.req.param("keyId") });
      return c.json(await svc.versions(principalOf(c), c.req.param("keyId")));
    })
    .post("/v1/keys/:keyId/policy/rollback", json(RollbackBody), described({ operationId: "RollbackKeyPolicy", summary: "Roll a key's policy back", description: "Puts an earlier version back in force, as a new version (history is never rewritten).", response: z.object({ policyVersion: PolicyVersion }), errors: ["NotFoundException", "MalformedPolicyDocumentException"] }), async (c) => {
      await note(c, { action: "kms:PutKeyPolicy", keyId: c.req.param("keyId") });
      const body = c.req.valid("json");
      return c.json({ policyVersion: await svc.rollback(principalOf(c), c.req.param("keyId"), body.version, body.bypassPolicyLockoutSafetyCheck) });
    })
    .post("/v1/policy/simulate", json(SimulateBody), described({ operationId: "SimulatePolicy", summary: "Simulate a policy decision", description: "Would this principal be allowed this action on this key, with this context, from this address, at this time, and which statement or grant decides. Tenant admins, key admins and auditors.", response: z.object({ decision: z.enum(["Allow", "Deny"]), decidedBy: z.object({ kind: z.enum(["policy", "grant", "implicit"]), effect: z.enum(["Allow", "Deny"]).optional(), sid: z.string().meta({ examples: ["AllowUseForPayments"] }).optional(), index: z.number().int().optional(), grantId: z.string().optional() }), policyVersion: PolicyVersion }), errors: ["NotFoundException"] }), async (c) => {
      const body = c.req.valid("json");
      await note(c, { action: "tether:SimulatePolicy", keyId: body.keyId });
      const decision = await svc.simulate(principalOf(c), { ...body, action: body.action as KeyAction });
      return c.json({ decision: decision.allowed ? "Allow" : "Deny", decidedBy: decision.decidedBy, policyVersion: decision.policyVersion });
    });
};
