import * as z from "zod";
import { KmsError } from "../../shared/errors.js";
import { HSM_KEY_SPECS, parseHsmKeyId, type HsmKeyRef } from "../../shared/hsm/port.js";
import { TenantId } from "../identity/principal.js";

export const KeySpec = z.enum([
  "SYMMETRIC_DEFAULT",
  "RSA_2048",
  "RSA_3072",
  "RSA_4096",
  "ECC_NIST_P256",
  "ECC_NIST_P384",
  "HMAC_256",
  "HMAC_384",
  "HMAC_512",
]);
export type KeySpec = z.infer<typeof KeySpec>;

export const KeyUsage = z.enum(["ENCRYPT_DECRYPT", "SIGN_VERIFY", "GENERATE_VERIFY_MAC"]);
export type KeyUsage = z.infer<typeof KeyUsage>;

export const KeyState = z.enum(["Enabled", "Disabled", "PendingDeletion", "PendingImport", "Destroyed"]);
export type KeyState = z.infer<typeof KeyState>;

export const WrappedRecord = z.object({ rootKeyLabel: z.string(), slot: z.string().optional(), hsmIdentity: z.string(), iv: z.string(), ciphertext: z.string() });
export type WrappedRecord = z.infer<typeof WrappedRecord>;


/** A KMS key's id: a UUID, or `hsm::<slot>::<label>` for an HSM-resident key. */
export const KeyId = z.union([z.uuid(), z.string().refine((id) => parseHsmKeyId(id) !== undefined, "hsm::<slot>::<label>")]);

/** What an HSM-resident key is inside the HSM (its PKCS#11 label there is `<tenant>.<label>`). */
export const HsmResident = z.object({ slot: z.string(), label: z.string(), spec: z.enum(HSM_KEY_SPECS), sensitive: z.boolean() });
export type HsmResident = z.infer<typeof HsmResident>;

/** A KMS key's metadata (one item); its versions are items of their own. */
export const KeyRecord = z.object({
  tenant: TenantId,
  keyId: KeyId,
  arn: z.string(),
  description: z.string(),
  spec: KeySpec,
  usage: KeyUsage,
  /** TETHER: material made by Tether, wrapped by the HSM; EXTERNAL: imported; HSM: the key lives only in the HSM (`hsm`). */
  origin: z.enum(["TETHER", "EXTERNAL", "HSM"]),
  state: KeyState,
  createdAt: z.string(),
  deletionDate: z.string().optional(),
  rotationPeriodDays: z.number().int().optional(),
  nextRotationAt: z.string().optional(),
  primaryVersion: z.number().int().min(1),
  /** Increases when versions are re-wrapped (root key rotation): cached material from before is stale. */
  wrapEpoch: z.number().int().min(0),
  tags: z.record(z.string(), z.string()),
  /** After this instant the key no longer encrypts, signs or makes MACs; it still decrypts and verifies. */
  expiresAt: z.string().optional(),
  /** Vault-style derived key: each request's key is HKDF(material, its derivation context). */
  derived: z.boolean().optional(),
  /** Created exportable: its material may be exported by key admins. Fixed at creation. */
  exportable: z.boolean().optional(),
  /** The HSM-resident AES key that wraps this key's versions (`hsm::<slot>::<label>`); absent: the root key. */
  wrappingKeyId: z.string().optional(),
  /** Asymmetric keys: the public key, SPKI DER in base64 (public, so kept in the clear). */
  publicKey: z.string().optional(),
  /** Imported keys: a one-way check value of the material (HMAC-SHA256 under a fixed label), so a re-import must bring the same material. */
  materialCheck: z.string().optional(),
  /** The key policy in force (a stored, immutable version); absent: the default policy. */
  policyVersion: z.number().int().min(1).optional(),
  /** Origin HSM: the HSM object this key is (every operation on it is proxied to a connector). */
  hsm: HsmResident.optional(),
  /** Increases on every change: every state transition is a conditional write on it. */
  revision: z.number().int().min(0),
});
export type KeyRecord = z.infer<typeof KeyRecord>;

/** One version of a key's policy: immutable once written; rollback writes a new version. */
export const KeyPolicyVersion = z.object({
  version: z.number().int().min(1),
  /** The policy document as the caller wrote it (JSON text). */
  policy: z.string(),
  createdAt: z.string(),
  createdBy: z.string(),
});
export type KeyPolicyVersion = z.infer<typeof KeyPolicyVersion>;

export const RotationType = z.enum(["AUTOMATIC", "ON_DEMAND"]);
export type RotationType = z.infer<typeof RotationType>;

