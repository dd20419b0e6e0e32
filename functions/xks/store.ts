import * as z from "zod";
import { TenantId } from "../identity/principal.js";

/**
 * An XKS key store: the door AWS KMS calls for the keys of an external key store, at
 * `/<uriPathPrefix>/kms/xks/v1/…`. It acts as a principal of its tenant (its key policies and
 * grants decide what it may do with each key) and authenticates with up to two SigV4 access keys
 * of that principal, for the service `kms-xks-proxy` (two, so that one can replace the other).
 */
export const XksKeyStore = z.object({
  tenant: TenantId,
  keyStoreId: z.uuid(),
  name: z.string(),
  /** Without its leading slash: `example/prefix` serves `/example/prefix/kms/xks/v1/…`. */
  uriPathPrefix: z.string(),
  /** The principal it acts as (`xks-key-store.<name>`), which key policies name. */
  principalId: z.string(),
  createdAt: z.string(),
});
export type XksKeyStore = z.infer<typeof XksKeyStore>;

export interface XksStore {
  /** Creates the key store; false if its URI path prefix is taken (by any tenant). */
  create(store: XksKeyStore): Promise<boolean>;
  byPrefix(uriPathPrefix: string): Promise<XksKeyStore | undefined>;
  list(tenant: string): Promise<XksKeyStore[]>;
  delete(store: XksKeyStore): Promise<void>;
}
