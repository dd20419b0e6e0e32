import { KmsError } from "../../shared/errors.js";
import type { KeyWrapping } from "../../shared/hsm/port.js";
import type { Authorizer } from "../policy/authorizer.js";
import { hashApiKeySecret, newApiKey } from "./api-keys.js";
import type { ApiKeyScheme } from "./authenticator.js";
import type { Principal, Role } from "./principal.js";
import type { PrincipalDirectory } from "./principals.js";
import { issueSessionToken, type MintingCredentials, type SessionTokenKeys } from "./session-tokens.js";
import { issueAccessKey, type SigV4Scheme } from "./sigv4.js";
import type { ApiKeyRecord, IdentityStore, PrincipalRecord } from "./store.js";

export type ApiKeyView = Omit<ApiKeyRecord, "salt" | "hash" | "params">;
const view = ({ salt: _s, hash: _h, params: _p, ...rest }: ApiKeyRecord): ApiKeyView => rest;

export type PrincipalInput = { principalId: string; kind: PrincipalRecord["kind"]; roles: Role[]; description?: string | undefined };

/**
 * A tenant's principals (users, roles, services, each with roles) and their credentials: API
 * keys (secret shown once, scrypt hash kept), SigV4 access keys (secret shown once, kept wrapped
 * by the HSM root key) and 15-minute session tokens. Tenant admins manage; anyone authenticated
 * (except with a session token) may exchange their credential for a session token.
 */
export class IdentityService {
  constructor(
    private readonly store: IdentityStore,
    private readonly authorizer: Authorizer,
    private readonly hsm: KeyWrapping,
    private readonly directory: PrincipalDirectory,
    private readonly schemes: { apiKeys: ApiKeyScheme; sigv4: SigV4Scheme; tokenKeys: SessionTokenKeys; minting: MintingCredentials },
  ) {}

  async createPrincipal(caller: Principal, input: PrincipalInput): Promise<PrincipalRecord> {
    await this.manage(caller);
    const record: PrincipalRecord = { tenant: caller.tenant, principalId: input.principalId, kind: input.kind, roles: input.roles, description: input.description ?? "", createdAt: new Date().toISOString() };
    await this.store.createPrincipal(record);
    return record;
  }

  async listPrincipals(caller: Principal): Promise<PrincipalRecord[]> {
    await this.manage(caller);
    return this.store.listPrincipals(caller.tenant);
  }

  async getPrincipal(caller: Principal, principalId: string): Promise<PrincipalRecord> {
    await this.manage(caller);
    return this.existing(caller.tenant, principalId);
  }

  /** New roles apply at once on this instance, within the principal cache's age (60 s) elsewhere. */
  async updatePrincipal(caller: Principal, principalId: string, change: { roles?: Role[] | undefined; description?: string | undefined }): Promise<PrincipalRecord> {
    await this.manage(caller);
    const current = await this.existing(caller.tenant, principalId);
    const next = { ...current, ...(change.roles ? { roles: change.roles } : {}), ...(change.description !== undefined ? { description: change.description } : {}) };
    await this.store.updatePrincipal(next);
    this.directory.forget(caller.tenant, principalId);
    return next;
  }

  /** Deletes the principal and every credential it holds. */
  async deletePrincipal(caller: Principal, principalId: string): Promise<void> {
    await this.manage(caller);
    if (principalId === caller.principalId) throw new KmsError("ValidationException", "a principal cannot delete itself");
    await this.existing(caller.tenant, principalId);
    const accessKeys = (await this.store.listAccessKeys(caller.tenant)).filter((k) => k.principalId === principalId);
    if (accessKeys.some((k) => k.service)) throw new KmsError("ValidationException", `principal ${principalId} is an XKS key store's: delete the key store through /v1/xks-key-stores`);
    for (const k of (await this.store.listApiKeys(caller.tenant)).filter((k) => k.principalId === principalId)) await this.revokeApiKey(caller.tenant, k.id);
    for (const k of accessKeys) await this.revokeAccessKey(caller.tenant, k.accessKeyId);
    await this.store.deletePrincipal(caller.tenant, principalId);
    this.directory.forget(caller.tenant, principalId);
  }

