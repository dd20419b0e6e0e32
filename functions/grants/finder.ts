import type { LRUCache } from "lru-cache";
import { boundedLru } from "../lru.js";
import type { EncryptionContext } from "../../shared/crypto/envelope.js";
import type { Principal } from "../identity/principal.js";
import { GRANT_OPERATIONS, type GrantOperation } from "../policy/actions.js";
import type { GrantFinder, KeyAccess } from "../policy/authorizer.js";
import type { GrantConstraints, GrantRecord, GrantStore } from "./store.js";
import { parseGrantToken } from "./tokens.js";

/** The names a principal answers to in a grant: its id, or its AWS-style user/role ARN. */
export const principalNames = (p: Pick<Principal, "tenant" | "principalId">): string[] => [
  p.principalId,
  `arn:aws:iam::${p.tenant}:user/${p.principalId}`,
  `arn:aws:iam::${p.tenant}:role/${p.principalId}`,
];

export function satisfies(constraints: GrantConstraints | undefined, context: EncryptionContext | undefined): boolean {
  if (!constraints) return true;
  const given = context ?? {};
  const { encryptionContextEquals: equals, encryptionContextSubset: subset } = constraints;
  if (equals && (Object.keys(equals).length !== Object.keys(given).length || Object.entries(equals).some(([k, v]) => given[k] !== v))) return false;
  if (subset && Object.entries(subset).some(([k, v]) => given[k] !== v)) return false;
  return true;
}

const applies = (g: GrantRecord, access: KeyAccess, operation: GrantOperation): boolean =>
  principalNames(access.principal).includes(g.granteePrincipal) && g.operations.includes(operation) && satisfies(g.constraints, access.encryptionContext);

/**
 * Finds the grant that allows an access: among the key's grants (cached per instance for the
 * metadata TTL, so a new or revoked grant applies everywhere within that bound) and the grants
 * the request's grant tokens name (read consistently: usable at once).
 */
export class CachedGrantFinder {
  private readonly byKey: LRUCache<string, GrantRecord[]>;

  constructor(
    private readonly store: GrantStore,
    opts: { ttlMs: number; maxKeys: number },
  ) {
    this.byKey = boundedLru({ max: opts.maxKeys, ttl: Math.max(1, opts.ttlMs), ttlResolution: 0 });
  }

  readonly find: GrantFinder = async (access) => {
    const operation = access.action.slice("kms:".length) as GrantOperation;
    if (!GRANT_OPERATIONS.includes(operation)) return undefined;
    const { tenant, keyId } = access.key;
    for (const token of access.principal.grantTokens ?? []) {
      const ref = parseGrantToken(token);
      if (!ref || ref.tenant !== tenant || ref.keyId !== keyId) continue;
      const grant = await this.store.get(tenant, keyId, ref.grantId);
      if (grant && applies(grant, access, operation)) return grant;
    }
    return (await this.grantsOf(tenant, keyId)).find((g) => applies(g, access, operation));
  };

  /** Forgets what this instance knows of a key's grants (after a change made here). */
  forget(tenant: string, keyId: string): void {
    this.byKey.delete(`${tenant}/${keyId}`);
  }

  private async grantsOf(tenant: string, keyId: string): Promise<GrantRecord[]> {
    const id = `${tenant}/${keyId}`;
    const hit = this.byKey.get(id);
    if (hit) return hit;
    const grants = await this.store.listForKey(tenant, keyId);
    this.byKey.set(id, grants);
    return grants;
  }
}
