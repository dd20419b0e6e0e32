import { KmsError } from "../../shared/errors.js";
import type { Principal, Role } from "../identity/principal.js";

const MANAGE = ["tenantAdmin", "keyAdmin"] as const;
const USE = ["tenantAdmin", "keyUser"] as const;
const READ = ["tenantAdmin", "keyAdmin", "keyUser", "auditor"] as const;

const ROLES_FOR = {
  "kms:GenerateRandom": ["tenantAdmin", "keyAdmin", "keyUser"],
  "tether:ManageCredentials": ["tenantAdmin"],
  "kms:CreateKey": MANAGE,
  "kms:EnableKey": MANAGE,
  "kms:DisableKey": MANAGE,
  "kms:ScheduleKeyDeletion": MANAGE,
  "kms:CancelKeyDeletion": MANAGE,
  "kms:RotateKeyOnDemand": MANAGE,
  "kms:CreateAlias": MANAGE,
  "kms:UpdateAlias": MANAGE,
  "kms:DeleteAlias": MANAGE,
  "kms:TagResource": MANAGE,
  "kms:UntagResource": MANAGE,
  "kms:UpdateKeyDescription": MANAGE,
  "kms:ExportKey": MANAGE,
  "kms:GetParametersForImport": MANAGE,
  "kms:ImportKeyMaterial": MANAGE,
  "kms:ListAliases": READ,
  "kms:DescribeKey": READ,
  "kms:ListKeys": READ,
  "kms:ListKeyRotations": READ,
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
  "kms:GetPublicKey": READ,
  "kms:GenerateMac": USE,
  "kms:VerifyMac": USE,
} satisfies Record<string, readonly Role[]>;

/** The operations Tether authorizes, named as AWS KMS names its actions. */
export type Action = keyof typeof ROLES_FOR;

export type Resource = { tenant: string; keyId?: string };

/** Decides whether a principal may perform an action on a resource; throws AccessDeniedException. */
export interface Authorizer {
  authorize(principal: Principal, action: Action, resource: Resource): Promise<void>;
}

/** Role-based authorization within the principal's own tenant (key policies come in [4/7]). */
export class RoleAuthorizer implements Authorizer {
  async authorize(principal: Principal, action: Action, resource: Resource): Promise<void> {
    // Another tenant's resources do not exist for this principal.
    if (resource.tenant !== principal.tenant) throw new KmsError("NotFoundException", "not found");
    const allowed: readonly Role[] = ROLES_FOR[action];
    if (!principal.roles.some((r) => allowed.includes(r))) {
      throw new KmsError("AccessDeniedException", `${principal.principalId} is not allowed to perform ${action}`);
    }
  }
}
