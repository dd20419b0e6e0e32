import { Hono } from "hono";
import * as z from "zod";
import { principalOf } from "../http/auth.js";
import type { AppEnv } from "../http/env.js";
import { note } from "../http/audit.js";
import { EncryptionContext, json, PolicyJson } from "../http/validate.js";
import { Role } from "../identity/principal.js";
import { KEY_ACTIONS, type KeyAction } from "./actions.js";
import type { KeyPolicyService } from "./service.js";

const PutPolicyBody = z.object({ policy: PolicyJson, bypassPolicyLockoutSafetyCheck: z.boolean().optional() }).strict();
const RollbackBody = z.object({ version: z.number().int().min(0).max(1_000_000), bypassPolicyLockoutSafetyCheck: z.boolean().optional() }).strict();
const SimulateBody = z
  .object({
    principal: z.object({ id: z.string().min(1).max(256), roles: z.array(Role).max(4) }).strict().optional(),
    action: z.string().refine((a): a is KeyAction => Object.hasOwn(KEY_ACTIONS, a), "a key action, e.g. kms:Encrypt"),
    keyId: z.string().min(1).max(2048),
    encryptionContext: EncryptionContext,
    sourceIp: z.union([z.ipv4(), z.ipv6()]).optional(),
    time: z.iso.datetime({ offset: true }).optional(),
    requestTags: z.record(z.string().min(1).max(128), z.string().max(256)).optional(),
    tagKeys: z.array(z.string().min(1).max(128)).max(50).optional(),
    grantTokens: z.array(z.string().max(512)).max(10).optional(),
  })
  .strict();

const parsed = (text: string): unknown => JSON.parse(text);

/** Key policies (versioned, with rollback) and the simulator. */
export const policyRoutes = (svc: KeyPolicyService) =>
  new Hono<AppEnv>()
    .get("/v1/keys/:keyId/policy", async (c) => {
      await note(c, { action: "kms:GetKeyPolicy", keyId: c.req.param("keyId") });
      const { policy, policyVersion } = await svc.get(principalOf(c), c.req.param("keyId"));
      return c.json({ policy: parsed(policy), policyVersion });
    })
    .put("/v1/keys/:keyId/policy", json(PutPolicyBody), async (c) => {
      await note(c, { action: "kms:PutKeyPolicy", keyId: c.req.param("keyId") });
      const body = c.req.valid("json");
      return c.json({ policyVersion: await svc.put(principalOf(c), c.req.param("keyId"), body.policy, body.bypassPolicyLockoutSafetyCheck) });
    })
    .get("/v1/keys/:keyId/policy/versions", async (c) => {
      await note(c, { action: "kms:GetKeyPolicy", keyId: c.req.param("keyId") });
      return c.json(await svc.versions(principalOf(c), c.req.param("keyId")));
    })
    .post("/v1/keys/:keyId/policy/rollback", json(RollbackBody), async (c) => {
      await note(c, { action: "kms:PutKeyPolicy", keyId: c.req.param("keyId") });
      const body = c.req.valid("json");
      return c.json({ policyVersion: await svc.rollback(principalOf(c), c.req.param("keyId"), body.version, body.bypassPolicyLockoutSafetyCheck) });
    })
    .post("/v1/policy/simulate", json(SimulateBody), async (c) => {
      const body = c.req.valid("json");
      await note(c, { action: "tether:SimulatePolicy", keyId: body.keyId });
      const decision = await svc.simulate(principalOf(c), { ...body, action: body.action as KeyAction });
      return c.json({ decision: decision.allowed ? "Allow" : "Deny", decidedBy: decision.decidedBy, policyVersion: decision.policyVersion });
    });
