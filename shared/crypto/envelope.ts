import { KmsError } from "../errors.js";

/**
 * Tether's ciphertext: a self-describing, versioned header followed by the AES-256-GCM body.
 *
 *   0x01 || keyId(16, the UUID's bytes) || version(u32 BE) || iv(12) || ciphertext || tag(16)
 *
 * The header (first 21 bytes) and the canonical encryption context together are the AAD, so the
 * header is authenticated and the context is never stored.
 */
export const FORMAT_V1 = 0x01;
export const HEADER_BYTES = 21;
export const IV_BYTES = 12;
export const TAG_BYTES = 16;

export type Header = { keyId: string; version: number };

const invalid = () => new KmsError("InvalidCiphertextException", "the ciphertext is invalid, was made with another key, or its encryption context does not match");

export function uuidToBytes(uuid: string): Uint8Array {
  const hex = uuid.replace(/-/g, "");
  if (!/^[0-9a-f]{32}$/.test(hex)) throw new KmsError("ValidationException", "a key id is a UUID");
  return new Uint8Array(Buffer.from(hex, "hex"));
}

export function bytesToUuid(b: Uint8Array): string {
  const h = Buffer.from(b).toString("hex");
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20)}`;
}

export function encodeHeader(h: Header): Uint8Array {
  const out = new Uint8Array(HEADER_BYTES);
  out[0] = FORMAT_V1;
  out.set(uuidToBytes(h.keyId), 1);
  new DataView(out.buffer).setUint32(17, h.version);
  return out;
}

/** Reads the header of a ciphertext; anything malformed is InvalidCiphertextException. */
export function decodeHeader(ciphertext: Uint8Array): Header {
  if (ciphertext.length < HEADER_BYTES + IV_BYTES + TAG_BYTES || ciphertext[0] !== FORMAT_V1) throw invalid();
  const version = new DataView(ciphertext.buffer, ciphertext.byteOffset, ciphertext.byteLength).getUint32(17);
  if (version < 1) throw invalid();
  return { keyId: bytesToUuid(ciphertext.subarray(1, 17)), version };
}

export type EncryptionContext = Record<string, string>;

/** Canonical JSON of an encryption context: keys sorted, no whitespace. */
export function canonicalContext(context: EncryptionContext | undefined): Uint8Array {
  const entries = Object.entries(context ?? {}).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  return new Uint8Array(Buffer.from(JSON.stringify(Object.fromEntries(entries)), "utf8"));
}

/** The AAD of a ciphertext: its header and its canonical context. */
export const aadFor = (header: Uint8Array, context: EncryptionContext | undefined): Uint8Array =>
  new Uint8Array(Buffer.concat([header, canonicalContext(context)]));

/** What a version's wrapped material is bound to: the wrap fails anywhere else. */
export const wrapBinding = (tenant: string, keyId: string, version: number): Uint8Array =>
  new Uint8Array(Buffer.from(`tether/key-material/v1\n${tenant}\n${keyId}\n${version}`, "utf8"));

export { invalid as invalidCiphertext };
