import { randomBytes, timingSafeEqual } from "node:crypto";
import { KmsError, isKmsError } from "../../shared/errors.js";
import { aadFor, canonicalContext, decodeHeader, encodeHeader, HEADER_BYTES, invalidCiphertext, type EncryptionContext } from "../../shared/crypto/envelope.js";
import { MAX_HSM_DATA_BYTES, type CallOpts, type EncryptionAlg, type HsmKeyRef, type KeyWrapping, type ResidentKeys, type MessageType, type SigningAlg } from "../../shared/hsm/port.js";
import { fromB64 } from "../../shared/protocol/codec.js";
import type { Principal } from "../identity/principal.js";
import { newKeyPair, type KeyPairSpec } from "../keys/key-pairs.js";
import type { KeyMaterial } from "../keys/material.js";
import { assertNotExpired, assertUsable, inTenant, namesHsmKey, type KeyRecord } from "../keys/model.js";
import type { KeyLifecycle } from "../keys/lifecycle.js";
import type { Authorizer, KeyAction } from "../policy/authorizer.js";
import { algorithmsOf, DATA_KEY_BYTES, encryptionOf, KEY_SPECS, type MacAlgorithm, type ResidentEncryptionAlgorithm, type RsaEncryptionAlg } from "../keys/specs.js";
import { rsaEncrypt, verifyWith } from "../keys/asymmetric.js";
import { primitiveOf } from "../keys/primitives.js";
import { CRYPTO_LIMITS } from "./limits.js";


export type EncryptResult = { keyId: string; ciphertext: Uint8Array };
export type DataKeySpec = { keySpec?: keyof typeof DATA_KEY_BYTES | undefined; numberOfBytes?: number | undefined };

/**
 * Cryptography on KMS keys, in software, with material unwrapped once through the HSM and
 * cached. The ciphertext header names the key and version; header and encryption context are the
 * AAD. Every decryption failure a caller could cause is the one InvalidCiphertextException.
 */
export class CryptoService {
  constructor(
    private readonly wrapping: KeyWrapping,
    private readonly resident: ResidentKeys,
    private readonly authorizer: Authorizer,
    private readonly keys: KeyLifecycle,
    private readonly material: KeyMaterial,
  ) {}

  /** Random bytes from the HSM's RNG. */
  async generateRandom(principal: Principal, numberOfBytes: number, call: CallOpts): Promise<Uint8Array> {
    await this.authorizer.authorize(principal, "kms:GenerateRandom", { tenant: principal.tenant });
    return this.wrapping.random(numberOfBytes, call);
  }

  async encrypt(
    principal: Principal,
    keyId: string,
    plaintext: Uint8Array,
    context: EncryptionContext | undefined,
    call: CallOpts,
    algorithm: ResidentEncryptionAlgorithm = "SYMMETRIC_DEFAULT",
    derivationContext?: Uint8Array,
  ): Promise<EncryptResult> {
    if (plaintext.length < 1) throw new KmsError("ValidationException", "plaintext must not be empty");
    const key = await this.usable(principal, keyId, "kms:Encrypt", call, context);
    assertNotExpired(key);
    const offered = encryptionOf(key);
    if (!offered.includes(algorithm)) throw new KmsError("ValidationException", `${algorithm} does not fit key ${key.keyId} (${key.spec}): it takes ${offered.join(", ")}`);
    const ref = residentRef(key, derivationContext);
    const max = ref ? MAX_HSM_DATA_BYTES : CRYPTO_LIMITS.plaintextBytes;
    if (plaintext.length > max) throw new KmsError("ValidationException", `plaintext must be 1 to ${max} bytes`);
    if (ref) return { keyId: key.arn, ciphertext: await this.resident.encrypt(ref, hsmAlgorithm(algorithm), plaintext, canonicalContext(context), call) };
    if (algorithm === "SYMMETRIC_DEFAULT") return { keyId: key.arn, ciphertext: await this.sealUnder(key, plaintext, context, call, derivationContext) };
    try {
      return { keyId: key.arn, ciphertext: rsaEncrypt(fromB64(key.publicKey ?? ""), algorithm as RsaEncryptionAlg, plaintext) };
    } catch {
      throw new KmsError("ValidationException", `plaintext is too long for ${key.spec} with ${algorithm}`);
    }
  }

