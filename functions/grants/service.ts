import { randomBytes } from "node:crypto";
import { KmsError } from "../../shared/errors.js";
import type { Principal } from "../identity/principal.js";
import type { KeyDirectory } from "../keys/directory.js";
import { CONTEXT_OPERATIONS, type GrantOperation } from "../policy/actions.js";
import type { Authorizer } from "../policy/authorizer.js";
import { principalNames, type CachedGrantFinder } from "./finder.js";
import type { GrantConstraints, GrantRecord, GrantStore } from "./store.js";
import { grantTokenFor, parseGrantToken } from "./tokens.js";

export type CreateGrantInput = {
  granteePrincipal: string;
  retiringPrincipal?: string | undefined;
  operations: GrantOperation[];
  constraints?: GrantConstraints | undefined;
  name?: string | undefined;
};

const MAX_GRANTS_PER_KEY = 50_000;

/**
 * Grants: create, list, revoke (key admins), retire (the retiring principal, a grantee allowed to
 * RetireGrant, or whoever the key policy lets). A change applies at once on this instance and
 * within the metadata TTL elsewhere; a grant token makes a new grant usable at once everywhere.
 */
export class GrantService {
  constructor(
    private readonly store: GrantStore,
    private readonly keys: KeyDirectory,
    private readonly authorizer: Authorizer,
    private readonly finder: CachedGrantFinder,
  ) {}

  async create(principal: Principal, keyId: string, input: CreateGrantInput): Promise<{ grantId: string; grantToken: string }> {
    const { key, decision } = await this.keys.access(principal, keyId, "kms:CreateGrant");
    if (input.constraints && input.operations.some((op) => !CONTEXT_OPERATIONS.has(op))) {
      throw new KmsError("ValidationException", "encryption-context constraints only fit operations that take an encryption context");
    }
    if (decision.decidedBy.kind === "grant") {
      // A grantee may delegate no more than its own grant allows.
      const parent = await this.store.get(key.tenant, key.keyId, decision.decidedBy.grantId);
      if (!parent || input.operations.some((op) => !parent.operations.includes(op))) throw new KmsError("AccessDeniedException", "a grant can only delegate operations of the grant it was created under");
    }
    if ((await this.store.listForKey(key.tenant, key.keyId)).length >= MAX_GRANTS_PER_KEY) throw new KmsError("LimitExceededException", `a key has at most ${MAX_GRANTS_PER_KEY} grants`);
    const grant: GrantRecord = {
      tenant: key.tenant,
      keyId: key.keyId,
      grantId: randomBytes(16).toString("hex"),
      granteePrincipal: input.granteePrincipal,
      operations: [...new Set(input.operations)],
      issuingPrincipal: principal.principalId,
      createdAt: new Date().toISOString(),
      ...(input.name ? { name: input.name } : {}),
      ...(input.retiringPrincipal ? { retiringPrincipal: input.retiringPrincipal } : {}),
      ...(input.constraints ? { constraints: input.constraints } : {}),
    };
    await this.store.create(grant);
    this.finder.forget(key.tenant, key.keyId);
    return { grantId: grant.grantId, grantToken: grantTokenFor(grant) };
  }

  async list(principal: Principal, keyId: string): Promise<GrantRecord[]> {
    const key = await this.keys.authorized(principal, keyId, "kms:ListGrants");
    return this.store.listForKey(key.tenant, key.keyId);
  }

  async revoke(principal: Principal, keyId: string, grantId: string): Promise<void> {
    const key = await this.keys.authorized(principal, keyId, "kms:RevokeGrant");
    await this.remove(key.tenant, key.keyId, grantId);
  }

  /** Retires a grant named by its token, or by key and grant id. */
  async retire(principal: Principal, ref: { grantToken: string } | { keyId: string; grantId: string }): Promise<void> {
    const named = "grantToken" in ref ? parseGrantToken(ref.grantToken) : { tenant: principal.tenant, keyId: ref.keyId, grantId: ref.grantId };
    if (!named || named.tenant !== principal.tenant) throw new KmsError("NotFoundException", "no such grant");
    const grant = /^[0-9a-f]{32}$/.test(named.grantId) ? await this.store.get(principal.tenant, named.keyId, named.grantId).catch(() => undefined) : undefined;
    if (!grant) throw new KmsError("NotFoundException", "no such grant");
    const names = principalNames(principal);
    const mayRetire =
      (grant.retiringPrincipal !== undefined && names.includes(grant.retiringPrincipal)) ||
      (names.includes(grant.granteePrincipal) && grant.operations.includes("RetireGrant")) ||
      (await this.keys.access(principal, grant.keyId, "kms:RetireGrant").then(
        () => true,
        () => false,
      ));
    if (!mayRetire) throw new KmsError("AccessDeniedException", `${principal.principalId} may not retire grant ${grant.grantId}`);
    await this.remove(grant.tenant, grant.keyId, grant.grantId);
  }

  async listRetirable(principal: Principal, retiringPrincipal: string): Promise<GrantRecord[]> {
    await this.authorizer.authorize(principal, "kms:ListRetirableGrants", { tenant: principal.tenant });
    return this.store.listRetirable(principal.tenant, retiringPrincipal);
  }

  private async remove(tenant: string, keyId: string, grantId: string): Promise<void> {
    if (!/^[0-9a-f]{32}$/.test(grantId) || !(await this.store.delete(tenant, keyId, grantId))) throw new KmsError("NotFoundException", `no grant ${grantId.slice(0, 64)} on key ${keyId}`);
    this.finder.forget(tenant, keyId);
  }
}
