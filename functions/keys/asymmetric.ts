import { constants, createHash, createPrivateKey, createPublicKey, privateDecrypt, privateEncrypt, publicEncrypt, randomBytes, verify as nodeVerify, type KeyObject } from "node:crypto";
import { p256, p384 } from "@noble/curves/nist.js";
import { KmsError } from "../../shared/errors.js";
import { invalidCiphertext } from "../../shared/crypto/envelope.js";
import { mgf1 } from "../../shared/crypto/mgf1.js";
import type { MessageType, SigningAlg } from "../../shared/hsm/port.js";
import type { RsaEncryptionAlg } from "./specs.js";

/**
 * Software signing, verification and RSA encryption with a KMS key's private key (PKCS#8 DER,
 * unwrapped through the HSM) or its public key (SPKI DER, stored in the clear). DIGEST messages
 * are signed without hashing again: RSA PKCS#1 v1.5 via DigestInfo, RSA-PSS via EMSA-PSS and a
 * raw RSA operation, ECDSA via @noble/curves (node:crypto always hashes).
 */
type Hash = "sha256" | "sha384" | "sha512";
const HASH_LEN: Record<Hash, number> = { sha256: 32, sha384: 48, sha512: 64 };
const DIGEST_INFO: Record<Hash, Buffer> = {
  sha256: Buffer.from("3031300d060960864801650304020105000420", "hex"),
  sha384: Buffer.from("3041300d060960864801650304020205000430", "hex"),
  sha512: Buffer.from("3051300d060960864801650304020305000440", "hex"),
};


const hashOf = (alg: SigningAlg): Hash => `sha${alg.slice(-3)}` as Hash;

export function digestFor(alg: SigningAlg, message: Uint8Array, type: MessageType): Buffer {
  const hash = hashOf(alg);
  if (type === "RAW") return createHash(hash).update(message).digest();
  if (message.length !== HASH_LEN[hash]) throw new KmsError("ValidationException", `a ${hash.toUpperCase()} digest is ${HASH_LEN[hash]} bytes`);
  return Buffer.from(message);
}

export function signWith(privateDer: Uint8Array, alg: SigningAlg, message: Uint8Array, type: MessageType): Uint8Array {
  const key = createPrivateKey({ key: Buffer.from(privateDer), format: "der", type: "pkcs8" });
  const hash = hashOf(alg);
  const digest = digestFor(alg, message, type);
  if (alg.startsWith("RSASSA_PKCS1_V1_5")) {
    return new Uint8Array(privateEncryptPkcs1(key, Buffer.concat([DIGEST_INFO[hash], digest])));
  }
  if (alg.startsWith("RSASSA_PSS")) {
    const modBits = key.asymmetricKeyDetails?.modulusLength ?? 0;
    const em = emsaPssEncode(digest, modBits - 1, hash);
    const k = Math.ceil(modBits / 8);
    return new Uint8Array(privateDecrypt({ key, padding: constants.RSA_NO_PADDING }, Buffer.concat([Buffer.alloc(k - em.length), em])));
  }
  const d = Buffer.from(key.export({ format: "jwk" }).d as string, "base64url");
  try {
    const curve = alg === "ECDSA_SHA_256" ? p256 : p384;
    return curve.sign(digest, d, { prehash: false, format: "der" });
  } finally {
    d.fill(0);
  }
}

export function verifyWith(spki: Uint8Array, alg: SigningAlg, message: Uint8Array, type: MessageType, signature: Uint8Array): boolean {
  const key = createPublicKey({ key: Buffer.from(spki), format: "der", type: "spki" });
  const hash = hashOf(alg);
  const digest = digestFor(alg, message, type);
  try {
    if (alg.startsWith("ECDSA")) {
      const curve = alg === "ECDSA_SHA_256" ? p256 : p384;
      const point = key.export({ format: "jwk" });
      const pub = Buffer.concat([Buffer.from([4]), Buffer.from(point.x as string, "base64url"), Buffer.from(point.y as string, "base64url")]);
      return curve.verify(signature, digest, pub, { prehash: false, format: "der" });
    }
    const padding = alg.startsWith("RSASSA_PSS") ? { padding: constants.RSA_PKCS1_PSS_PADDING, saltLength: HASH_LEN[hash] } : {};
    return type === "RAW"
      ? nodeVerify(hash, message, { key, ...padding }, signature)
      : verifyRsaDigest(key, hash, digest, signature, alg.startsWith("RSASSA_PSS"));
  } catch {
    return false;
  }
}

