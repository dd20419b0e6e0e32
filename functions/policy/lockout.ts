import { KmsError } from "../../shared/errors.js";
import type { Principal } from "../identity/principal.js";
import type { KeyRecord } from "../keys/model.js";
import { compilePolicy, evaluatePolicy } from "./evaluate.js";

/**
 * Validates a policy about to be stored on `key` and, as AWS does, refuses one that would not let
 * the caller change it again (MalformedPolicyDocumentException) unless `bypass` is set.
 */
export function checkNewPolicy(policy: string, principal: Principal, key: Pick<KeyRecord, "arn" | "tags">, bypass: boolean): void {
  const compiled = compilePolicy(policy);
  if (bypass) return;
  const after = evaluatePolicy(compiled, { principal, action: "kms:PutKeyPolicy", resourceArn: key.arn, sourceIp: principal.sourceIp, now: new Date(), resourceTags: key.tags });
  if (after.effect !== "Allow") {
    throw new KmsError("MalformedPolicyDocumentException", "the new policy would not let you change it again; set bypassPolicyLockoutSafetyCheck to store it anyway");
  }
}
