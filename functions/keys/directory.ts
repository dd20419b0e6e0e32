import type { LRUCache } from "lru-cache";
import { isKmsError, KmsError } from "../../shared/errors.js";
import { parseHsmKeyId } from "../../shared/hsm/port.js";
import type { Principal } from "../identity/principal.js";
import { boundedLru } from "../lru.js";
import type { Authorizer, Decision, KeyAccess, KeyAction } from "../policy/authorizer.js";
import type { KeyRecord } from "./model.js";
import type { KeyStore } from "./store.js";

export type DirectoryOptions = { region: string; metadataTtlMs: number; maxCachedKeys: number; now?: () => number };
/** A key's next record and the conditional write that stores it (false: another writer came first). */
export type KeyChange = { record: KeyRecord; put: () => Promise<boolean> };
export type AccessFacts = Pick<KeyAccess, "requestTags" | "tagKeys" | "encryptionContext">;

export const ALIAS_NAME = /^alias\/[A-Za-z0-9/_-]{1,250}$/;
const KEY_UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;
const KEY_ARN = /^arn:aws:kms:[a-z0-9-]+:(\d{12}):key\/(.+)$/;
const ALIAS_ARN = /^arn:aws:kms:[a-z0-9-]+:(\d{12}):(alias\/.+)$/;
/** Conditional writes that lost to another writer are retried this many times, then the caller is asked to retry. */
const WRITE_ATTEMPTS = 10;

const notFound = (keyId: string) => new KmsError("NotFoundException", `key ${keyId} does not exist`);

/**
 * Where a key is found: by key id (a UUID or `hsm::<slot>::<label>`), key ARN, alias name or
 * alias ARN, only ever in the caller's own tenant. Reads fresh or from a metadata cache of at
 * most `metadataTtlMs` (a Disable or a deletion takes effect everywhere within that bound), and
 * authorizes by key policy and grants. Every conditional write of a key record goes through
 * `write`, which remembers what it wrote.
 */
export class KeyDirectory {
  private readonly metadata: LRUCache<string, KeyRecord>;
  private readonly aliases: LRUCache<string, string>;
  readonly now: () => number;

  constructor(
    private readonly store: KeyStore,
    private readonly authorizer: Authorizer,
    private readonly opts: DirectoryOptions,
  ) {
    this.now = opts.now ?? Date.now;
    // A TTL of 0 turns the caches off (lru-cache would read 0 as "never expires").
    this.metadata = boundedLru({ max: opts.maxCachedKeys, ttl: Math.max(1, opts.metadataTtlMs), ttlResolution: 0, perf: { now: this.now } });
    this.aliases = boundedLru({ max: opts.maxCachedKeys, ttl: Math.max(1, opts.metadataTtlMs), ttlResolution: 0, perf: { now: this.now } });
  }

  /** The region key and alias ARNs name. */
  get region(): string {
    return this.opts.region;
  }

  /** The key, read fresh, once its policy (and grants) allow the action: a key that does not exist is NotFound before anything else. */
  async authorized(principal: Principal, keyId: string, action: KeyAction, facts: AccessFacts = {}): Promise<KeyRecord> {
    return (await this.access(principal, keyId, action, facts)).key;
  }

  /** As `authorized`, with the decision (a policy statement or a grant). */
  async access(principal: Principal, keyId: string, action: KeyAction, facts: AccessFacts = {}): Promise<{ key: KeyRecord; decision: Decision }> {
    const key = await this.read(principal.tenant, keyId);
    principal.keysUsed?.add(key.keyId);
    return { key, decision: await this.authorizer.authorizeKey({ principal, action, key, ...facts }) };
  }

  /** As `authorized`, from the metadata cache: for cryptographic operations, which run far more often than changes. */
  async cachedAuthorized(principal: Principal, keyId: string, action: KeyAction, encryptionContext?: KeyAccess["encryptionContext"]): Promise<KeyRecord> {
    const key = await this.cached(principal.tenant, keyId);
    principal.keysUsed?.add(key.keyId);
    await this.authorizer.authorizeKey({ principal, action, key, encryptionContext });
    return key;
  }