export function rsaEncrypt(spki: Uint8Array, alg: RsaEncryptionAlg, plaintext: Uint8Array): Uint8Array {
  const key = createPublicKey({ key: Buffer.from(spki), format: "der", type: "spki" });
  return new Uint8Array(publicEncrypt({ key, padding: constants.RSA_PKCS1_OAEP_PADDING, oaepHash: alg === "RSAES_OAEP_SHA_1" ? "sha1" : "sha256" }, plaintext));
}

export function rsaDecrypt(privateDer: Uint8Array, alg: RsaEncryptionAlg, ciphertext: Uint8Array): Uint8Array {
  const key = createPrivateKey({ key: Buffer.from(privateDer), format: "der", type: "pkcs8" });
  try {
    return new Uint8Array(privateDecrypt({ key, padding: constants.RSA_PKCS1_OAEP_PADDING, oaepHash: alg === "RSAES_OAEP_SHA_1" ? "sha1" : "sha256" }, ciphertext));
  } catch {
    throw invalidCiphertext();
  }
}

function privateEncryptPkcs1(key: KeyObject, data: Buffer): Buffer {
  return privateEncrypt({ key, padding: constants.RSA_PKCS1_PADDING }, data);
}

/** EMSA-PSS encoding (RFC 8017 §9.1.1) with salt length = hash length. */
function emsaPssEncode(mHash: Buffer, emBits: number, hash: Hash): Buffer {
  const hLen = HASH_LEN[hash];
  const emLen = Math.ceil(emBits / 8);
  const salt = randomBytes(hLen);
  const h = createHash(hash).update(Buffer.alloc(8)).update(mHash).update(salt).digest();
  const db = Buffer.concat([Buffer.alloc(emLen - 2 * hLen - 2), Buffer.from([1]), salt]);
  const mask = mgf1(hash, h, emLen - hLen - 1);
  const masked = Buffer.from(db.map((b, i) => b ^ (mask[i] as number)));
  masked[0] = (masked[0] as number) & (0xff >> (8 * emLen - emBits));
  return Buffer.concat([masked, h, Buffer.from([0xbc])]);
}

/** RSA verification of a bare digest: recover EM with the public key and check it. */
function verifyRsaDigest(key: KeyObject, hash: Hash, digest: Buffer, signature: Uint8Array, pss: boolean): boolean {
  const modBits = key.asymmetricKeyDetails?.modulusLength ?? 0;
  const em = publicDecryptRaw(key, signature, Math.ceil(modBits / 8));
  if (!pss) return em.equals(pkcs1Block(Buffer.concat([DIGEST_INFO[hash], digest]), em.length));
  const hLen = HASH_LEN[hash];
  const emBits = modBits - 1;
  const emLen = Math.ceil(emBits / 8);
  const e = em.subarray(em.length - emLen);
  if (e[e.length - 1] !== 0xbc) return false;
  const maskedDb = e.subarray(0, emLen - hLen - 1);
  const h = e.subarray(emLen - hLen - 1, emLen - 1);
  const mask = mgf1(hash, h, maskedDb.length);
  const db = Buffer.from(maskedDb.map((b, i) => b ^ (mask[i] as number)));
  db[0] = (db[0] as number) & (0xff >> (8 * emLen - emBits));
  const sep = emLen - 2 * hLen - 2;
  if (db.subarray(0, sep).some((b) => b !== 0) || db[sep] !== 1) return false;
  const salt = db.subarray(sep + 1);
  return createHash(hash).update(Buffer.alloc(8)).update(digest).update(salt).digest().equals(h);
}

function publicDecryptRaw(key: KeyObject, signature: Uint8Array, k: number): Buffer {
  return publicEncrypt({ key, padding: constants.RSA_NO_PADDING }, Buffer.concat([Buffer.alloc(Math.max(0, k - signature.length)), Buffer.from(signature)]));
}

/** EMSA-PKCS1-v1_5 block: 00 01 FF… 00 || T. */
function pkcs1Block(t: Buffer, k: number): Buffer {
  return Buffer.concat([Buffer.from([0, 1]), Buffer.alloc(k - t.length - 3, 0xff), Buffer.from([0]), t]);
}
