import { loadingLru } from "../lru.js";
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

type Credential = { tenant: string; principalId: string; credentialId: string };

/**
 * A credential's principal with its CURRENT roles, read from the principal record and kept for a
 * short time (`ttlMs`): a role change or a deleted principal applies within that bound everywhere,
 * and at once on the instance that made the change (`forget`). One read per expiry, however many
 * requests arrive meanwhile.
 */
export class PrincipalDirectory {
  private readonly principals;

  constructor(store: IdentityStore, opts: { ttlMs: number; max: number } = { ttlMs: 60_000, max: 10_000 }) {
    this.principals = loadingLru<string, Principal, Credential>({
      max: opts.max,
      ttl: opts.ttlMs,
      load: async (_id, { tenant, principalId, credentialId }) => {
        const record = await store.getPrincipal(tenant, principalId);
        if (!record) throw new AuthFailure("UnrecognizedClient");
        return { tenant, principalId, roles: record.roles, credentialId };
      },
    });
  }

  principalFor(tenant: string, principalId: string, credentialId: string): Promise<Principal> {
    return this.principals.get(`${tenant}/${principalId}/${credentialId}`, { tenant, principalId, credentialId });
  }

  /** Forgets what this instance knows of a principal (after a change made here). */
  forget(tenant: string, principalId: string): void {
    for (const key of this.principals.cache.keys()) if (key.startsWith(`${tenant}/${principalId}/`)) this.principals.cache.delete(key);
  }
}