  /** The key as stored, with no key-policy check: for callers already authorized at the tenant level (simulate, the sweeper). */
  async read(tenant: string, keyIdOrArn: string): Promise<KeyRecord> {
    const keyId = await this.resolve(tenant, keyIdOrArn);
    const key = await this.store.get(tenant, keyId);
    if (!key) throw notFound(keyIdOrArn);
    return this.remember(key);
  }

  /**
   * The HSM-resident key that wraps a KMS key, as it is now (cached ≤ the metadata TTL): a KMS key
   * wrapped by one that is no longer Enabled cannot be used (see KeyMaterial).
   */
  async wrapperOf(key: KeyRecord): Promise<KeyRecord | undefined> {
    if (!key.wrappingKeyId) return undefined;
    return this.cached(key.tenant, key.wrappingKeyId).catch((err: unknown) => {
      throw isKmsError(err, "NotFoundException") ? new KmsError("KMSInvalidStateException", `key ${key.keyId}'s wrapping key ${key.wrappingKeyId} no longer exists`) : err;
    });
  }

  /**
   * Writes the key's next record: `change` gets the current one (read fresh) and returns the
   * record to write with the store's conditional write that puts it, or the key itself when there
   * is nothing to write. A write that lost to another writer is tried again on the newer record.
   */
  async write(tenant: string, keyId: string, change: (key: KeyRecord) => Promise<KeyChange | KeyRecord> | KeyChange | KeyRecord): Promise<KeyRecord> {
    for (let attempt = 0; attempt < WRITE_ATTEMPTS; attempt++) {
      const next = await change(await this.read(tenant, keyId));
      if (!("put" in next)) return next;
      if (await next.put()) return this.remember(next.record);
    }
    throw new KmsError("ThrottlingException", `too many concurrent changes to key ${keyId}; retry`);
  }

  /** Applies `change` to the key's record once the action is authorized (a conditional write, retried if another writer won). */
  async update(principal: Principal, keyId: string, action: KeyAction, facts: AccessFacts, change: (key: KeyRecord) => KeyRecord): Promise<KeyRecord> {
    await this.authorized(principal, keyId, action, facts);
    return this.write(principal.tenant, keyId, (key) => {
      const record = { ...change(key), revision: key.revision + 1 };
      return { record, put: () => this.store.update(record) };
    });
  }

  /** A key id from a key id, key ARN, alias name or alias ARN of the caller's own tenant. */
  async resolve(tenant: string, ref: string): Promise<string> {
    const aliasArn = ALIAS_ARN.exec(ref);
    const aliasName = aliasArn ? (aliasArn[1] === tenant ? aliasArn[2] : undefined) : ref.startsWith("alias/") ? ref : undefined;
    if (aliasArn && !aliasName) throw notFound(ref);
    if (!aliasName) return resolveKeyId(tenant, ref);
    if (!ALIAS_NAME.test(aliasName)) throw notFound(ref);
    const id = `${tenant}/${aliasName}`;
    const known = this.opts.metadataTtlMs > 0 ? this.aliases.get(id) : undefined;
    if (known) return known;
    const alias = await this.store.getAlias(tenant, aliasName);
    if (!alias) throw notFound(ref);
    this.aliases.set(id, alias.keyId);
    return alias.keyId;
  }

  /** Forgets what an alias named, after it changed here. */
  forgetAlias(tenant: string, aliasName: string): void {
    this.aliases.delete(`${tenant}/${aliasName}`);
  }

  remember(key: KeyRecord): KeyRecord {
    this.metadata.set(`${key.tenant}/${key.keyId}`, key);
    return key;
  }

  private async cached(tenant: string, keyIdOrArn: string): Promise<KeyRecord> {
    const keyId = await this.resolve(tenant, keyIdOrArn);
    const hit = this.opts.metadataTtlMs > 0 ? this.metadata.get(`${tenant}/${keyId}`) : undefined;
    return hit ?? this.read(tenant, keyId);
  }
}

/** A key id (a UUID, or `hsm::<slot>::<label>`) or a key ARN of the caller's own tenant; anything else does not exist for the caller. */
function resolveKeyId(tenant: string, keyIdOrArn: string): string {
  const arn = KEY_ARN.exec(keyIdOrArn);
  const keyId = arn ? (arn[1] === tenant ? (arn[2] as string) : "") : keyIdOrArn;
  if (!KEY_UUID.test(keyId) && !parseHsmKeyId(keyId)) throw notFound(keyIdOrArn);
  return keyId;
}