  async decrypt(
    principal: Principal,
    ciphertext: Uint8Array,
    context: EncryptionContext | undefined,
    expectedKeyId: string | undefined,
    call: CallOpts,
    algorithm: ResidentEncryptionAlgorithm = "SYMMETRIC_DEFAULT",
    derivationContext?: Uint8Array,
  ) {
    // An asymmetric key, or a key that lives in the HSM: the caller names it (the ciphertext does not).
    if (algorithm !== "SYMMETRIC_DEFAULT" || (expectedKeyId !== undefined && namesHsmKey(expectedKeyId))) {
      if (!expectedKeyId) throw new KmsError("ValidationException", "keyId is required to decrypt with an asymmetric key");
      const key = await this.usable(principal, expectedKeyId, "kms:Decrypt", call, context);
      if (!encryptionOf(key).includes(algorithm)) throw new KmsError("InvalidKeyUsageException", `key ${key.keyId} is ${key.spec}: it does not decrypt with ${algorithm}`);
      const ref = residentRef(key, derivationContext);
      if (ref) return { keyId: key.arn, plaintext: await this.resident.decrypt(ref, hsmAlgorithm(algorithm), ciphertext, canonicalContext(context), call) };
      if (algorithm === "SYMMETRIC_DEFAULT") throw new KmsError("ValidationException", "a symmetric ciphertext names its key: give no keyId, or the key it names");
      return { keyId: key.arn, plaintext: await this.material.using(key, 1, call, (p) => primitiveOf(p, "decrypter", key).decrypt(algorithm as RsaEncryptionAlg, ciphertext)) };
    }
    const { key, plaintext } = await this.open(principal, ciphertext, context, expectedKeyId, "kms:Decrypt", call, derivationContext);
    return { keyId: key.arn, plaintext };
  }

  /** The material of every version that still has it, for keys created exportable. */
  async exportKey(principal: Principal, keyId: string, call: CallOpts) {
    const key = await this.keys.forUse(principal, keyId, "kms:ExportKey", call);
    assertUsable(key);
    if (!key.exportable) throw new KmsError("KMSInvalidStateException", `key ${key.keyId} was not created exportable`);
    const versions = [];
    // Copies: the response is built after further awaits, by when a cached entry may have been evicted and zeroed.
    for (let v = 1; v <= key.primaryVersion; v++) versions.push({ version: v, material: Uint8Array.from(await this.material.forVersion(key, v, call)) });
    return { key, versions };
  }

  async sign(principal: Principal, keyId: string, alg: SigningAlg, message: Uint8Array, type: MessageType, call: CallOpts) {
    const key = await this.forSigning(principal, keyId, alg, "kms:Sign", call);
    assertNotExpired(key);
    const ref = residentRef(key);
    if (ref) return { keyId: key.arn, signature: await this.resident.sign(ref, alg, message, type, call) };
    return { keyId: key.arn, signature: await this.material.using(key, 1, call, (p) => primitiveOf(p, "signer", key).sign(alg, message, type)) };
  }

  async verify(principal: Principal, keyId: string, alg: SigningAlg, message: Uint8Array, type: MessageType, signature: Uint8Array, call: CallOpts) {
    const key = await this.forSigning(principal, keyId, alg, "kms:Verify", call);
    const ref = residentRef(key);
    if (ref) return { keyId: key.arn, valid: await this.resident.verify(ref, alg, message, type, signature, call) };
    return { keyId: key.arn, valid: verifyWith(fromB64(key.publicKey ?? ""), alg, message, type, signature) };
  }

