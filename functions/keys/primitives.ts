import { KmsError } from "../../shared/errors.js";
import { createHmac, hkdfSync } from "node:crypto";
import { aesGcmOpen, aesGcmSeal } from "../../shared/crypto/software.js";
import type { MessageType, SigningAlg } from "../../shared/hsm/port.js";
import { rsaDecrypt, signWith } from "./asymmetric.js";
import type { MacAlgorithm, RsaEncryptionAlg } from "./specs.js";

/** Authenticated encryption under one key (AES-256-GCM): a body is iv || ciphertext || tag. */
export interface Aead {
  seal(plaintext: Uint8Array, aad: Uint8Array): Uint8Array;
  /** Throws InvalidCiphertextException for any body that does not open. */
  open(body: Uint8Array, aad: Uint8Array): Uint8Array;
}

export interface Mac {
  mac(message: Uint8Array): Uint8Array;
}

export interface Signer {
  sign(alg: SigningAlg, message: Uint8Array, type: MessageType): Uint8Array;
}

export interface Decrypter {
  decrypt(alg: RsaEncryptionAlg, ciphertext: Uint8Array): Uint8Array;
}

/** What a key version's material can do; which of these a key has is its spec's (see specs.ts). */
export type Primitives = { aead?: Aead; mac?: Mac; signer?: Signer; decrypter?: Decrypter };

/** The primitive an operation needs from a key's material (its spec was checked before: a missing one is InvalidKeyUsageException). */
export function primitiveOf<K extends keyof Primitives>(p: Primitives, kind: K, key: { keyId: string; spec: string }): NonNullable<Primitives[K]> {
  const primitive = p[kind];
  if (!primitive) throw new KmsError("InvalidKeyUsageException", `key ${key.keyId} (${key.spec}) has no ${kind}`);
  return primitive;
}

export const aeadOf = (key: Uint8Array): Aead => ({ seal: (plaintext, aad) => aesGcmSeal(key, plaintext, aad), open: (body, aad) => aesGcmOpen(key, body, aad) });

export const macOf = (key: Uint8Array, alg: MacAlgorithm): Mac => ({ mac: (message) => new Uint8Array(createHmac(`sha${alg.slice(-3)}`, key).update(message).digest()) });

/** A private key (PKCS#8 DER) that signs. */
export const signerOf = (privateDer: Uint8Array): Signer => ({ sign: (alg, message, type) => signWith(privateDer, alg, message, type) });

/** An RSA private key (PKCS#8 DER) that decrypts. */
export const decrypterOf = (privateDer: Uint8Array): Decrypter => ({ decrypt: (alg, ciphertext) => rsaDecrypt(privateDer, alg, ciphertext) });

/** A derived key's key for one derivation context: HKDF-SHA-256 of the version's material (zero it after use). */
export const derivedKey = (material: Uint8Array, context: Uint8Array): Uint8Array => new Uint8Array(hkdfSync("sha256", material, Buffer.from("tether-derived/v1"), context, 32));
