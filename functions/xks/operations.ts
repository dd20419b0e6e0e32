import * as z from "zod";
import { AccountId, Timestamp } from "../contract/fields.js";
import { operation, type AnyOperation } from "../contract/operation.js";
import type { XksKeyStores } from "./key-stores.js";

const KeyStoreId = z.uuid().meta({ examples: ["7d1f3a52-9c1e-4f0b-8a55-0c2b7e5f0c11"] });
const AccessKeyId = z.string().regex(/^[A-Z2-7]{20,30}$/, "20–30 of A–Z and 2–7").meta({ examples: ["TTHAEXAMPLEKEY234567"] });
/** The path before `/kms/xks/v1`, without its leading slash: letters, digits, - and _, in segments (at most 115 characters). */
/** Not the native API's own paths, nor the XKS API's: a prefix AWS KMS can actually reach. */
const RESERVED = /^(?:v1|docs|health|openapi\.json|kms)(?:\/|$)|(?:^|\/)kms\/xks\/v1(?:\/|$)/;
export const UriPathPrefix = z
  .string()
  .min(1)
  .max(115)
  .regex(/^[A-Za-z0-9_-]+(?:\/[A-Za-z0-9_-]+)*$/, "path segments of letters, digits, - and _, without a leading or trailing slash")
  .refine((p) => !RESERVED.test(p), "a prefix of its own: not v1, docs, health, kms, nor one holding kms/xks/v1")
  .meta({ examples: ["tether/payments"] });
const Credential = z.object({ accessKeyId: AccessKeyId, createdAt: Timestamp });
const Secret = z.string().meta({ examples: ["wJalrXUtnFEMIK7MDENGbPxRfiCYEXAMPLEKEYAAAAAA"] });
const KeyStore = z.object({
  tenant: AccountId,
  keyStoreId: KeyStoreId,
  name: z.string().meta({ examples: ["payments"] }),
  uriPathPrefix: UriPathPrefix,
  principalId: z.string().meta({ examples: ["xks-key-store.payments"] }),
  createdAt: Timestamp,
});
const ONCE = "the secret access key is shown once; give it to AWS KMS and keep it nowhere else";

/** XKS key stores: the tenant resource behind the XKS door (tenant admins). */
export const XKS_KEY_STORE_OPERATIONS = {
  CreateXksKeyStore: operation({
    name: "CreateXksKeyStore",
    action: "tether:CreateXksKeyStore",
    summary: "Create an XKS key store",
    description:
      "A door for AWS KMS's external key store at /<uriPathPrefix>/kms/xks/v1, acting as the principal xks-key-store.<name> (name it in the key policies of the keys AWS may use), with its first SigV4 credential for kms-xks-proxy.",
    input: { name: z.string().regex(/^[A-Za-z0-9_-]{1,64}$/, "1–64 of letters, digits, - and _").meta({ examples: ["payments"] }), uriPathPrefix: UriPathPrefix },
    output: { keyStore: KeyStore, credential: z.object({ accessKeyId: AccessKeyId, secretAccessKey: Secret }), note: z.string().meta({ examples: [ONCE] }) },
    errors: ["AlreadyExistsException", "HsmUnavailableException"],
    run: async (s: XksKeyStores, p, i, call) => ({ ...(await s.create(p, i, call)), note: ONCE }),
  }),
  ListXksKeyStores: operation({
    name: "ListXksKeyStores",
    action: "tether:ListXksKeyStores",
    summary: "List XKS key stores",
    description: "The tenant's XKS key stores and their credentials' access key ids (never their secrets).",
    input: {},
    output: { keyStores: z.array(KeyStore.extend({ credentials: z.array(Credential) })) },
    errors: [],
    run: async (s: XksKeyStores, p) => ({ keyStores: await s.list(p) }),
  }),
  DeleteXksKeyStore: operation({
    name: "DeleteXksKeyStore",
    action: "tether:DeleteXksKeyStore",
    summary: "Delete an XKS key store",
    description: "The key store, its principal and its credentials go at once (other instances stop accepting them within the cache bounds); the keys stay.",
    input: { keyStoreId: KeyStoreId },
    output: { deleted: KeyStoreId },
    errors: ["NotFoundException"],
    run: async (s: XksKeyStores, p, i) => (await s.delete(p, i.keyStoreId), { deleted: i.keyStoreId }),
  }),
  CreateXksCredential: operation({
    name: "CreateXksCredential",
    action: "tether:CreateXksCredential",
    summary: "Add an XKS credential",
    description: "A second SigV4 credential for the key store (two at most), to rotate to without a restart: give it to AWS KMS, then delete the old one.",
    input: { keyStoreId: KeyStoreId },
    output: { credential: z.object({ accessKeyId: AccessKeyId, secretAccessKey: Secret, createdAt: Timestamp }), note: z.string().meta({ examples: [ONCE] }) },
    errors: ["NotFoundException", "LimitExceededException", "HsmUnavailableException"],
    run: async (s: XksKeyStores, p, i, call) => ({ credential: await s.addCredential(p, i.keyStoreId, call), note: ONCE }),
  }),
  DeleteXksCredential: operation({
    name: "DeleteXksCredential",
    action: "tether:DeleteXksCredential",
    summary: "Delete an XKS credential",
    description: "The credential stops working at once here, elsewhere within the credential cache's bound (5 minutes).",
    input: { keyStoreId: KeyStoreId, accessKeyId: AccessKeyId },
    output: { deleted: AccessKeyId },
    errors: ["NotFoundException"],
    run: async (s: XksKeyStores, p, i) => (await s.deleteCredential(p, i.keyStoreId, i.accessKeyId), { deleted: i.accessKeyId }),
  }),
} satisfies Record<string, AnyOperation<XksKeyStores>>;