  async getPublicKey(principal: Principal, keyId: string, call: CallOpts) {
    const key = await this.keys.forUse(principal, keyId, "kms:GetPublicKey", call);
    const ref = residentRef(key);
    if (!key.publicKey && !(ref && "pair" in KEY_SPECS[key.spec].material)) throw new KmsError("UnsupportedOperationException", `key ${key.keyId} is ${key.spec}: it has no public key`);
    assertUsable(key);
    const publicKey = ref ? await this.resident.getPublicKey(ref, call) : fromB64(key.publicKey ?? "");
    const algorithms = algorithmsOf(key.spec, key.usage);
    return { key, publicKey, encryptionAlgorithms: algorithms.encryption, signingAlgorithms: algorithms.signing };
  }

  async generateMac(principal: Principal, keyId: string, alg: MacAlgorithm, message: Uint8Array, call: CallOpts) {
    const key = await this.forMac(principal, keyId, alg, "kms:GenerateMac", call);
    assertNotExpired(key);
    return { keyId: key.arn, mac: await this.mac(key, message, call) };
  }

  async verifyMac(principal: Principal, keyId: string, alg: MacAlgorithm, message: Uint8Array, mac: Uint8Array, call: CallOpts) {
    const key = await this.forMac(principal, keyId, alg, "kms:VerifyMac", call);
    const expected = await this.mac(key, message, call);
    return { keyId: key.arn, valid: expected.length === mac.length && timingSafeEqual(expected, mac) };
  }

  private mac(key: KeyRecord, message: Uint8Array, call: CallOpts): Promise<Uint8Array> {
    return this.material.using(key, 1, call, (p) => primitiveOf(p, "mac", key).mac(message));
  }

  private async forSigning(principal: Principal, keyId: string, alg: SigningAlg, action: KeyAction, call: CallOpts): Promise<KeyRecord> {
    const key = await this.keys.forUse(principal, keyId, action, call);
    assertUsable(key);
    if (key.usage !== "SIGN_VERIFY") throw new KmsError("InvalidKeyUsageException", `key ${key.keyId} is for ${key.usage}, not signing`);
    if (!KEY_SPECS[key.spec].signing.includes(alg)) throw new KmsError("ValidationException", `${alg} does not fit key spec ${key.spec}`);
    return key;
  }

  private async forMac(principal: Principal, keyId: string, alg: MacAlgorithm, action: KeyAction, call: CallOpts): Promise<KeyRecord> {
    const key = await this.keys.forUse(principal, keyId, action, call);
    assertUsable(key);
    if (key.usage !== "GENERATE_VERIFY_MAC") throw new KmsError("InvalidKeyUsageException", `key ${key.keyId} is for ${key.usage}, not MACs`);
    if (KEY_SPECS[key.spec].mac !== alg) throw new KmsError("ValidationException", `${alg} does not fit key spec ${key.spec}`);
    return key;
  }

  async generateDataKey(principal: Principal, keyId: string, spec: DataKeySpec, context: EncryptionContext | undefined, withPlaintext: boolean, call: CallOpts) {
    const length = dataKeyLength(spec);
    const key = await this.symmetricForSealing(principal, keyId, withPlaintext ? "kms:GenerateDataKey" : "kms:GenerateDataKeyWithoutPlaintext", call, context);
    const plaintext = new Uint8Array(randomBytes(length));
    const ciphertext = await this.sealUnder(key, plaintext, context, call);
    if (withPlaintext) return { keyId: key.arn, ciphertext, plaintext };
    plaintext.fill(0);
    return { keyId: key.arn, ciphertext };
  }