export const KeyVersion = z.object({
  version: z.number().int().min(1),
  createdAt: z.string(),
  /** How the version came to be (absent for the first, and for versions made before this was recorded). */
  rotationType: RotationType.optional(),
  /** Removed when the key is destroyed (crypto-shredding). */
  wrapped: WrappedRecord.optional(),
});
export type KeyVersion = z.infer<typeof KeyVersion>;

/** A key can be used for cryptography only when Enabled; each other state has its own refusal. */
export function assertUsable(key: KeyRecord): void {
  switch (key.state) {
    case "Enabled":
      return;
    case "Disabled":
      throw new KmsError("DisabledException", `key ${key.arn} is disabled`);
    case "Destroyed":
      throw new KmsError("NotFoundException", `key ${key.arn} has been destroyed`);
    default:
      throw new KmsError("KMSInvalidStateException", `key ${key.arn} is ${key.state}`);
  }
}

/** Tenants share the HSM: a tenant's `hsm::<slot>::<label>` is `<tenant>.<label>` inside it. */
export const inTenant = (tenant: string, ref: HsmKeyRef): HsmKeyRef => ({ slot: ref.slot, label: `${tenant}.${ref.label}` });

/** The HSM key that wraps a key's versions, as the HSM names it (tenant-scoped), or undefined for the root key. */
export function wrappingKeyOf(tenant: string, wrappingKeyId: string | undefined): HsmKeyRef | undefined {
  if (!wrappingKeyId) return undefined;
  const ref = parseHsmKeyId(wrappingKeyId);
  if (!ref) throw new KmsError("ValidationException", "wrappingKeyId is an HSM key id, hsm::<slot>::<label>");
  return inTenant(tenant, ref);
}

/** A key past its expiry no longer encrypts or signs (it still decrypts and verifies). */
export function assertNotExpired(key: Pick<KeyRecord, "arn" | "expiresAt">, now = Date.now()): void {
  if (key.expiresAt && Date.parse(key.expiresAt) <= now) {
    throw new KmsError("KMSInvalidStateException", `key ${key.arn} expired at ${key.expiresAt}: it still decrypts and verifies`);
  }
}

export const keyArn = (region: string, tenant: string, keyId: string) => `arn:aws:kms:${region}:${tenant}:key/${keyId}`;

/** Whether a key reference (an id or a key ARN; an alias cannot say without a read) names a key that lives in the HSM. */
export const namesHsmKey = (ref: string): boolean => parseHsmKeyId(ref.replace(/^arn:aws:kms:[a-z0-9-]+:\d{12}:key\//, "")) !== undefined;

/** The key state changes a caller asks for: the states each may start from, and the state it leads to (as AWS KMS). */
export const TRANSITIONS = {
  EnableKey: { from: ["Enabled", "Disabled"], to: "Enabled" },
  DisableKey: { from: ["Enabled", "Disabled"], to: "Disabled" },
  ScheduleKeyDeletion: { from: ["Enabled", "Disabled", "PendingImport"], to: "PendingDeletion" },
  CancelKeyDeletion: { from: ["PendingDeletion"], to: "Disabled" },
} as const satisfies Record<string, { from: readonly KeyState[]; to: KeyState }>;
export type Transition = keyof typeof TRANSITIONS;

export const invalidState = (k: Pick<KeyRecord, "keyId" | "state">) => new KmsError("KMSInvalidStateException", `key ${k.keyId} is ${k.state}`);

/** The state `change` leads the key to; KMSInvalidStateException if it cannot start from the key's state. */
export function nextState(key: Pick<KeyRecord, "keyId" | "state">, change: Transition): KeyState {
  const t = TRANSITIONS[change];
  if (!(t.from as readonly KeyState[]).includes(key.state)) throw invalidState(key);
  return t.to;
}

/**
 * The one maintenance rule, for the on-use path and the sweeper alike: what is due for a key at
 * `now` — its destruction (its deletion window has passed), its automatic rotation (its period
 * has come, and it is Enabled), or nothing.
 */
export function dueFor(key: Pick<KeyRecord, "state" | "deletionDate" | "nextRotationAt">, now: number): "destroy" | "rotate" | undefined {
  if (key.state === "PendingDeletion" && key.deletionDate && Date.parse(key.deletionDate) <= now) return "destroy";
  if (key.state === "Enabled" && key.nextRotationAt && Date.parse(key.nextRotationAt) <= now) return "rotate";
  return undefined;
}
