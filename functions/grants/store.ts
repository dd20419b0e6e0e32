import * as z from "zod";
import { TenantId } from "../identity/principal.js";
import { GRANT_OPERATIONS } from "../policy/actions.js";

export const EncryptionContextConstraint = z.record(z.string().min(1).max(384), z.string().max(384)).refine((c) => Object.keys(c).length <= 64, "at most 64 pairs");

export const GrantConstraints = z
  .object({
    /** The request's encryption context must be exactly this. */
    encryptionContextEquals: EncryptionContextConstraint.optional(),
    /** The request's encryption context must include these pairs (it may have more). */
    encryptionContextSubset: EncryptionContextConstraint.optional(),
  })
  .strict();
export type GrantConstraints = z.infer<typeof GrantConstraints>;

/** A grant: lets one principal perform some operations on one key, optionally only with a given encryption context. */
export const GrantRecord = z.object({
  tenant: TenantId,
  keyId: z.uuid(),
  grantId: z.string().regex(/^[0-9a-f]{32}$/),
  name: z.string().optional(),
  granteePrincipal: z.string(),
  retiringPrincipal: z.string().optional(),
  operations: z.array(z.enum(GRANT_OPERATIONS)),
  constraints: GrantConstraints.optional(),
  issuingPrincipal: z.string(),
  createdAt: z.string(),
});
export type GrantRecord = z.infer<typeof GrantRecord>;

export type GrantPage = { grants: GrantRecord[]; cursor?: string };

/** Grants, kept with their key. */
export interface GrantStore {
  create(grant: GrantRecord): Promise<void>;
  get(tenant: string, keyId: string, grantId: string): Promise<GrantRecord | undefined>;
  /** Every grant on the key (the authorizer's view; a key has at most a few thousand). */
  listForKey(tenant: string, keyId: string): Promise<GrantRecord[]>;
  /** Grants the principal may retire, across the tenant's keys. */
  listRetirable(tenant: string, retiringPrincipal: string): Promise<GrantRecord[]>;
  /** Removes the grant; false if it did not exist. */
  delete(tenant: string, keyId: string, grantId: string): Promise<boolean>;
}
