import { createCipheriv, createDecipheriv, createHmac, createPublicKey, diffieHellman, generateKeyPairSync, hkdfSync, randomBytes, timingSafeEqual, type KeyObject } from "node:crypto";
import { KmsError } from "../errors.js";

/**
 * The sealed channel between a requesting function and a connector, across whatever relays the
 * link (API Gateway, load balancers, proxies that terminate TLS): X25519 between the function's
 * short-lived key pair and the connector's, HKDF-SHA256 to two keys — one that seals key material
 * and HSM plaintexts (AES-256-GCM, each box bound to its request id and operation), one that
 * authenticates every request and every answer (HMAC-SHA256). Both public keys are authenticated
 * end to end (see shared/protocol/frames.ts): the connector's by its Ed25519 credential over the
 * hub's challenge, the function's by the functions' deployment identity. A relay that substitutes
 * either key, rewrites a frame or sends one of its own is refused; it never reads the payloads.
 *
 * The channel keys are derived once per pair of keys (salt = requester key || connector key) and
 * cached, so a message costs one AES-GCM or one HMAC, not a key agreement.
 *
 *   box = 0x03 || iv(12) || ciphertext || tag(16)
 */
const INFO = Buffer.from("tether-channel/v3", "utf8");
const VERSION = 0x03;
const PUB = 32;
const IV = 12;
const TAG = 16;
const MAX_CHANNELS = 1024;

export type Role = "requester" | "connector";

/** The two keys one pair of ends shares. */
type ChannelKeys = { seal: Buffer; mac: Buffer };

/** One side's X25519 key pair and the channel keys it has derived with its peers. */
export class SealKeys {
  readonly publicKey: Uint8Array;
  private readonly privateKey: KeyObject;
  private readonly channels = new Map<string, ChannelKeys>();

  constructor(readonly role: Role) {
    const pair = generateKeyPairSync("x25519");
    this.privateKey = pair.privateKey;
    this.publicKey = new Uint8Array(Buffer.from(pair.publicKey.export({ format: "jwk" }).x as string, "base64url"));
  }

  /** The channel keys shared with `peerPublicKey` (derived once, then cached). */
  channelWith(peerPublicKey: Uint8Array): ChannelKeys {
    const id = Buffer.from(peerPublicKey).toString("base64");
    const known = this.channels.get(id);
    if (known) return known;
    if (peerPublicKey.length !== PUB) throw new KmsError("ValidationException", "a sealing public key is 32 bytes");
    const peer = createPublicKey({ key: { kty: "OKP", crv: "X25519", x: Buffer.from(peerPublicKey).toString("base64url") }, format: "jwk" });
    const shared = diffieHellman({ privateKey: this.privateKey, publicKey: peer });
    const salt = this.role === "requester" ? Buffer.concat([this.publicKey, peerPublicKey]) : Buffer.concat([peerPublicKey, this.publicKey]);
    const okm = Buffer.from(hkdfSync("sha256", shared, salt, INFO, 64));
    shared.fill(0);
    const keys = { seal: okm.subarray(0, 32), mac: okm.subarray(32) };
    if (this.channels.size >= MAX_CHANNELS) this.forget(this.channels.keys().next().value as string);
    this.channels.set(id, keys);
    return keys;
  }

  private forget(id: string): void {
    const keys = this.channels.get(id);
    keys?.seal.fill(0);
    keys?.mac.fill(0);
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
  const cipher = createCipheriv("aes-256-gcm", mine.channelWith(peerPublicKey).seal, iv).setAAD(context);
  const body = Buffer.concat([cipher.update(plaintext), cipher.final()]);
  return Buffer.concat([Buffer.from([VERSION]), iv, body, cipher.getAuthTag()]);
}

/**
 * Opens a box from the peer; a wrong key, a wrong context or any tampering fails the same way. The
 * box came through the relay, so a failure is the channel's (HsmUnavailableException), never a
 * statement about the caller's own data.
 */
export function open(mine: SealKeys, peerPublicKey: Uint8Array, box: Uint8Array, context: Uint8Array): Uint8Array {
  const fail = () => new KmsError("HsmUnavailableException", "a sealed payload from the HSM connector could not be opened");
  if (box.length < 1 + IV + TAG || box[0] !== VERSION) throw fail();
  const buf = Buffer.from(box.buffer, box.byteOffset, box.byteLength);
  try {
    const decipher = createDecipheriv("aes-256-gcm", mine.channelWith(peerPublicKey).seal, buf.subarray(1, 1 + IV)).setAAD(context);
    decipher.setAuthTag(buf.subarray(buf.length - TAG));
    return new Uint8Array(Buffer.concat([decipher.update(buf.subarray(1 + IV, buf.length - TAG)), decipher.final()]));
  } catch {
    throw fail();
  }
}

/** The channel's MAC (base64) over `message`: what authenticates a request or an answer end to end. */
export function mac(mine: SealKeys, peerPublicKey: Uint8Array, message: string): string {
  return createHmac("sha256", mine.channelWith(peerPublicKey).mac).update(message).digest("base64");
}

/** Whether `tag` is the channel's MAC over `message` (constant time). */
export function macValid(mine: SealKeys, peerPublicKey: Uint8Array, message: string, tag: string): boolean {
  const expected = Buffer.from(mac(mine, peerPublicKey, message), "base64");
  const given = Buffer.from(tag, "base64");
  return given.length === expected.length && timingSafeEqual(given, expected);
}

/** The context a sealed payload is bound to: its request and operation. */
export const sealContext = (requestId: string, op: string): Uint8Array => Buffer.from(`${op}\n${requestId}`, "utf8");
