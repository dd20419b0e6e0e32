import { z } from "zod";

export const Role = z.enum(["tenantAdmin", "keyAdmin", "keyUser", "auditor"]);
export type Role = z.infer<typeof Role>;

export const TenantId = z.string().regex(/^\d{12}$/, "a 12-digit account id");

/** Who is calling: established by authentication, used by authorization and audit. */
export type Principal = {
  tenant: string;
  principalId: string;
  roles: readonly Role[];
  /** The credential that authenticated this request (API key id, access key id, …). */
  credentialId: string;
  /** Where this request came from (set per request by the auth middleware; key policies test it). */
  sourceIp?: string;
};
