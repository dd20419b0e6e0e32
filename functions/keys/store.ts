import type { KeyRecord, KeyVersion } from "./model.js";

export type Page<T> = { items: T[]; cursor?: string };

/** Keys and their versions. Every change is conditional on the record's revision. */
export interface KeyStore {
  /** Creates the key and its first version atomically. */
  create(key: KeyRecord, first: KeyVersion): Promise<void>;
  get(tenant: string, keyId: string): Promise<KeyRecord | undefined>;
  list(tenant: string, limit: number, cursor?: string): Promise<Page<KeyRecord>>;
  /** Writes `next` if the stored revision is still `next.revision - 1`; false if another writer won. */
  update(next: KeyRecord): Promise<boolean>;
  /** Adds a version and makes it primary, if the key is still at `expectedRevision`; false otherwise. */
  addVersion(next: KeyRecord, version: KeyVersion): Promise<boolean>;
  getVersion(tenant: string, keyId: string, version: number): Promise<KeyVersion | undefined>;
  listVersions(tenant: string, keyId: string): Promise<KeyVersion[]>;
  /** Removes every version's wrapped material and marks the key Destroyed. */
  shred(next: KeyRecord): Promise<boolean>;
}
