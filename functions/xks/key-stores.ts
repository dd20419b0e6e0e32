import { randomUUID } from "node:crypto";
import type { LRUCache } from "lru-cache";
import { KmsError } from "../../shared/errors.js";
import type { CallOpts, KeyWrapping } from "../../shared/hsm/port.js";
import type { Principal } from "../identity/principal.js";
import { issueAccessKey, type SigV4Scheme } from "../identity/sigv4.js";
import type { IdentityStore } from "../identity/store.js";
import { boundedLru } from "../lru.js";
import type { Authorizer } from "../policy/authorizer.js";
import type { XksKeyStore, XksStore } from "./store.js";

/** At most two credentials per key store: one to use, one to rotate to (the spec asks for two). */
export const MAX_CREDENTIALS = 2;
const SERVICE = "kms-xks-proxy";

export type XksCredentialView = { accessKeyId: string; createdAt: string };

/**
 * XKS key stores of a tenant (tenant admins): each has a URI path prefix, a principal it acts as
 * (key policies name `xks-key-store.<name>`), and its SigV4 credentials for `kms-xks-proxy`,
 * each an access key of that principal whose secret is wrapped by the HSM root key, rotatable
 * without a restart. The XKS door finds a store by its prefix (cached for `cacheMs`).
 */
export class XksKeyStores {
  private readonly byPrefixCache: LRUCache<string, { store: XksKeyStore | null }>;

  constructor(
    private readonly stores: XksStore,
    private readonly identity: IdentityStore,
    private readonly hsm: KeyWrapping,
    private readonly authorizer: Authorizer,
    private readonly scheme: Pick<SigV4Scheme, "forget">,
    private readonly o: { cacheMs: number },
  ) {
    this.byPrefixCache = boundedLru({ max: 10_000, ttl: Math.max(1, o.cacheMs), ttlResolution: 0 });
  }

  async create(caller: Principal, input: { name: string; uriPathPrefix: string }, call: CallOpts) {
    await this.manage(caller);
    const principalId = `xks-key-store.${input.name}`;
    const store: XksKeyStore = { tenant: caller.tenant, keyStoreId: randomUUID(), name: input.name, uriPathPrefix: input.uriPathPrefix, principalId, createdAt: new Date().toISOString() };
    await this.identity.createPrincipal({ tenant: caller.tenant, principalId, kind: "service", roles: [], description: `XKS key store ${input.name}`, createdAt: store.createdAt });
    try {
      if (!(await this.stores.create(store))) throw new KmsError("AlreadyExistsException", `the URI path prefix "${input.uriPathPrefix}" is taken`);
      const credential = await issueAccessKey(this.identity, this.hsm, { tenant: caller.tenant, principalId, service: SERVICE }, call);
      this.byPrefixCache.delete(store.uriPathPrefix);
      return { keyStore: store, credential: { accessKeyId: credential.accessKeyId, secretAccessKey: credential.secretAccessKey } };
    } catch (err) {
      // Nothing half-made stays: the store record (if it was written) and the principal go.
      if ((await this.stores.byPrefix(store.uriPathPrefix))?.keyStoreId === store.keyStoreId) await this.stores.delete(store);
      await this.identity.deletePrincipal(caller.tenant, principalId);
      throw err;
    }
  }

  async list(caller: Principal): Promise<(XksKeyStore & { credentials: XksCredentialView[] })[]> {
    await this.manage(caller);
    const [stores, keys] = await Promise.all([this.stores.list(caller.tenant), this.identity.listAccessKeys(caller.tenant)]);
    return stores.map((s) => ({ ...s, credentials: keys.filter((k) => k.principalId === s.principalId && k.service === SERVICE).map(({ accessKeyId, createdAt }) => ({ accessKeyId, createdAt })) }));
  }

  /** The key store, its principal and its credentials go; the keys it used stay. */
  async delete(caller: Principal, keyStoreId: string): Promise<void> {
    const store = await this.existing(caller, keyStoreId);
    for (const c of await this.credentialsOf(store)) await this.revoke(store, c.accessKeyId);
    await this.stores.delete(store);
    await this.identity.deletePrincipal(store.tenant, store.principalId);
    this.byPrefixCache.delete(store.uriPathPrefix);
  }

  /** A second credential, to rotate to: AWS KMS is given it, then the first is deleted. */
  async addCredential(caller: Principal, keyStoreId: string, call: CallOpts) {
    const store = await this.existing(caller, keyStoreId);
    if ((await this.credentialsOf(store)).length >= MAX_CREDENTIALS) throw new KmsError("LimitExceededException", `a key store has at most ${MAX_CREDENTIALS} credentials: delete one first`);
    const credential = await issueAccessKey(this.identity, this.hsm, { tenant: store.tenant, principalId: store.principalId, service: SERVICE }, call);
    return { accessKeyId: credential.accessKeyId, secretAccessKey: credential.secretAccessKey, createdAt: credential.createdAt };
  }

  async deleteCredential(caller: Principal, keyStoreId: string, accessKeyId: string): Promise<void> {
    const store = await this.existing(caller, keyStoreId);
    if (!(await this.credentialsOf(store)).some((c) => c.accessKeyId === accessKeyId)) throw new KmsError("NotFoundException", `key store ${keyStoreId} has no credential ${accessKeyId.slice(0, 32)}`);
    await this.revoke(store, accessKeyId);
  }

  /** The key store a request's URI path prefix names, if any (cached; a deletion is seen here at once, elsewhere within `cacheMs`). */
  async byPrefix(uriPathPrefix: string): Promise<XksKeyStore | undefined> {
    const hit = this.o.cacheMs > 0 ? this.byPrefixCache.get(uriPathPrefix) : undefined;
    if (hit) return hit.store ?? undefined;
    const store = await this.stores.byPrefix(uriPathPrefix);
    this.byPrefixCache.set(uriPathPrefix, { store: store ?? null });
    return store;
  }

  private async credentialsOf(store: XksKeyStore) {
    return (await this.identity.listAccessKeys(store.tenant)).filter((k) => k.principalId === store.principalId && k.service === SERVICE);
  }

  private async revoke(store: XksKeyStore, accessKeyId: string): Promise<void> {
    await this.identity.deleteAccessKey(store.tenant, accessKeyId);
    this.scheme.forget(accessKeyId);
  }

  private async existing(caller: Principal, keyStoreId: string): Promise<XksKeyStore> {
    await this.manage(caller);
    const store = (await this.stores.list(caller.tenant)).find((s) => s.keyStoreId === keyStoreId);
    if (!store) throw new KmsError("NotFoundException", `XKS key store ${keyStoreId.slice(0, 64)} does not exist`);
    return store;
  }

  private manage(caller: Principal): Promise<void> {
    return this.authorizer.authorize(caller, "tether:ManageXksKeyStores", { tenant: caller.tenant });
  }
}
