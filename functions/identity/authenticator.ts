import { createHash } from "node:crypto";
import { LRUCache } from "lru-cache";
import { KmsError } from "../../shared/errors.js";
import { parseApiKey, verifyApiKeySecret } from "./api-keys.js";
import type { Principal } from "./principal.js";
import type { IdentityStore } from "./store.js";

/** Turns a request's credential into a Principal, or throws AuthenticationFailedException. */
export interface Authenticator {
  authenticate(authorization: string | undefined): Promise<Principal>;
}

const failed = () => new KmsError("AuthenticationFailedException", "missing or invalid credentials");

/**
 * API keys sent as `Authorization: Bearer tth_…`. The slow hash is checked once per key and
 * the result kept (keyed by a SHA-256 of the whole token) for a short time, so a steady
 * client pays for scrypt once per `verifiedTtlMs`, not per request.
 */
export class ApiKeyAuthenticator implements Authenticator {
  private readonly verified: LRUCache<string, Principal>;

  constructor(
    private readonly store: IdentityStore,
    opts: { verifiedTtlMs: number; maxVerified: number } = { verifiedTtlMs: 60_000, maxVerified: 10_000 },
  ) {
    this.verified = new LRUCache({ max: opts.maxVerified, ttl: opts.verifiedTtlMs });
  }

  /** Drops every cached verification of this API key (after a revocation). */
  forget(apiKeyId: string): void {
    for (const [fingerprint, principal] of this.verified.entries()) if (principal.credentialId === apiKeyId) this.verified.delete(fingerprint);
  }

  async authenticate(authorization: string | undefined): Promise<Principal> {
    const token = /^Bearer (\S+)$/.exec(authorization ?? "")?.[1];
    const parsed = token ? parseApiKey(token) : undefined;
    if (!token || !parsed) throw failed();
    const fingerprint = createHash("sha256").update(token).digest("base64");
    const known = this.verified.get(fingerprint);
    if (known) return known;
    const record = await this.store.getApiKey(parsed.id);
    if (!record || !(await verifyApiKeySecret(parsed.secret, record))) throw failed();
    const principal: Principal = { tenant: record.tenant, principalId: record.principalId, roles: record.roles, credentialId: record.id };
    this.verified.set(fingerprint, principal);
    return principal;
  }
}
