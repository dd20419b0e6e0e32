import { KmsError } from "../../shared/errors.js";
import type { Authorizer } from "../policy/authorizer.js";
import { hashApiKeySecret, newApiKey } from "./api-keys.js";
import type { ApiKeyScheme } from "./authenticator.js";
import type { Principal, Role } from "./principal.js";
import type { ApiKeyRecord, IdentityStore } from "./store.js";

export type ApiKeyView = Omit<ApiKeyRecord, "salt" | "hash" | "params">;

const view = ({ salt: _s, hash: _h, params: _p, ...rest }: ApiKeyRecord): ApiKeyView => rest;

/** API keys of the caller's tenant: the secret is shown once, at creation; only its scrypt hash is kept. */
export class IdentityService {
  constructor(
    private readonly store: IdentityStore,
    private readonly authorizer: Authorizer,
    private readonly apiKeys: ApiKeyScheme,
  ) {}

  async createApiKey(principal: Principal, input: { principalId: string; roles: Role[] }): Promise<{ apiKey: ApiKeyView; token: string }> {
    await this.authorizer.authorize(principal, "tether:ManageCredentials", { tenant: principal.tenant });
    const key = newApiKey();
    const record: ApiKeyRecord = {
      id: key.id,
      tenant: principal.tenant,
      principalId: input.principalId,
      roles: input.roles,
      ...(await hashApiKeySecret(key.secret)),
      createdAt: new Date().toISOString(),
    };
    await this.store.putApiKey(record);
    return { apiKey: view(record), token: key.token };
  }

  async listApiKeys(principal: Principal): Promise<ApiKeyView[]> {
    await this.authorizer.authorize(principal, "tether:ManageCredentials", { tenant: principal.tenant });
    return (await this.store.listApiKeys(principal.tenant)).map(view);
  }

  /** Revokes at once on this instance; other instances stop accepting it within the verified-key cache age (60 s). */
  async deleteApiKey(principal: Principal, id: string): Promise<void> {
    await this.authorizer.authorize(principal, "tether:ManageCredentials", { tenant: principal.tenant });
    if (!/^[0-9a-f]{16}$/.test(id)) throw new KmsError("NotFoundException", `API key ${id.slice(0, 32)} does not exist`);
    if (id === principal.credentialId) throw new KmsError("ValidationException", "a credential cannot revoke itself");
    await this.store.deleteApiKey(principal.tenant, id);
    this.apiKeys.forget(id);
  }
}
