import { KmsError } from "../../shared/errors.js";
import type { KeyPolicyVersion, KeyRecord, KeyVersion } from "./model.js";
import type { AliasRecord, KeyStore, KeyUsageRecord, Page } from "./store.js";

/** KeyStore in memory, for unit tests; same conditional semantics as DynamoKeyStore. */
export class MemoryKeyStore implements KeyStore {
  private readonly keys = new Map<string, KeyRecord>();
  private readonly versions = new Map<string, KeyVersion>();
  private readonly aliases = new Map<string, AliasRecord>();
  private readonly usage = new Map<string, KeyUsageRecord>();
  private readonly policies = new Map<string, KeyPolicyVersion>();

  async create(key: KeyRecord, first: KeyVersion | undefined, policy?: KeyPolicyVersion) {
    const id = `${key.tenant}/${key.keyId}`;
    if (this.keys.has(id)) throw new KmsError("AlreadyExistsException", `key ${key.keyId} exists`);
    this.keys.set(id, key);
    if (first) this.versions.set(`${id}/${first.version}`, first);
    if (policy) this.policies.set(`${id}/${policy.version}`, policy);
  }

  async putPolicy(next: KeyRecord, policy: KeyPolicyVersion) {
    const pid = `${next.tenant}/${next.keyId}/${policy.version}`;
    if (this.policies.has(pid) || !(await this.update(next))) return false;
    this.policies.set(pid, policy);
    return true;
  }

  async getPolicy(tenant: string, keyId: string, version: number) {
    return this.policies.get(`${tenant}/${keyId}/${version}`);
  }

  async listPolicies(tenant: string, keyId: string) {
    return [...this.policies.entries()].filter(([id]) => id.startsWith(`${tenant}/${keyId}/`)).map(([, v]) => v).sort((a, b) => a.version - b.version);
  }

  async get(tenant: string, keyId: string) {
    return this.keys.get(`${tenant}/${keyId}`);
  }

  async list(tenant: string, limit: number, cursor?: string): Promise<Page<KeyRecord>> {
    const all = [...this.keys.values()].filter((k) => k.tenant === tenant).sort((a, b) => `${a.createdAt}#${a.keyId}`.localeCompare(`${b.createdAt}#${b.keyId}`));
    const start = cursor ? Number(Buffer.from(cursor, "base64url").toString()) : 0;
    const items = all.slice(start, start + limit);
    return start + limit < all.length ? { items, cursor: Buffer.from(String(start + limit)).toString("base64url") } : { items };
  }

  async update(next: KeyRecord) {
    const id = `${next.tenant}/${next.keyId}`;
    if (this.keys.get(id)?.revision !== next.revision - 1) return false;
    this.keys.set(id, next);
    return true;
  }

  async addVersion(next: KeyRecord, version: KeyVersion) {
    const vid = `${next.tenant}/${next.keyId}/${version.version}`;
    if (this.versions.has(vid) || !(await this.update(next))) return false;
    this.versions.set(vid, version);
    return true;
  }

  async getVersion(tenant: string, keyId: string, version: number) {
    return this.versions.get(`${tenant}/${keyId}/${version}`);
  }

  async listVersions(tenant: string, keyId: string) {
    return [...this.versions.entries()].filter(([id]) => id.startsWith(`${tenant}/${keyId}/`)).map(([, v]) => v).sort((a, b) => a.version - b.version);
  }

  async shred(next: KeyRecord) {
    if (!(await this.update(next))) return false;
    for (const v of await this.listVersions(next.tenant, next.keyId)) {
      const { wrapped: _gone, ...rest } = v;
      this.versions.set(`${next.tenant}/${next.keyId}/${v.version}`, rest);
    }
    return true;
  }

  async restoreMaterial(next: KeyRecord, version: KeyVersion) {
    const vid = `${next.tenant}/${next.keyId}/${version.version}`;
    const current = this.versions.get(vid);
    if (!current || current.wrapped || !(await this.update(next))) return false;
    this.versions.set(vid, version);
    return true;
  }

  async createAlias(alias: AliasRecord) {
    const id = `${alias.tenant}/${alias.aliasName}`;
    if (this.aliases.has(id)) throw new KmsError("AlreadyExistsException", `alias ${alias.aliasName} exists`);
    this.aliases.set(id, alias);
  }

  async updateAlias(alias: AliasRecord, fromKeyId: string) {
    const id = `${alias.tenant}/${alias.aliasName}`;
    if (this.aliases.get(id)?.keyId !== fromKeyId) throw new KmsError("KMSInvalidStateException", `alias ${alias.aliasName} changed meanwhile; nothing was done, retry`);
    this.aliases.set(id, alias);
  }

  async deleteAlias(tenant: string, aliasName: string, keyId: string) {
    const id = `${tenant}/${aliasName}`;
    if (this.aliases.get(id)?.keyId !== keyId) throw new KmsError("KMSInvalidStateException", `alias ${aliasName} changed meanwhile; nothing was done, retry`);
    this.aliases.delete(id);
  }

  async getAlias(tenant: string, aliasName: string) {
    return this.aliases.get(`${tenant}/${aliasName}`);
  }

  async listAliases(tenant: string) {
    return [...this.aliases.values()].filter((a) => a.tenant === tenant);
  }

  private readonly reserved = new Map<string, number>();

  async reserveEncryptions(tenant: string, keyId: string, version: number, count: number) {
    const id = `${tenant}/${keyId}/${version}`;
    if (!this.versions.has(id)) throw new KmsError("NotFoundException", `no version ${version} of key ${keyId}`);
    const total = (this.reserved.get(id) ?? 0) + count;
    this.reserved.set(id, total);
    return total;
  }

  async addUsage(tenant: string, keyId: string, counts: Record<string, number>, lastUsedAt: string) {
    const id = `${tenant}/${keyId}`;
    const current = this.usage.get(id) ?? { counts: {} };
    for (const [op, n] of Object.entries(counts)) current.counts[op] = (current.counts[op] ?? 0) + n;
    this.usage.set(id, { ...current, lastUsedAt });
  }

  async getUsage(tenant: string, keyId: string) {
    return this.usage.get(`${tenant}/${keyId}`) ?? { counts: {} };
  }
}