  async createApiKey(caller: Principal, input: { principalId: string }): Promise<{ apiKey: ApiKeyView; token: string }> {
    await this.manage(caller);
    await this.existing(caller.tenant, input.principalId);
    const key = newApiKey();
    const record: ApiKeyRecord = { id: key.id, tenant: caller.tenant, principalId: input.principalId, ...(await hashApiKeySecret(key.secret)), createdAt: new Date().toISOString() };
    await this.store.putApiKey(record);
    return { apiKey: view(record), token: key.token };
  }

  async listApiKeys(caller: Principal): Promise<ApiKeyView[]> {
    await this.manage(caller);
    return (await this.store.listApiKeys(caller.tenant)).map(view);
  }

  /** Revokes at once on this instance; other instances stop accepting it within the verified-key cache age (60 s). */
  async deleteApiKey(caller: Principal, id: string): Promise<void> {
    await this.manage(caller);
    if (!/^[0-9a-f]{16}$/.test(id)) throw new KmsError("NotFoundException", `API key ${id.slice(0, 32)} does not exist`);
    if (id === caller.credentialId) throw new KmsError("ValidationException", "a credential cannot revoke itself");
    await this.revokeApiKey(caller.tenant, id);
  }

  async createAccessKey(caller: Principal, input: { principalId: string }, call: { requestId: string; deadline: number }) {
    await this.manage(caller);
    await this.existing(caller.tenant, input.principalId);
    return issueAccessKey(this.store, this.hsm, { tenant: caller.tenant, principalId: input.principalId }, call);
  }

  async listAccessKeys(caller: Principal) {
    await this.manage(caller);
    return (await this.store.listAccessKeys(caller.tenant)).map(({ accessKeyId, principalId, createdAt }) => ({ accessKeyId, principalId, createdAt }));
  }

  async deleteAccessKey(caller: Principal, accessKeyId: string): Promise<void> {
    await this.manage(caller);
    if (!/^TTHA[A-Z2-7]{16}$/.test(accessKeyId)) throw new KmsError("NotFoundException", `access key ${accessKeyId.slice(0, 32)} does not exist`);
    if (accessKeyId === caller.credentialId) throw new KmsError("ValidationException", "a credential cannot revoke itself");
    // An XKS key store's credential is its store's to revoke (whose door caches it), not this API's.
    if ((await this.store.getAccessKey(accessKeyId))?.service) throw new KmsError("ValidationException", `access key ${accessKeyId} belongs to an XKS key store: delete it through /v1/xks-key-stores`);
    await this.revokeAccessKey(caller.tenant, accessKeyId);
  }

  /** A 15-minute session token for the caller; a session token cannot be exchanged for another (no endless renewal). */
  async issueToken(caller: Principal): Promise<{ token: string; expiresAt: string }> {
    if (caller.credentialId.startsWith("token:")) throw new KmsError("AccessDeniedException", "a session token cannot be exchanged for another");
    return issueSessionToken(this.schemes.tokenKeys, caller);
  }

  private async revokeApiKey(tenant: string, id: string): Promise<void> {
    await this.store.deleteApiKey(tenant, id);
    this.schemes.apiKeys.forget(id);
    this.schemes.minting.forget(tenant, id);
  }

  private async revokeAccessKey(tenant: string, accessKeyId: string): Promise<void> {
    await this.store.deleteAccessKey(tenant, accessKeyId);
    this.schemes.sigv4.forget(accessKeyId);
    this.schemes.minting.forget(tenant, accessKeyId);
  }

  private manage(caller: Principal): Promise<void> {
    return this.authorizer.authorize(caller, "tether:ManageCredentials", { tenant: caller.tenant });
  }

  private async existing(tenant: string, principalId: string): Promise<PrincipalRecord> {
    const record = await this.store.getPrincipal(tenant, principalId);
    if (!record) throw new KmsError("NotFoundException", `principal ${principalId.slice(0, 128)} does not exist`);
    return record;
  }
}
