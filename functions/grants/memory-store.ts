import type { GrantRecord, GrantStore } from "./store.js";

/** GrantStore in memory, for unit tests. */
export class MemoryGrantStore implements GrantStore {
  private readonly grants = new Map<string, GrantRecord>();

  async create(grant: GrantRecord) {
    this.grants.set(`${grant.tenant}/${grant.keyId}/${grant.grantId}`, grant);
  }

  async get(tenant: string, keyId: string, grantId: string) {
    return this.grants.get(`${tenant}/${keyId}/${grantId}`);
  }

  async listForKey(tenant: string, keyId: string) {
    return [...this.grants.values()].filter((g) => g.tenant === tenant && g.keyId === keyId).sort((a, b) => a.createdAt.localeCompare(b.createdAt));
  }

  async listRetirable(tenant: string, retiringPrincipal: string) {
    return [...this.grants.values()].filter((g) => g.tenant === tenant && g.retiringPrincipal === retiringPrincipal);
  }

  async delete(tenant: string, keyId: string, grantId: string) {
    return this.grants.delete(`${tenant}/${keyId}/${grantId}`);
  }
}
