import { KmsError } from "../../shared/errors.js";
import type { Principal, Role } from "../identity/principal.js";

/** The operations Tether authorizes, named as AWS KMS names its actions. */
export type Action = "kms:GenerateRandom";

export type Resource = { tenant: string; keyId?: string };

/** Decides whether a principal may perform an action on a resource; throws AccessDeniedException. */
export interface Authorizer {
  authorize(principal: Principal, action: Action, resource: Resource): Promise<void>;
}

const ROLES_FOR: Record<Action, readonly Role[]> = {
  "kms:GenerateRandom": ["tenantAdmin", "keyAdmin", "keyUser"],
};

/** Role-based authorization within the principal's own tenant (key policies come in [4/7]). */
export class RoleAuthorizer implements Authorizer {
  async authorize(principal: Principal, action: Action, resource: Resource): Promise<void> {
    // Another tenant's resources do not exist for this principal.
    if (resource.tenant !== principal.tenant) throw new KmsError("NotFoundException", "not found");
    if (!principal.roles.some((r) => ROLES_FOR[action].includes(r))) {
      throw new KmsError("AccessDeniedException", `${principal.principalId} is not allowed to perform ${action}`);
    }
  }
}
