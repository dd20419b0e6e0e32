import { createCipheriv, createDecipheriv, createPublicKey, diffieHellman, generateKeyPairSync, hkdfSync, randomBytes, type KeyObject } from "node:crypto";
import { KmsError } from "../errors.js";

/**
 * Sealed transport for key material crossing the connector link: X25519 + HKDF-SHA256 +
 * AES-256-GCM to the recipient's public key, bound to a context (the request id and operation),
 * so the relays between the functions and the connector never see plaintext keys.
 *
 *   sealed = ephemeralPublicKey(32) || iv(12) || ciphertext || tag(16)
 */
const INFO = Buffer.from("tether-seal/v1", "utf8");
const PUB = 32;
const IV = 12;
const TAG = 16;

export type SealKeyPair = { publicKey: Uint8Array; privateKey: KeyObject };

export function newSealKeyPair(): SealKeyPair {
  const { publicKey, privateKey } = generateKeyPairSync("x25519");
  return { publicKey: rawPublic(publicKey), privateKey };
}

const rawPublic = (key: KeyObject): Uint8Array => Buffer.from(key.export({ format: "jwk" }).x as string, "base64url");

const publicFromRaw = (raw: Uint8Array): KeyObject => {
  if (raw.length !== PUB) throw new KmsError("ValidationException", "a sealing public key is 32 bytes");
  return createPublicKey({ key: { kty: "OKP", crv: "X25519", x: Buffer.from(raw).toString("base64url") }, format: "jwk" });
};

function deriveKey(privateKey: KeyObject, publicKey: KeyObject, ephemeral: Uint8Array, recipient: Uint8Array): Buffer {
  const shared = diffieHellman({ privateKey, publicKey });
  try {
    return Buffer.from(hkdfSync("sha256", shared, Buffer.concat([ephemeral, recipient]), INFO, 32));
  } finally {
    shared.fill(0);
  }
}

/** Seals `plaintext` to `recipientPublicKey`; only the holder of its private key can open it. */
export function seal(recipientPublicKey: Uint8Array, plaintext: Uint8Array, context: Uint8Array): Uint8Array {
  const recipient = publicFromRaw(recipientPublicKey);
  const eph = newSealKeyPair();
  const key = deriveKey(eph.privateKey, recipient, eph.publicKey, recipientPublicKey);
  try {
    const iv = randomBytes(IV);
    const cipher = createCipheriv("aes-256-gcm", key, iv).setAAD(context);
    const body = Buffer.concat([cipher.update(plaintext), cipher.final()]);
    return Buffer.concat([eph.publicKey, iv, body, cipher.getAuthTag()]);
  } finally {
    key.fill(0);
  }
}

/** Opens a sealed box with the recipient's key pair; any tampering or wrong context fails. */
export function open(recipient: SealKeyPair, sealed: Uint8Array, context: Uint8Array): Uint8Array {
  if (sealed.length < PUB + IV + TAG) throw new KmsError("InvalidCiphertextException", "sealed payload is too short");
  const buf = Buffer.from(sealed.buffer, sealed.byteOffset, sealed.byteLength);
  const ephemeral = buf.subarray(0, PUB);
  const key = deriveKey(recipient.privateKey, publicFromRaw(ephemeral), ephemeral, recipient.publicKey);
  try {
    const decipher = createDecipheriv("aes-256-gcm", key, buf.subarray(PUB, PUB + IV)).setAAD(context);
    decipher.setAuthTag(buf.subarray(buf.length - TAG));
    return new Uint8Array(Buffer.concat([decipher.update(buf.subarray(PUB + IV, buf.length - TAG)), decipher.final()]));
  } catch {
    throw new KmsError("InvalidCiphertextException", "sealed payload could not be opened");
  } finally {
    key.fill(0);
  }
}

/** The context a sealed payload is bound to: its request and operation. */
export const sealContext = (requestId: string, op: string): Uint8Array => Buffer.from(`${op}\n${requestId}`, "utf8");
