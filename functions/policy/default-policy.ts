import type { Role } from "../identity/principal.js";
import { KEY_ACTIONS, type KeyAction } from "./actions.js";
import { compilePolicy, type CompiledPolicy } from "./evaluate.js";

const SIDS: Record<Exclude<Role, "tenantAdmin">, string> = {
  keyAdmin: "Allow key administrators to manage the key",
  keyUser: "Allow key users to use the key",
  auditor: "Allow auditors to read the key",
};

/**
 * The policy of a key created without one: tenant admins may do everything (so a tenant can never
 * lock itself out of its own key), key admins manage, key users use, auditors read.
 */
export const DEFAULT_POLICY_TEXT = JSON.stringify(
  {
    Version: "2012-10-17",
    Id: "tether-default",
    Statement: [
      { Sid: "Allow tenant admins everything", Effect: "Allow", Principal: { Tether: "role:tenantAdmin" }, Action: "kms:*", Resource: "*" },
      ...(Object.keys(SIDS) as (keyof typeof SIDS)[]).map((role) => ({
        Sid: SIDS[role],
        Effect: "Allow",
        Principal: { Tether: `role:${role}` },
        Action: (Object.keys(KEY_ACTIONS) as KeyAction[]).filter((a) => (KEY_ACTIONS[a] as readonly Role[]).includes(role)),
        Resource: "*",
      })),
    ],
  },
  null,
  2,
);

// Pure: a bundle that never decides a key policy (the hub's Lambda) leaves it out.
export const DEFAULT_POLICY: CompiledPolicy = /* @__PURE__ */ compilePolicy(DEFAULT_POLICY_TEXT);
