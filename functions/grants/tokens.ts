import * as z from "zod";

/**
 * Grant tokens name a grant so that it can be used at once, before every instance's grant cache
 * has seen it (AWS's eventual-consistency escape hatch). A token is a reference, not a credential:
 * the grant it names is read from the database and must still apply to the caller.
 */
const TokenBody = z.object({ t: z.string().regex(/^\d{12}$/), k: z.uuid(), g: z.string().regex(/^[0-9a-f]{32}$/) }).strict();
export type GrantRef = { tenant: string; keyId: string; grantId: string };

export const MAX_GRANT_TOKENS = 10;

export const grantTokenFor = (g: GrantRef): string => `tgt_${Buffer.from(JSON.stringify({ t: g.tenant, k: g.keyId, g: g.grantId })).toString("base64url")}`;

/** The grant a token names, or undefined for anything that is not a well-formed token. */
export function parseGrantToken(token: string): GrantRef | undefined {
  if (!token.startsWith("tgt_") || token.length > 512) return undefined;
  try {
    const body = TokenBody.safeParse(JSON.parse(Buffer.from(token.slice(4), "base64url").toString("utf8")));
    return body.success ? { tenant: body.data.t, keyId: body.data.k, grantId: body.data.g } : undefined;
  } catch {
    return undefined;
  }
}
