import * as z from "zod";
import { Role, TenantId } from "../identity/principal.js";

/** A URL an OIDC issuer or JWKS may have: https, or http on the loopback interface only (local tests). */
const TrustedUrl = z
  .string()
  .max(1024)
  .refine((u) => {
    const url = URL.parse(u);
    return url !== null && (url.protocol === "https:" || (url.protocol === "http:" && ["127.0.0.1", "localhost", "[::1]"].includes(url.hostname)));
  }, "an https URL (http only on 127.0.0.1 or localhost)");

/** How a tenant's identity provider's tokens are verified and mapped to a principal and roles. */
export const OidcConfig = z
  .object({
    issuer: TrustedUrl.meta({ examples: ["https://login.example.com/"] }),
    jwksUri: TrustedUrl.meta({ examples: ["https://login.example.com/.well-known/jwks.json"] }),
    audience: z.string().min(1).max(256).meta({ examples: ["tether"] }),
    principalClaim: z.string().regex(/^[A-Za-z0-9_:.-]{1,64}$/).default("sub"),
    rolesClaim: z.string().regex(/^[A-Za-z0-9_:.-]{1,64}$/).default("tether_roles"),
    /** Claim value → role (e.g. a group name); absent: role names are taken as they are. */
    roleMap: z.record(z.string().min(1).max(256), Role).refine((m) => Object.keys(m).length <= 100, "at most 100 entries").optional(),
    algorithms: z.array(z.enum(["RS256", "RS384", "RS512", "PS256", "PS384", "PS512", "ES256", "ES384", "EdDSA"])).min(1).max(9).default(["RS256", "ES256", "PS256"]),
  })
  .strict();
export type OidcConfig = z.infer<typeof OidcConfig>;

export const TenantRecord = z.object({
  tenantId: TenantId,
  name: z.string(),
  createdAt: z.string(),
  oidc: OidcConfig.optional(),
});
export type TenantRecord = z.infer<typeof TenantRecord>;

/** Tenants and the registry of OIDC issuers (an issuer belongs to one tenant). */
export interface TenantStore {
  get(tenantId: string): Promise<TenantRecord | undefined>;
  /** Creates the tenant; false if the id is taken. */
  create(record: TenantRecord): Promise<boolean>;
  list(): Promise<TenantRecord[]>;
  /**
   * Sets (or with `undefined` removes) the tenant's OIDC config and moves its issuer's registry
   * entry with it, in one transaction; AlreadyExistsException if another tenant has the issuer.
   */
  setOidc(tenant: TenantRecord, oidc: OidcConfig | undefined): Promise<void>;
  tenantOfIssuer(issuer: string): Promise<string | undefined>;
}
