import { createCipheriv, createDecipheriv, createPublicKey, diffieHellman, generateKeyPairSync, hkdfSync, randomBytes, type KeyObject } from "node:crypto";
import { KmsError } from "../errors.js";

/**
 * Sealed transport for key material crossing the connector link: X25519 + HKDF-SHA256 +
 * AES-256-GCM, so the relays between the functions and the connector never see plaintext keys.
 *
 * The connector has a key pair for its process lifetime (announced in its hello); the requesting
 * function has a short-lived one (rotated every minute, sent with each request). Both derive the
 * same channel key from X25519 and HKDF (salt = requester key || connector key) and cache it, so
 * each message costs one AES-GCM, not a key agreement. Each box is bound to its context (request
 * id and operation) as AAD:
 *
 *   box = 0x02 || iv(12) || ciphertext || tag(16)
 */
const INFO = Buffer.from("tether-seal/v2", "utf8");
const VERSION = 0x02;
const PUB = 32;
const IV = 12;
const TAG = 16;
const MAX_CHANNELS = 1024;

export type Role = "requester" | "connector";

/** One side's X25519 key pair and the channel keys it has derived with its peers. */
export class SealKeys {
  readonly publicKey: Uint8Array;
  private readonly privateKey: KeyObject;
  private readonly channels = new Map<string, Buffer>();

  constructor(readonly role: Role) {
    const pair = generateKeyPairSync("x25519");
    this.privateKey = pair.privateKey;
    this.publicKey = new Uint8Array(Buffer.from(pair.publicKey.export({ format: "jwk" }).x as string, "base64url"));
  }

  /** The channel key shared with `peerPublicKey` (derived once, then cached). */
  channelWith(peerPublicKey: Uint8Array): Buffer {
    const id = Buffer.from(peerPublicKey).toString("base64");
    const known = this.channels.get(id);
    if (known) return known;
    if (peerPublicKey.length !== PUB) throw new KmsError("ValidationException", "a sealing public key is 32 bytes");
    const peer = createPublicKey({ key: { kty: "OKP", crv: "X25519", x: Buffer.from(peerPublicKey).toString("base64url") }, format: "jwk" });
    const shared = diffieHellman({ privateKey: this.privateKey, publicKey: peer });
    const salt = this.role === "requester" ? Buffer.concat([this.publicKey, peerPublicKey]) : Buffer.concat([peerPublicKey, this.publicKey]);
    const key = Buffer.from(hkdfSync("sha256", shared, salt, INFO, 32));
    shared.fill(0);
    if (this.channels.size >= MAX_CHANNELS) this.forget(this.channels.keys().next().value as string);
    this.channels.set(id, key);
    return key;
  }

  private forget(id: string): void {
    this.channels.get(id)?.fill(0);
    this.channels.delete(id);
  }

  /** Zeroes every channel key. */
  destroy(): void {
    for (const id of [...this.channels.keys()]) this.forget(id);
  }
}

/** Seals `plaintext` for the peer: only the two ends of the channel can open it. */
export function seal(mine: SealKeys, peerPublicKey: Uint8Array, plaintext: Uint8Array, context: Uint8Array): Uint8Array {
  const iv = randomBytes(IV);
  const cipher = createCipheriv("aes-256-gcm", mine.channelWith(peerPublicKey), iv).setAAD(context);
  const body = Buffer.concat([cipher.update(plaintext), cipher.final()]);
  return Buffer.concat([Buffer.from([VERSION]), iv, body, cipher.getAuthTag()]);
}

/** Opens a box from the peer; a wrong key, a wrong context or any tampering fails the same way. */
export function open(mine: SealKeys, peerPublicKey: Uint8Array, box: Uint8Array, context: Uint8Array): Uint8Array {
  const fail = () => new KmsError("InvalidCiphertextException", "sealed payload could not be opened");
  if (box.length < 1 + IV + TAG || box[0] !== VERSION) throw fail();
  const buf = Buffer.from(box.buffer, box.byteOffset, box.byteLength);
  try {
    const decipher = createDecipheriv("aes-256-gcm", mine.channelWith(peerPublicKey), buf.subarray(1, 1 + IV)).setAAD(context);
    decipher.setAuthTag(buf.subarray(buf.length - TAG));
    return new Uint8Array(Buffer.concat([decipher.update(buf.subarray(1 + IV, buf.length - TAG)), decipher.final()]));
  } catch {
    throw fail();
  }
}

/** The context a sealed payload is bound to: its request and operation. */
export const sealContext = (requestId: string, op: string): Uint8Array => Buffer.from(`${op}\n${requestId}`, "utf8");

/** A requester's key pair, replaced every `rotateMs` so that a leaked one exposes little. */
export class RotatingSealKeys {
  private current: { keys: SealKeys; until: number } | undefined;

  constructor(
    private readonly rotateMs = 60_000,
    private readonly now: () => number = Date.now,
  ) {}

  get(): SealKeys {
    const t = this.now();
    if (!this.current || t >= this.current.until) {
      const previous = this.current?.keys;
      this.current = { keys: new SealKeys("requester"), until: t + this.rotateMs };
      // Requests in flight keep their own reference; let them finish before zeroing.
      if (previous) setTimeout(() => previous.destroy(), 30_000).unref();
    }
    return this.current.keys;
  }
}