  /**
   * A new RSA or ECC key pair for the caller's own use: the public key, the private key encrypted
   * under a symmetric KMS key, and (unless withPlaintext is false) the private key itself.
   */
  async generateDataKeyPair(principal: Principal, keyId: string, keyPairSpec: KeyPairSpec, context: EncryptionContext | undefined, withPlaintext: boolean, call: CallOpts) {
    const key = await this.symmetricForSealing(principal, keyId, withPlaintext ? "kms:GenerateDataKeyPair" : "kms:GenerateDataKeyPairWithoutPlaintext", call, context);
    const pair = await newKeyPair(keyPairSpec);
    const privateKey = new Uint8Array(pair.privateKey);
    const encrypted = await this.sealUnder(key, privateKey, context, call);
    const publicKey = new Uint8Array(pair.publicKey);
    if (withPlaintext) return { keyId: key.arn, publicKey, privateKeyCiphertext: encrypted, privateKeyPlaintext: privateKey };
    privateKey.fill(0);
    return { keyId: key.arn, publicKey, privateKeyCiphertext: encrypted };
  }

  /** Up to 100 encryptions in one call; each item succeeds or fails on its own. */
  batchEncrypt(
    principal: Principal,
    items: { keyId: string; plaintext: Uint8Array; encryptionContext?: EncryptionContext | undefined; derivationContext?: Uint8Array | undefined }[],
    call: CallOpts,
  ) {
    return perItem(items.map((i) => this.encrypt(principal, i.keyId, i.plaintext, i.encryptionContext, call, "SYMMETRIC_DEFAULT", i.derivationContext)));
  }

  /** Up to 100 decryptions in one call; each item succeeds or fails on its own. */
  batchDecrypt(
    principal: Principal,
    items: { ciphertextBlob: Uint8Array; encryptionContext?: EncryptionContext | undefined; keyId?: string | undefined; derivationContext?: Uint8Array | undefined }[],
    call: CallOpts,
  ) {
    return perItem(items.map((i) => this.decrypt(principal, i.ciphertextBlob, i.encryptionContext, i.keyId, call, "SYMMETRIC_DEFAULT", i.derivationContext)));
  }

  /** Decrypts under the source key and encrypts under the destination key; the plaintext never leaves. */
  async reEncrypt(
    principal: Principal,
    input: { ciphertext: Uint8Array; sourceContext?: EncryptionContext | undefined; sourceKeyId?: string | undefined; destinationKeyId: string; destinationContext?: EncryptionContext | undefined },
    call: CallOpts,
  ) {
    const source = await this.open(principal, input.ciphertext, input.sourceContext, input.sourceKeyId, "kms:ReEncryptFrom", call);
    try {
      const destination = await this.symmetricForSealing(principal, input.destinationKeyId, "kms:ReEncryptTo", call, input.destinationContext);
      return { sourceKeyId: source.key.arn, keyId: destination.arn, ciphertext: await this.sealUnder(destination, source.plaintext, input.destinationContext, call) };
    } finally {
      source.plaintext.fill(0);
    }
  }

  private async sealUnder(key: KeyRecord, plaintext: Uint8Array, context: EncryptionContext | undefined, call: CallOpts, derivation?: Uint8Array): Promise<Uint8Array> {
    const header = encodeHeader({ keyId: key.keyId, version: key.primaryVersion });
    return this.material.sealing(key, call, (p) => new Uint8Array(Buffer.concat([header, primitiveOf(p, "aead", key).seal(plaintext, aadFor(header, context))])), { derivation });
  }

  private async open(
    principal: Principal,
    ciphertext: Uint8Array,
    context: EncryptionContext | undefined,
    expectedKeyId: string | undefined,
    action: KeyAction,
    call: CallOpts,
    derivation?: Uint8Array,
  ) {
    const header = decodeHeader(ciphertext);
    // The version's record is read alongside the key's metadata and policy check.
    const prefetched = this.material.prefetch(principal.tenant, header.keyId, header.version);
    const key = await this.keys.forUse(principal, header.keyId, action, call, context).catch((err: unknown) => {
      // A ciphertext naming a key this caller cannot see is just an invalid ciphertext.
      throw isKmsError(err, "NotFoundException") ? invalidCiphertext() : err;
    });
    if (expectedKeyId !== undefined && expectedKeyId !== key.keyId && expectedKeyId !== key.arn) {
      throw new KmsError("IncorrectKeyException", "the ciphertext was not encrypted under the key you named");
    }
    assertUsable(key);
    if (key.spec !== "SYMMETRIC_DEFAULT" || header.version > key.primaryVersion) throw invalidCiphertext();
    const plaintext = await this.material.using(key, header.version, call, (p) => primitiveOf(p, "aead", key).open(ciphertext.subarray(HEADER_BYTES), aadFor(ciphertext.subarray(0, HEADER_BYTES), context)), { derivation, prefetched });
    return { key, plaintext };
  }

