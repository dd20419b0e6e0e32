import type { LRUCache } from "lru-cache";
import { boundedLru } from "../lru.js";
import { KmsError } from "../../shared/errors.js";
import type { Principal } from "./principal.js";
import type { IdentityStore } from "./store.js";

/** Why an authentication failed, for the AWS protocol's error names; the message never says more than the caller knows. */
export type AuthFailureReason = "MissingAuthenticationToken" | "UnrecognizedClient" | "IncompleteSignature" | "InvalidSignature" | "SignatureExpired" | "InvalidRegion" | "Replayed" | "InvalidToken";

export class AuthFailure extends KmsError {
  constructor(
    readonly reason: AuthFailureReason,
    message = "missing or invalid credentials",
  ) {
    super("AuthenticationFailedException", message);
  }
}

/**
 * A credential's principal with its CURRENT roles, read from the principal record and kept for a
 * short time (`ttlMs`): a role change or a deleted principal applies within that bound everywhere,
 * and at once on the instance that made the change (`forget`).
 */
export class PrincipalDirectory {
  private readonly cache: LRUCache<string, Principal>;

  constructor(
    private readonly store: IdentityStore,
    opts: { ttlMs: number; max: number } = { ttlMs: 60_000, max: 10_000 },
  ) {
    this.cache = boundedLru({ max: opts.max, ttl: opts.ttlMs });
  }

  async principalFor(tenant: string, principalId: string, credentialId: string): Promise<Principal> {
    const id = `${tenant}/${principalId}/${credentialId}`;
    const hit = this.cache.get(id);
    if (hit) return hit;
    const record = await this.store.getPrincipal(tenant, principalId);
    if (!record) throw new AuthFailure("UnrecognizedClient");
    const principal: Principal = { tenant, principalId, roles: record.roles, credentialId };
    this.cache.set(id, principal);
    return principal;
  }

  /** Forgets what this instance knows of a principal (after a change made here). */
  forget(tenant: string, principalId: string): void {
    for (const key of this.cache.keys()) if (key.startsWith(`${tenant}/${principalId}/`)) this.cache.delete(key);
  }
}
