import { createRemoteJWKSet, customFetch, decodeJwt, errors, jwtVerify, type JWTPayload } from "jose";
import { isKmsError } from "../../shared/errors.js";
import { dependencyTimeout } from "../deadline.js";
import type { LRUCache } from "lru-cache";
import { boundedLru } from "../lru.js";
import type { OidcConfig, TenantStore } from "../tenants/store.js";
import type { AuthGate } from "./auth-throttle.js";
import type { AuthRequest, AuthScheme } from "./authenticator.js";
import { Role, type Principal } from "./principal.js";
import { AuthFailure } from "./principals.js";
import { publicOnlyFetch } from "./public-fetch.js";

const JWT = /^Bearer (eyJ[A-Za-z0-9_-]{2,4096}\.eyJ[A-Za-z0-9_-]{2,16384}\.[A-Za-z0-9_-]{0,2048})$/;
const refused = (why = "the identity token is invalid or expired") => new AuthFailure("InvalidToken", why);

/** The roles a token's claim grants: an array or a space-separated string, through the tenant's role map or by name. */
export function rolesFrom(claim: unknown, roleMap: OidcConfig["roleMap"]): Role[] {
  const values = Array.isArray(claim) ? claim.filter((v): v is string => typeof v === "string") : typeof claim === "string" ? claim.split(" ") : [];
  const roles = values.map((v) => (roleMap ? roleMap[v] : Role.safeParse(v).data)).filter((r): r is Role => r !== undefined);
  return [...new Set(roles)];
}

/**
 * OIDC identity tokens from a tenant's own identity provider (`Authorization: Bearer <JWT>`).
 * The unverified `iss` only finds the tenant that registered that issuer; the token is then
 * verified by jose against the issuer's JWKS (fetched with a timeout, cached, refreshed on an
 * unknown kid at most every 30 s), the issuer, the audience and the tenant's algorithm allow-list, with 30 s of
 * clock tolerance. The principal is `oidc:<claim>`, its roles come from the roles claim. Finding
 * an issuer's tenant reads the database: it runs through the caller's authentication gate, and an
 * issuer no tenant registered is remembered as such for the config's TTL.
 */
export class OidcScheme implements AuthScheme {
  private readonly configs: LRUCache<string, { tenant: string; oidc: OidcConfig }>;
  private readonly unknownIssuers: LRUCache<string, true>;
  private readonly jwks = new Map<string, ReturnType<typeof createRemoteJWKSet>>();

  private readonly fetchJwks;

  /**
   * `configTtlMs`: how long a tenant's OIDC config is trusted from cache (a change applies
   * everywhere within it). `allowPrivateAddresses` (the dev stage only): a JWKS on loopback or a
   * private network may be fetched; otherwise only public https hosts (see public-fetch.ts).
   */
  constructor(
    private readonly tenants: TenantStore,
    private readonly opts: { configTtlMs: number; allowPrivateAddresses: boolean; timeoutMs?: number; now?: () => number },
  ) {
    this.configs = boundedLru({ max: 1_000, ttl: Math.max(1, opts.configTtlMs), ttlResolution: 0 });
    this.unknownIssuers = boundedLru({ max: 10_000, ttl: Math.max(1, opts.configTtlMs), ttlResolution: 0 });
    this.fetchJwks = publicOnlyFetch({ allowPrivate: opts.allowPrivateAddresses, timeoutMs: opts.timeoutMs ?? 3_000 });
  }

  matches(authorization: string): boolean {
    return JWT.test(authorization);
  }

  credentialIdOf(authorization: string): string {
    try {
      const iss = decodeJwt(JWT.exec(authorization)?.[1] ?? "").iss;
      return typeof iss === "string" ? `oidc:${iss.slice(0, 200)}` : "oidc";
    } catch {
      return "oidc";
    }
  }

  /** Forgets what is cached of an issuer (after a tenant's config changed here). */
  forget(issuer: string): void {
    this.configs.delete(issuer);
    this.unknownIssuers.delete(issuer);
  }

  async authenticate(req: AuthRequest): Promise<Principal> {
    const token = JWT.exec(req.headers.get("authorization") ?? "")?.[1];
    if (!token) throw refused();
    let issuer: unknown;
    try {
      issuer = decodeJwt(token).iss;
    } catch {
      throw refused();
    }
    if (typeof issuer !== "string" || issuer.length > 1024) throw refused();
    const known = await this.configFor(issuer, req.gate);
    if (!known) throw refused("the token's issuer is not registered with any tenant");
    const { tenant, oidc } = known;
    let claims: JWTPayload;
    try {
      ({ payload: claims } = await jwtVerify(token, this.keySet(oidc.jwksUri), {
        issuer: oidc.issuer,
        audience: oidc.audience,
        algorithms: oidc.algorithms,
        clockTolerance: 30,
        requiredClaims: ["exp"],
        ...(this.opts.now ? { currentDate: new Date(this.opts.now()) } : {}),
      }));
    } catch (err) {
      // The issuer's keys could not be fetched in time, or at all: Tether's dependency failed, not the token.
      if (isKmsError(err)) throw err;
      if (err instanceof errors.JWKSTimeout) throw dependencyTimeout("the issuer's JWKS endpoint");
      throw refused();
    }
    const subject = claims[oidc.principalClaim];
    if (typeof subject !== "string" || !subject || subject.length > 256) throw refused(`the token has no ${oidc.principalClaim} claim`);
    return { tenant, principalId: `oidc:${subject}`, roles: rolesFrom(claims[oidc.rolesClaim], oidc.roleMap), credentialId: `oidc:${typeof claims.jti === "string" ? claims.jti.slice(0, 128) : oidc.issuer}` };
  }

  private async configFor(issuer: string, gate: AuthGate): Promise<{ tenant: string; oidc: OidcConfig } | undefined> {
    const hit = this.configs.get(issuer);
    if (hit) return hit;
    if (this.unknownIssuers.has(issuer)) return undefined;
    return gate.run(async () => {
      const tenant = await this.tenants.tenantOfIssuer(issuer);
      const oidc = tenant ? (await this.tenants.get(tenant))?.oidc : undefined;
      if (!tenant || !oidc || oidc.issuer !== issuer) {
        this.unknownIssuers.set(issuer, true);
        return undefined;
      }
      this.configs.set(issuer, { tenant, oidc });
      return { tenant, oidc };
    });
  }

  private keySet(uri: string): ReturnType<typeof createRemoteJWKSet> {
    let set = this.jwks.get(uri);
    if (!set) {
      set = createRemoteJWKSet(new URL(uri), { timeoutDuration: this.opts.timeoutMs ?? 3_000, cooldownDuration: 30_000, [customFetch]: this.fetchJwks });
      this.jwks.set(uri, set);
    }
    return set;
  }
}
