import { KmsError } from "../../shared/errors.js";
import type { OidcConfig, TenantRecord, TenantStore } from "./store.js";

/** TenantStore in memory, for unit tests. */
export class MemoryTenantStore implements TenantStore {
  private readonly tenants = new Map<string, TenantRecord>();
  private readonly issuers = new Map<string, string>();

  async get(tenantId: string) {
    return this.tenants.get(tenantId);
  }

  async create(record: TenantRecord) {
    if (this.tenants.has(record.tenantId)) return false;
    this.tenants.set(record.tenantId, record);
    return true;
  }

  async list() {
    return [...this.tenants.values()];
  }

  async setOidc(tenant: TenantRecord, oidc: OidcConfig | undefined) {
    const owner = oidc ? this.issuers.get(oidc.issuer) : undefined;
    if (owner && owner !== tenant.tenantId) throw new KmsError("AlreadyExistsException", "that issuer belongs to another tenant");
    const previous = this.tenants.get(tenant.tenantId)?.oidc;
    if (previous) this.issuers.delete(previous.issuer);
    if (oidc) this.issuers.set(oidc.issuer, tenant.tenantId);
    const { oidc: _old, ...rest } = tenant;
    this.tenants.set(tenant.tenantId, oidc ? { ...rest, oidc } : rest);
  }

  async tenantOfIssuer(issuer: string) {
    return this.issuers.get(issuer);
  }
}
