import type { KeyPolicyVersion, KeyRecord, KeyVersion } from "./model.js";

export type Page<T> = { items: T[]; cursor?: string };

/** Keys and their versions. Every change is conditional on the record's revision. */
export interface KeyStore {
  /** Creates the key, its first version (none yet for a key awaiting imported material) and its first policy (none: the default), atomically. */
  create(key: KeyRecord, first: KeyVersion | undefined, policy?: KeyPolicyVersion): Promise<void>;
  get(tenant: string, keyId: string): Promise<KeyRecord | undefined>;
  list(tenant: string, limit: number, cursor?: string): Promise<Page<KeyRecord>>;
  /** Writes `next` if the stored revision is still `next.revision - 1`; false if another writer won. */
  update(next: KeyRecord): Promise<boolean>;
  /** Adds a version and makes it primary, if the key is still at `expectedRevision`; false otherwise. */
  addVersion(next: KeyRecord, version: KeyVersion): Promise<boolean>;
  getVersion(tenant: string, keyId: string, version: number): Promise<KeyVersion | undefined>;
  listVersions(tenant: string, keyId: string): Promise<KeyVersion[]>;
  /** Stores a policy version and makes it the key's policy, if the key is still at `next.revision - 1`; false otherwise. */
  putPolicy(next: KeyRecord, policy: KeyPolicyVersion): Promise<boolean>;
  getPolicy(tenant: string, keyId: string, version: number): Promise<KeyPolicyVersion | undefined>;
  listPolicies(tenant: string, keyId: string): Promise<KeyPolicyVersion[]>;
  /** Writes `next` (Destroyed, or PendingImport when imported material is deleted) and removes every version's wrapped material. */
  shred(next: KeyRecord): Promise<boolean>;
  /** Puts wrapped material back into a version that lost it (re-import), with the conditional META write; false if another writer won. */
  restoreMaterial(next: KeyRecord, version: KeyVersion): Promise<boolean>;

  /** Aliases are unique per tenant: creating one that exists fails with AlreadyExistsException. */
  createAlias(alias: AliasRecord): Promise<void>;
  /** Points an alias at another key if it still points at `fromKeyId` (KMSInvalidStateException otherwise). */
  updateAlias(alias: AliasRecord, fromKeyId: string): Promise<void>;
  /** Deletes an alias if it still points at `keyId` (KMSInvalidStateException otherwise). */
  deleteAlias(tenant: string, aliasName: string, keyId: string): Promise<void>;
  getAlias(tenant: string, aliasName: string): Promise<AliasRecord | undefined>;
  listAliases(tenant: string): Promise<AliasRecord[]>;

  /** Reserves `count` more encryptions under a version (atomic ADD); returns the version's new total. */
  reserveEncryptions(tenant: string, keyId: string, version: number, count: number): Promise<number>;

  /** Adds operation counts to a key's usage record (atomic increments) and sets its last use. */
  addUsage(tenant: string, keyId: string, counts: Record<string, number>, lastUsedAt: string): Promise<void>;
  getUsage(tenant: string, keyId: string): Promise<KeyUsageRecord>;
}

export type KeyUsageRecord = { counts: Record<string, number>; lastUsedAt?: string };

export type AliasRecord = { tenant: string; aliasName: string; keyId: string; createdAt: string; updatedAt?: string | undefined };
