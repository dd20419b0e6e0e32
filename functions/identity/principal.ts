import * as z from "zod";

export const Role = z.enum(["tenantAdmin", "keyAdmin", "keyUser", "auditor"]);
export type Role = z.infer<typeof Role>;

export const TenantId = z.string().regex(/^\d{12}$/, "a 12-digit account id");

/**
 * Who is calling (established by authentication), with the facts of this one request that key
 * policies and grants look at (set per request by the auth middleware).
 */
export type Principal = {
  tenant: string;
  principalId: string;
  roles: readonly Role[];
  /** The credential that authenticated this request (API key id, access key id, …). */
  credentialId: string;
  /** Where this request came from (aws:SourceIp). */
  sourceIp?: string;
  /** Grant tokens the request carries (X-Tether-Grant-Tokens, or the AWS protocol's GrantTokens). */
  grantTokens?: readonly string[];
  /** The keys this request resolved (by id), whatever named them: its audit record lists them. */
  keysUsed?: Set<string>;
  /** A call from AWS KMS to an XKS key store: what AWS says of it, for key policies' `xks:*` conditions. */
  xks?: XksFacts;
};

/** The `xks:*` condition keys: requestMetadata as AWS KMS sends it to an XKS proxy. */
export type XksFacts = Partial<Record<"AwsPrincipalArn" | "KmsOperation" | "KmsKeyArn" | "KmsViaService" | "AwsSourceVpc" | "AwsSourceVpce", string>>;