  /** A symmetric encryption key that may still produce ciphertexts (data keys, key pairs, re-encryption). */
  private async symmetricForSealing(principal: Principal, keyId: string, action: KeyAction, call: CallOpts, context: EncryptionContext | undefined): Promise<KeyRecord> {
    const key = await this.usable(principal, keyId, action, call, context);
    if (key.spec !== "SYMMETRIC_DEFAULT") throw new KmsError("ValidationException", `${action.slice(4)} needs a symmetric key; key ${key.keyId} is ${key.spec}`);
    assertNotExpired(key);
    return key;
  }

  private async usable(principal: Principal, keyId: string, action: KeyAction, call: CallOpts, context?: EncryptionContext): Promise<KeyRecord> {
    const key = await this.keys.forUse(principal, keyId, action, call, context);
    assertUsable(key);
    if (key.usage !== "ENCRYPT_DECRYPT") throw new KmsError("InvalidKeyUsageException", `key ${key.keyId} is for ${key.usage}, not encryption`);
    return key;
  }
}

/**
 * A key that lives in the HSM (`hsm::<slot>::<label>`), as the HSM names it: its operations go
 * to the HSM through whichever door they came in by; other keys' crypto runs here. Such a key is
 * never derived: a derivation context for it is refused.
 */
function residentRef(key: KeyRecord, derivation?: Uint8Array): HsmKeyRef | undefined {
  if (!key.hsm) return undefined;
  if (derivation) throw new KmsError("ValidationException", `key ${key.keyId} is not derived: give no derivationContext`);
  return inTenant(key.tenant, key.hsm);
}

/** An encryption algorithm as the HSM names it (one the key offers: `encryptionOf` was asked before). */
function hsmAlgorithm(algorithm: ResidentEncryptionAlgorithm): EncryptionAlg {
  if (algorithm === "SYMMETRIC_DEFAULT") return "AES_GCM";
  if (algorithm === "RSAES_OAEP_SHA_1") throw new KmsError("ValidationException", "RSAES_OAEP_SHA_1 is not offered by keys that live in the HSM: use RSAES_OAEP_SHA_256");
  return algorithm;
}

function dataKeyLength(spec: DataKeySpec): number {
  if (spec.keySpec && spec.numberOfBytes) throw new KmsError("ValidationException", "give keySpec or numberOfBytes, not both");
  if (spec.keySpec) return DATA_KEY_BYTES[spec.keySpec];
  if (spec.numberOfBytes) {
    if (!Number.isInteger(spec.numberOfBytes) || spec.numberOfBytes < 1 || spec.numberOfBytes > CRYPTO_LIMITS.dataKeyBytes) throw new KmsError("ValidationException", `numberOfBytes must be 1 to ${CRYPTO_LIMITS.dataKeyBytes}`);
    return spec.numberOfBytes;
  }
  throw new KmsError("ValidationException", "keySpec or numberOfBytes is required");
}

export type ItemResult<T> = { ok: true; value: T } | { ok: false; error: KmsError };

/** Settles every item; an unexpected failure is reported as KMSInternalException, without detail. */
async function perItem<T>(work: Promise<T>[]): Promise<ItemResult<T>[]> {
  return (await Promise.allSettled(work)).map((r) =>
    r.status === "fulfilled"
      ? { ok: true, value: r.value }
      : { ok: false, error: r.reason instanceof KmsError ? r.reason : new KmsError("KMSInternalException", "Internal error") },
  );
}
