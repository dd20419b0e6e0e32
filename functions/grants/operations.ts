import * as z from "zod";
import { KmsError, type KmsErrorCode } from "../../shared/errors.js";
import { GrantId, GrantPrincipal, GrantToken, KeyRef } from "../contract/fields.js";
import { operation, type AnyOperation } from "../contract/operation.js";
import { GRANT_OPERATIONS } from "../policy/actions.js";
import type { GrantService } from "./service.js";
import { GrantConstraints } from "./store.js";

const GRANT: readonly KmsErrorCode[] = ["NotFoundException"];

/** Grants: made, revoked and retired the same way through every door. */
export const GRANT_MANAGEMENT = {
  CreateGrant: operation({
    name: "CreateGrant",
    action: "kms:CreateGrant",
    summary: "Grant use of a key",
    description:
      "Lets a principal perform some operations on the key, optionally only with a given encryption context, until the grant is retired or revoked. The grant token makes it usable at once.",
    input: {
      keyId: KeyRef,
      granteePrincipal: GrantPrincipal,
      retiringPrincipal: GrantPrincipal.optional(),
      operations: z.array(z.enum(GRANT_OPERATIONS)).min(1).max(GRANT_OPERATIONS.length),
      constraints: GrantConstraints.optional(),
      name: z.string().regex(/^[a-zA-Z0-9:/_-]{1,256}$/).optional(),
    },
    output: { grantId: GrantId, grantToken: GrantToken },
    errors: ["NotFoundException", "KMSInvalidStateException", "LimitExceededException"],
    run: (svc: GrantService, p, { keyId, ...grant }) => svc.create(p, keyId, grant),
  }),
  RevokeGrant: operation({
    name: "RevokeGrant",
    action: "kms:RevokeGrant",
    summary: "Revoke a grant",
    description: "The grant ends at once (key administrators).",
    input: { keyId: KeyRef, grantId: GrantId },
    output: { revoked: GrantId },
    errors: GRANT,
    run: async (svc: GrantService, p, i) => (await svc.revoke(p, i.keyId, i.grantId), { revoked: i.grantId }),
  }),
  RetireGrant: operation({
    name: "RetireGrant",
    action: "kms:RetireGrant",
    summary: "Retire a grant",
    description: "The grant ends, by its token or by key and grant id: for its retiring principal, or a grantee allowed RetireGrant.",
    input: { grantToken: GrantToken.optional(), keyId: KeyRef.optional(), grantId: GrantId.optional() },
    output: { retired: z.literal(true) },
    errors: GRANT,
    audited: () => ({}),
    run: async (svc: GrantService, p, i) => {
      if (i.grantToken) await svc.retire(p, { grantToken: i.grantToken });
      else if (i.keyId && i.grantId) await svc.retire(p, { keyId: i.keyId, grantId: i.grantId });
      else throw new KmsError("ValidationException", "give grantToken, or keyId and grantId");
      return { retired: true as const };
    },
  }),
} satisfies Record<string, AnyOperation<GrantService>>;
