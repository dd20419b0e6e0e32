import { createHash } from "node:crypto";
import { KmsError } from "../../shared/errors.js";

/**
 * The XKS proxy API's AES-GCM, as the spec lays it out: the AAD given to GCM binds the caller's
 * AAD and the ciphertext metadata (`uint16_be(len(aad)) || aad || uint8(len(md)) || md`), and the
 * ciphertext integrity value is SHA-256 over aad || metadata || iv || ciphertext || tag.
 */
export const IV_BYTES = 12;
export const TAG_BYTES = 16;
export const MAX_METADATA_BYTES = 20;

export function gcmAad(aad: Uint8Array, metadata: Uint8Array): Uint8Array {
  if (aad.length > 0xffff) throw new KmsError("UnsupportedOperationException", "additionalAuthenticatedData is longer than 65535 bytes");
  const out = Buffer.alloc(2 + aad.length + 1 + metadata.length);
  out.writeUInt16BE(aad.length, 0);
  out.set(aad, 2);
  out.writeUInt8(metadata.length, 2 + aad.length);
  out.set(metadata, 3 + aad.length);
  return out;
}

export const integrityValue = (parts: { aad: Uint8Array; metadata: Uint8Array; iv: Uint8Array; ciphertext: Uint8Array; tag: Uint8Array }): Uint8Array =>
  new Uint8Array(createHash("sha256").update(parts.aad).update(parts.metadata).update(parts.iv).update(parts.ciphertext).update(parts.tag).digest());

/**
 * Tether's ciphertext metadata: a format byte and the key version that encrypted (u32 BE), so a
 * rotation never breaks decryption of what AWS stored earlier. Authenticated by the GCM AAD.
 */
const FORMAT = 0x01;
export function metadataOf(version: number): Uint8Array {
  const md = Buffer.alloc(5);
  md.writeUInt8(FORMAT, 0);
  md.writeUInt32BE(version, 1);
  return md;
}

export function versionOf(metadata: Uint8Array | undefined): number {
  if (!metadata || metadata.length !== 5 || metadata[0] !== FORMAT) throw new KmsError("InvalidCiphertextException", "the ciphertext metadata is not Tether's");
  const version = Buffer.from(metadata).readUInt32BE(1);
  if (version < 1) throw new KmsError("InvalidCiphertextException", "the ciphertext metadata is not Tether's");
  return version;
}

/** Tether's AES-GCM body is iv || ciphertext || tag: the XKS API carries the three apart. */
export function splitBody(body: Uint8Array): { iv: Uint8Array; ciphertext: Uint8Array; tag: Uint8Array } {
  return { iv: body.subarray(0, IV_BYTES), ciphertext: body.subarray(IV_BYTES, body.length - TAG_BYTES), tag: body.subarray(body.length - TAG_BYTES) };
}

export function joinBody(parts: { iv: Uint8Array; ciphertext: Uint8Array; tag: Uint8Array }): Uint8Array {
  if (parts.iv.length !== IV_BYTES || parts.tag.length !== TAG_BYTES) throw new KmsError("InvalidCiphertextException", `the initialization vector must be ${IV_BYTES} bytes and the tag ${TAG_BYTES}`);
  return new Uint8Array(Buffer.concat([parts.iv, parts.ciphertext, parts.tag]));
}
