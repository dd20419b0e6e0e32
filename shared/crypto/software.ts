import { createCipheriv, createDecipheriv, randomBytes } from "node:crypto";
import { invalidCiphertext, IV_BYTES, TAG_BYTES } from "./envelope.js";

/** AES-256-GCM in software with a key held in memory: iv(12) || ciphertext || tag(16). */
export function aesGcmSeal(key: Uint8Array, plaintext: Uint8Array, aad: Uint8Array): Uint8Array {
  const iv = randomBytes(IV_BYTES);
  const cipher = createCipheriv("aes-256-gcm", key, iv).setAAD(aad);
  return new Uint8Array(Buffer.concat([iv, cipher.update(plaintext), cipher.final(), cipher.getAuthTag()]));
}

/** Opens what aesGcmSeal sealed; any failure is the one InvalidCiphertextException. */
export function aesGcmOpen(key: Uint8Array, body: Uint8Array, aad: Uint8Array): Uint8Array {
  if (body.length < IV_BYTES + TAG_BYTES) throw invalidCiphertext();
  const b = Buffer.from(body.buffer, body.byteOffset, body.byteLength);
  try {
    const d = createDecipheriv("aes-256-gcm", key, b.subarray(0, IV_BYTES)).setAAD(aad);
    d.setAuthTag(b.subarray(b.length - TAG_BYTES));
    return new Uint8Array(Buffer.concat([d.update(b.subarray(IV_BYTES, b.length - TAG_BYTES)), d.final()]));
  } catch {
    throw invalidCiphertext();
  }
}
