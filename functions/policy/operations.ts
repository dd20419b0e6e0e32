import * as z from "zod";
import { KeyRef, POLICY_EXAMPLE, PolicyJson } from "../contract/fields.js";
import { operation, type AnyOperation } from "../contract/operation.js";
import type { KeyPolicyService } from "./service.js";

export const PolicyVersion = z.number().int().min(0);
const PolicyDocument = z.record(z.string(), z.unknown()).meta({ examples: [POLICY_EXAMPLE] });

/** A key's policy, read and replaced the same way through every door. */
export const POLICY_OPERATIONS = {
  GetKeyPolicy: operation({
    name: "GetKeyPolicy",
    action: "kms:GetKeyPolicy",
    summary: "Get a key's policy",
    description: "The key policy in force (the default policy until one is put) and its version.",
    input: { keyId: KeyRef },
    output: { policy: PolicyDocument, policyVersion: PolicyVersion },
    errors: ["NotFoundException"],
    run: (svc: KeyPolicyService, p, i) => svc.get(p, i.keyId),
    answer: (r) => ({ policy: JSON.parse(r.policy) as Record<string, unknown>, policyVersion: r.policyVersion }),
  }),
  PutKeyPolicy: operation({
    name: "PutKeyPolicy",
    action: "kms:PutKeyPolicy",
    summary: "Replace a key's policy",
    description: "Stores a new version of the key policy and puts it in force. A policy that would stop the caller from changing it again is refused unless bypassPolicyLockoutSafetyCheck.",
    input: { keyId: KeyRef, policy: PolicyJson, bypassPolicyLockoutSafetyCheck: z.boolean().optional() },
    output: { policyVersion: PolicyVersion },
    errors: ["NotFoundException", "MalformedPolicyDocumentException"],
    run: async (svc: KeyPolicyService, p, i) => ({ policyVersion: await svc.put(p, i.keyId, i.policy, i.bypassPolicyLockoutSafetyCheck) }),
  }),
} satisfies Record<string, AnyOperation<KeyPolicyService>>;
