import type { Role } from "../identity/principal.js";

const MANAGE = ["tenantAdmin", "keyAdmin"] as const;
const USE = ["tenantAdmin", "keyUser"] as const;
const READ = ["tenantAdmin", "keyAdmin", "keyUser", "auditor"] as const;

/**
 * Actions on one key: decided by the key's policy (and grants). The roles here are who the
 * DEFAULT key policy lets do each (see default-policy.ts); a key's own policy may say otherwise.
 */
export const KEY_ACTIONS = {
  "kms:DescribeKey": READ,
  "kms:ListKeyRotations": READ,
  "kms:GetKeyRotationStatus": READ,
  "kms:GetPublicKey": READ,
  "kms:GetKeyPolicy": READ,
  "kms:ListKeyPolicies": READ,
  "kms:ListGrants": READ,
  "kms:EnableKey": MANAGE,
  "kms:DisableKey": MANAGE,
  "kms:ScheduleKeyDeletion": MANAGE,
  "kms:CancelKeyDeletion": MANAGE,
  "kms:RotateKeyOnDemand": MANAGE,
  "kms:EnableKeyRotation": MANAGE,
  "kms:DisableKeyRotation": MANAGE,
  "kms:CreateAlias": MANAGE,
  "kms:UpdateAlias": MANAGE,
  "kms:DeleteAlias": MANAGE,
  "kms:TagResource": MANAGE,
  "kms:UntagResource": MANAGE,
  "kms:UpdateKeyDescription": MANAGE,
  "kms:ExportKey": MANAGE,
  "kms:GetParametersForImport": MANAGE,
  "kms:ImportKeyMaterial": MANAGE,
  "kms:DeleteImportedKeyMaterial": MANAGE,
  "kms:PutKeyPolicy": MANAGE,
  "kms:CreateGrant": MANAGE,
  "kms:RevokeGrant": MANAGE,
  "kms:RetireGrant": MANAGE,
  "kms:Encrypt": USE,
  "kms:Decrypt": USE,
  "kms:ReEncryptFrom": USE,
  "kms:ReEncryptTo": USE,
  "kms:GenerateDataKey": USE,
  "kms:GenerateDataKeyWithoutPlaintext": USE,
  "kms:GenerateDataKeyPair": USE,
  "kms:GenerateDataKeyPairWithoutPlaintext": USE,
  "kms:Sign": USE,
  "kms:Verify": USE,
  "kms:GenerateMac": USE,
  "kms:VerifyMac": USE,
} satisfies Record<string, readonly Role[]>;

/** Actions on the tenant as a whole: decided by the caller's roles. */
export const TENANT_ACTIONS = {
  "kms:CreateKey": MANAGE,
  "kms:ListKeys": READ,
  "kms:ListAliases": READ,
  "kms:ListRetirableGrants": READ,
  "kms:GenerateRandom": ["tenantAdmin", "keyAdmin", "keyUser"],
  "tether:ManageCredentials": ["tenantAdmin"],
  "tether:ManageXksKeyStores": ["tenantAdmin"],
  "tether:SimulatePolicy": ["tenantAdmin", "keyAdmin", "auditor"],
  "tether:ReadAudit": ["tenantAdmin", "auditor"],
  "tether:ReadTenant": READ,
  "tether:ReadHealth": ["tenantAdmin", "auditor"],
} satisfies Record<string, readonly Role[]>;

export type KeyAction = keyof typeof KEY_ACTIONS;
export type TenantAction = keyof typeof TENANT_ACTIONS;
export type Action = KeyAction | TenantAction;

export const isKeyAction = (action: string): action is KeyAction => Object.hasOwn(KEY_ACTIONS, action);

/** Whether these roles allow a key action: what the account root delegates to in a key policy (AWS's IAM policies). */
export const rolesAllow = (roles: readonly Role[], action: string): boolean => {
  const allowed = ROLES_BY_ACTION.get(action.toLowerCase()) ?? [];
  return roles.some((r) => allowed.includes(r));
};
const ROLES_BY_ACTION = new Map<string, readonly Role[]>(Object.entries(KEY_ACTIONS).map(([a, roles]) => [a.toLowerCase(), roles]));

/**
 * Actions that change state. A request for one is recorded in the audit trail, durably, before it
 * changes anything (an "intent" record), so that no change happens unrecorded.
 */
export const STATE_CHANGING: ReadonlySet<string> = new Set([
  "kms:CreateKey",
  "kms:UpdateKeyDescription",
  "kms:EnableKey",
  "kms:DisableKey",
  "kms:ScheduleKeyDeletion",
  "kms:CancelKeyDeletion",
  "kms:DeleteKey",
  "kms:CreateAlias",
  "kms:UpdateAlias",
  "kms:DeleteAlias",
  "kms:TagResource",
  "kms:UntagResource",
  "kms:EnableKeyRotation",
  "kms:DisableKeyRotation",
  "kms:RotateKeyOnDemand",
  "kms:PutKeyPolicy",
  "kms:CreateGrant",
  "kms:RevokeGrant",
  "kms:RetireGrant",
  "kms:ImportKeyMaterial",
  "kms:DeleteImportedKeyMaterial",
  "tether:CreatePrincipal",
  "tether:UpdatePrincipal",
  "tether:DeletePrincipal",
  "tether:CreateApiKey",
  "tether:DeleteApiKey",
  "tether:CreateAccessKey",
  "tether:DeleteAccessKey",
  "tether:CreateSessionToken",
  "tether:CreateTenant",
  "tether:SetOidcProvider",
  "tether:CreateXksKeyStore",
  "tether:DeleteXksKeyStore",
  "tether:CreateXksCredential",
  "tether:DeleteXksCredential",
]);

/** Operations a grant may allow (AWS's names, without the `kms:` prefix). */
export const GRANT_OPERATIONS = [
  "Encrypt",
  "Decrypt",
  "ReEncryptFrom",
  "ReEncryptTo",
  "GenerateDataKey",
  "GenerateDataKeyWithoutPlaintext",
  "GenerateDataKeyPair",
  "GenerateDataKeyPairWithoutPlaintext",
  "Sign",
  "Verify",
  "GenerateMac",
  "VerifyMac",
  "GetPublicKey",
  "DescribeKey",
  "CreateGrant",
  "RetireGrant",
] as const;
export type GrantOperation = (typeof GRANT_OPERATIONS)[number];

/** Operations that take an encryption context: the only ones a grant with context constraints may allow. */
const WITHOUT_CONTEXT: readonly GrantOperation[] = ["Sign", "Verify", "GenerateMac", "VerifyMac", "GetPublicKey", "DescribeKey"];
export const CONTEXT_OPERATIONS: ReadonlySet<GrantOperation> = new Set(GRANT_OPERATIONS.filter((op) => !WITHOUT_CONTEXT.includes(op)));
