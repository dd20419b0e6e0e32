import { randomInt } from "node:crypto";
import { KmsError } from "../../shared/errors.js";
import { hashApiKeySecret, newApiKey } from "../identity/api-keys.js";
import type { Principal } from "../identity/principal.js";
import type { IdentityStore } from "../identity/store.js";
import type { Authorizer } from "../policy/authorizer.js";
import { jwksUrlProblem } from "../identity/public-fetch.js";
import type { OidcConfig, TenantRecord, TenantStore } from "./store.js";

const notFound = (id: string) => new KmsError("NotFoundException", `tenant ${id.slice(0, 32)} does not exist`);

/**
 * Tenants: the operator's tenant admins create them (each with a first admin and its API key,
 * shown once) and list them; a tenant's admins read it and configure its OIDC identity provider.
 * A tenant never sees another (NotFound).
 */
export class TenantService {
  constructor(
    private readonly store: TenantStore,
    private readonly identity: IdentityStore,
    private readonly authorizer: Authorizer,
    private readonly opts: { operatorTenant: string | undefined; allowPrivateJwks: boolean },
    private readonly oidcScheme: { forget(issuer: string): void },
  ) {}

  async create(caller: Principal, input: { name: string }): Promise<{ tenant: TenantRecord; adminToken: string }> {
    await this.asOperator(caller);
    for (let attempt = 0; attempt < 5; attempt++) {
      const tenant: TenantRecord = { tenantId: String(randomInt(100_000_000_000, 999_999_999_999)), name: input.name, createdAt: new Date().toISOString() };
      if (!(await this.store.create(tenant))) continue;
      return { tenant, adminToken: await this.firstAdmin(tenant.tenantId) };
    }
    throw new KmsError("ThrottlingException", "could not allocate a tenant id; retry");
  }

  async list(caller: Principal): Promise<TenantRecord[]> {
    await this.asOperator(caller);
    return this.store.list();
  }

  /** The operator sees any tenant; anyone else only their own. */
  async get(caller: Principal, tenantId: string): Promise<TenantRecord> {
    if (tenantId === caller.tenant) await this.authorizer.authorize(caller, "tether:ReadTenant", { tenant: caller.tenant });
    else if (!this.isOperator(caller)) throw notFound(tenantId);
    const record = await this.store.get(tenantId);
    if (record) return record;
    // A tenant made before tenant records existed (the dev stack's): it exists, unnamed.
    if (tenantId === caller.tenant) return { tenantId, name: tenantId, createdAt: "" };
    throw notFound(tenantId);
  }

  async setOidc(caller: Principal, oidc: OidcConfig | undefined): Promise<TenantRecord> {
    await this.authorizer.authorize(caller, "tether:ManageCredentials", { tenant: caller.tenant });
    for (const [field, url] of [["jwksUri", oidc?.jwksUri], ["issuer", oidc?.issuer]] as const) {
      const problem = url === undefined ? undefined : jwksUrlProblem(url, this.opts.allowPrivateJwks);
      if (problem) throw new KmsError("ValidationException", `${field}: must be ${problem} outside the dev stage`);
    }
    const current = (await this.store.get(caller.tenant)) ?? { tenantId: caller.tenant, name: caller.tenant, createdAt: new Date().toISOString() };
    await this.store.setOidc(current, oidc);
    for (const issuer of [current.oidc?.issuer, oidc?.issuer]) if (issuer) this.oidcScheme.forget(issuer);
    const { oidc: _old, ...rest } = current;
    return oidc ? { ...rest, oidc } : rest;
  }

  /** The new tenant's first principal (every role) and its API key. */
  private async firstAdmin(tenant: string): Promise<string> {
    await this.identity.createPrincipal({ tenant, principalId: "admin", kind: "user", roles: ["tenantAdmin", "keyAdmin", "keyUser", "auditor"], description: "first administrator", createdAt: new Date().toISOString() });
    const key = newApiKey();
    await this.identity.putApiKey({ id: key.id, tenant, principalId: "admin", ...(await hashApiKeySecret(key.secret)), createdAt: new Date().toISOString() });
    return key.token;
  }

  private isOperator(caller: Principal): boolean {
    return this.opts.operatorTenant !== undefined && caller.tenant === this.opts.operatorTenant && caller.roles.includes("tenantAdmin");
  }

  private async asOperator(caller: Principal): Promise<void> {
    if (!this.isOperator(caller)) throw new KmsError("AccessDeniedException", `${caller.principalId} is not an operator's tenant admin`);
  }
}
