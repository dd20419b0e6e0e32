import type { XksKeyStore, XksStore } from "./store.js";

/** XKS key stores in memory, for unit tests. */
export class MemoryXksStore implements XksStore {
  private readonly stores = new Map<string, XksKeyStore>();

  async create(store: XksKeyStore): Promise<boolean> {
    if (this.stores.has(store.uriPathPrefix)) return false;
    this.stores.set(store.uriPathPrefix, store);
    return true;
  }

  async byPrefix(uriPathPrefix: string): Promise<XksKeyStore | undefined> {
    return this.stores.get(uriPathPrefix);
  }

  async list(tenant: string): Promise<XksKeyStore[]> {
    return [...this.stores.values()].filter((s) => s.tenant === tenant);
  }

  async delete(store: XksKeyStore): Promise<void> {
    this.stores.delete(store.uriPathPrefix);
  }
}
