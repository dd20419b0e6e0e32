/**
 * The one way to reach an HSM, in two ports by what their callers need: KeyWrapping (the root
 * key's work: random, data keys, wrap, unwrap, health) and ResidentKeys (keys that live in the
 * HSM, `hsm::<slot>::<label>`). HsmPort is both. Implementations: RemoteHsm (functions → a hub →
 * a connector), the connector's Pkcs11KeyWrapping and Pkcs11ResidentKeys, and MemoryHsm
 * (software, for unit tests).
 */

/** Every HSM call carries the request id it serves and an absolute deadline (epoch ms). */
export type CallOpts = { requestId: string; deadline: number };

/** An HSM-resident key: `hsm::<slot>::<label>`. An RSA or EC pair's public half is `<label>_pk`. */
export type HsmKeyRef = { slot: string; label: string };

export type HsmSlotInfo = {
  /** The slot's name in Tether (`hsm::<slot>::<label>`), from the connector's config. */
  name: string;
  tokenLabel: string;
  manufacturer: string;
  model: string;
  serial: string;
};

export type HsmHealth = {
  /** Stable identity of the HSM (cluster) behind the connector: manufacturer/model/serial. */
  identity: string;
  slots: HsmSlotInfo[];
  /** Whether the deep check (a real crypto call under the root key) passed. */
  rootKeyOk: boolean;
  /** Duration of the deep check inside the HSM, in milliseconds. */
  checkMs: number;
};

/**
 * Key material wrapped by an HSM root key: AES-256-GCM, AAD = the caller's binding (tenant, key
 * id, version), so a blob moved to another key or row fails to unwrap.
 */
export type WrappedKey = {
  /** The label of the key that wrapped it: the root key, or a chosen HSM-resident AES key. */
  rootKeyLabel: string;
  /** Set when a chosen HSM-resident key wrapped it: that key's slot. */
  slot?: string | undefined;
  hsmIdentity: string;
  iv: Uint8Array;
  /** Ciphertext followed by the 16-byte GCM tag. */
  ciphertext: Uint8Array;
};

export const HSM_KEY_SPECS = ["AES_256", "RSA_2048", "RSA_3072", "RSA_4096", "ECC_NIST_P256", "ECC_NIST_P384"] as const;
export type HsmKeySpec = (typeof HSM_KEY_SPECS)[number];

export type HsmKeyInfo = HsmKeyRef & { spec: HsmKeySpec; sensitive: boolean; extractable: boolean };

export const ENCRYPTION_ALGS = ["AES_GCM", "RSAES_OAEP_SHA_256", "RSAES_PKCS1_V1_5"] as const;
export type EncryptionAlg = (typeof ENCRYPTION_ALGS)[number];

export const SIGNING_ALGS = [
  "RSASSA_PKCS1_V1_5_SHA_256",
  "RSASSA_PKCS1_V1_5_SHA_384",
  "RSASSA_PKCS1_V1_5_SHA_512",
  "RSASSA_PSS_SHA_256",
  "RSASSA_PSS_SHA_384",
  "RSASSA_PSS_SHA_512",
  "ECDSA_SHA_256",
  "ECDSA_SHA_384",
] as const;
export type SigningAlg = (typeof SIGNING_ALGS)[number];

/** RAW: the HSM side hashes the message; DIGEST: the message is already the digest. */
export type MessageType = "RAW" | "DIGEST";

/** The root key's work: what key material at rest needs. */
export interface KeyWrapping {
  /** Random bytes from the HSM's RNG. */
  random(length: number, o: CallOpts): Promise<Uint8Array>;
  /** A deep health check: the HSM answers and the root key works. */
  health(o: CallOpts): Promise<HsmHealth>;

  /** New key material from the HSM's RNG, wrapped under the root key; also returned in clear to the caller when asked. */
  generateDataKey(length: number, binding: Uint8Array, o: WrapOpts & { returnPlaintext: boolean }): Promise<{ wrapped: WrappedKey; plaintext?: Uint8Array }>;
  /** Wraps caller-supplied material (BYOK, software-generated private keys) under the root key or the chosen key. */
  wrap(material: Uint8Array, binding: Uint8Array, o: WrapOpts): Promise<WrappedKey>;
  /** Unwraps material; a wrong binding or a tampered blob is InvalidCiphertextException. */
  unwrap(wrapped: WrappedKey, binding: Uint8Array, o: CallOpts): Promise<Uint8Array>;
}

/** Keys that live in the HSM (`hsm::<slot>::<label>`): every operation on them runs there. */
export interface ResidentKeys {
  createKey(ref: HsmKeyRef, spec: HsmKeySpec, opts: { sensitive: boolean }, o: CallOpts): Promise<HsmKeyInfo>;
  destroyKey(ref: HsmKeyRef, o: CallOpts): Promise<void>;
  listKeys(slot: string, o: CallOpts): Promise<HsmKeyInfo[]>;
  /** The public half of an RSA or EC pair, DER SubjectPublicKeyInfo. */
  getPublicKey(ref: HsmKeyRef, o: CallOpts): Promise<Uint8Array>;

  /** AES_GCM returns iv(12) || ciphertext || tag(16); RSA algorithms return the RSA ciphertext. */
  encrypt(ref: HsmKeyRef, alg: EncryptionAlg, plaintext: Uint8Array, aad: Uint8Array, o: CallOpts): Promise<Uint8Array>;
  decrypt(ref: HsmKeyRef, alg: EncryptionAlg, ciphertext: Uint8Array, aad: Uint8Array, o: CallOpts): Promise<Uint8Array>;
  /** ECDSA signatures are DER-encoded, as AWS KMS returns them. */
  sign(ref: HsmKeyRef, alg: SigningAlg, message: Uint8Array, type: MessageType, o: CallOpts): Promise<Uint8Array>;
  verify(ref: HsmKeyRef, alg: SigningAlg, message: Uint8Array, type: MessageType, signature: Uint8Array, o: CallOpts): Promise<boolean>;
}

/** The whole HSM: what a connector serves and what the functions reach through it. */
export interface HsmPort extends KeyWrapping, ResidentKeys {}

/** Wrapping is under the HSM root key unless an HSM-resident AES key is chosen (Cosmian's wrappingKeyId). */
export type WrapOpts = CallOpts & { wrappingKey?: HsmKeyRef | undefined };

export const MAX_RANDOM_BYTES = 1024;
export const MAX_HSM_DATA_BYTES = 64 * 1024;

/** Parses `hsm::<slot>::<label>`. */
export function parseHsmKeyId(id: string): HsmKeyRef | undefined {
  const m = /^hsm::([A-Za-z0-9_-]{1,32})::([A-Za-z0-9._-]{1,64})$/.exec(id);
  return m ? { slot: m[1] as string, label: m[2] as string } : undefined;
}

export const hsmKeyId = (ref: HsmKeyRef): string => `hsm::${ref.slot}::${ref.label}`;

/**
 * The HSM-resident ECDSA P-256 key that signs audit checkpoints. Provisioned with the root key
 * (creating it lazily from several instances at once could leave two keys with one label); its
 * label cannot collide with a tenant's (`<12 digits>.<label>`).
 */
export const AUDIT_CHECKPOINT_KEY_LABEL = "tether.audit-checkpoints";
