import {
  createCipheriv,
  createDecipheriv,
  createHash,
  generateKeyPairSync,
  publicEncrypt,
  privateDecrypt,
  randomBytes,
  sign as nodeSign,
  verify as nodeVerify,
  constants,
  type KeyObject,
} from "node:crypto";
import { KmsError } from "../errors.js";
import type { CallOpts, EncryptionAlg, HsmHealth, HsmKeyInfo, HsmKeyRef, HsmKeySpec, HsmPort, MessageType, SigningAlg, WrapOpts, WrappedKey } from "./port.js";

type Resident = { info: HsmKeyInfo; secret?: Buffer; privateKey?: KeyObject; publicKey?: KeyObject };
type Op = "random" | "health" | "generateDataKey" | "wrap" | "unwrap" | "createKey" | "destroyKey" | "listKeys" | "getPublicKey" | "encrypt" | "decrypt" | "sign" | "verify";

const ROOT_LABEL = "memory-root";
const IDENTITY = "memory/MemoryHsm/0";

function gcmSeal(key: Buffer, plaintext: Uint8Array, aad: Uint8Array): { iv: Buffer; body: Buffer } {
  const iv = randomBytes(12);
  const c = createCipheriv("aes-256-gcm", key, iv).setAAD(aad);
  return { iv, body: Buffer.concat([c.update(plaintext), c.final(), c.getAuthTag()]) };
}

function gcmOpen(key: Buffer, iv: Uint8Array, body: Uint8Array, aad: Uint8Array): Uint8Array {
  try {
    const b = Buffer.from(body);
    const d = createDecipheriv("aes-256-gcm", key, iv).setAAD(aad);
    d.setAuthTag(b.subarray(b.length - 16));
    return new Uint8Array(Buffer.concat([d.update(b.subarray(0, b.length - 16)), d.final()]));
  } catch {
    throw new KmsError("InvalidCiphertextException", "ciphertext could not be decrypted with this key and context");
  }
}

const HASH = (alg: SigningAlg) => `sha${alg.slice(-3)}`;

/**
 * A software HsmPort for unit tests: real cryptography with node:crypto, counted calls and a
 * switchable outage. Signing takes RAW messages only (node:crypto cannot sign a bare digest
 * with PSS or ECDSA).
 */
export class MemoryHsm implements HsmPort {
  readonly calls: Record<Op, number> = {
    random: 0, health: 0, generateDataKey: 0, wrap: 0, unwrap: 0, createKey: 0, destroyKey: 0,
    listKeys: 0, getPublicKey: 0, encrypt: 0, decrypt: 0, sign: 0, verify: 0,
  };
  available = true;
  private readonly root = randomBytes(32);
  private readonly keys = new Map<string, Resident>();

  async random(length: number, o: CallOpts): Promise<Uint8Array> {
    this.enter("random", o);
    return new Uint8Array(randomBytes(length));
  }

  async health(o: CallOpts): Promise<HsmHealth> {
    this.enter("health", o);
    return { identity: IDENTITY, slots: [], rootKeyOk: true, checkMs: 0 };
  }

  async generateDataKey(length: number, binding: Uint8Array, o: WrapOpts & { returnPlaintext: boolean }) {
    this.enter("generateDataKey", o);
    const material = randomBytes(length);
    const wrapped = this.wrapNow(material, binding, o.wrappingKey);
    return o.returnPlaintext ? { wrapped, plaintext: new Uint8Array(material) } : { wrapped };
  }

  async wrap(material: Uint8Array, binding: Uint8Array, o: WrapOpts): Promise<WrappedKey> {
    this.enter("wrap", o);
    return this.wrapNow(material, binding, o.wrappingKey);
  }

  async unwrap(wrapped: WrappedKey, binding: Uint8Array, o: CallOpts): Promise<Uint8Array> {
    this.enter("unwrap", o);
    const key = wrapped.slot ? this.secret({ slot: wrapped.slot, label: wrapped.rootKeyLabel }) : wrapped.rootKeyLabel === ROOT_LABEL ? this.root : undefined;
    if (!key) throw new KmsError("NotFoundException", "unknown root key");
    return gcmOpen(key, wrapped.iv, wrapped.ciphertext, binding);
  }

  private wrapNow(material: Uint8Array, binding: Uint8Array, wrappingKey: HsmKeyRef | undefined): WrappedKey {
    const { iv, body } = gcmSeal(wrappingKey ? this.secret(wrappingKey) : this.root, material, binding);
    const by = wrappingKey ? { rootKeyLabel: wrappingKey.label, slot: wrappingKey.slot } : { rootKeyLabel: ROOT_LABEL };
    return { ...by, hsmIdentity: IDENTITY, iv: new Uint8Array(iv), ciphertext: new Uint8Array(body) };
  }

  private secret(ref: HsmKeyRef): Buffer {
    const k = this.key(ref).secret;
    if (!k) throw new KmsError("ValidationException", `HSM key "${ref.label}" is not an AES key`);
    return k;
  }

  async createKey(ref: HsmKeyRef, spec: HsmKeySpec, opts: { sensitive: boolean }, o: CallOpts): Promise<HsmKeyInfo> {
    this.enter("createKey", o);
    const id = `${ref.slot}/${ref.label}`;
    if (this.keys.has(id)) throw new KmsError("AlreadyExistsException", `an HSM key labelled "${ref.label}" exists`);
    const info: HsmKeyInfo = { ...ref, spec, sensitive: opts.sensitive, extractable: !opts.sensitive };
    if (spec === "AES_256") this.keys.set(id, { info, secret: randomBytes(32) });
    else if (spec.startsWith("RSA")) this.keys.set(id, { info, ...generateKeyPairSync("rsa", { modulusLength: Number(spec.slice(4)) }) });
    else this.keys.set(id, { info, ...generateKeyPairSync("ec", { namedCurve: spec === "ECC_NIST_P256" ? "P-256" : "P-384" }) });
    return info;
  }

  async destroyKey(ref: HsmKeyRef, o: CallOpts): Promise<void> {
    this.enter("destroyKey", o);
    if (!this.keys.delete(`${ref.slot}/${ref.label}`)) throw new KmsError("NotFoundException", `no HSM key labelled "${ref.label}"`);
  }

  async listKeys(slot: string, o: CallOpts): Promise<HsmKeyInfo[]> {
    this.enter("listKeys", o);
    return [...this.keys.values()].map((k) => k.info).filter((k) => k.slot === slot);
  }

  async getPublicKey(ref: HsmKeyRef, o: CallOpts): Promise<Uint8Array> {
    this.enter("getPublicKey", o);
    const pub = this.key(ref).publicKey;
    if (!pub) throw new KmsError("UnsupportedOperationException", "that HSM key has no public key");
    return new Uint8Array(pub.export({ type: "spki", format: "der" }));
  }

  async encrypt(ref: HsmKeyRef, alg: EncryptionAlg, plaintext: Uint8Array, aad: Uint8Array, o: CallOpts): Promise<Uint8Array> {
    this.enter("encrypt", o);
    const k = this.key(ref);
    if (alg === "AES_GCM" && k.secret) {
      const { iv, body } = gcmSeal(k.secret, plaintext, aad);
      return new Uint8Array(Buffer.concat([iv, body]));
    }
    if (alg !== "AES_GCM" && k.publicKey) {
      const padding = alg === "RSAES_OAEP_SHA_256" ? constants.RSA_PKCS1_OAEP_PADDING : constants.RSA_PKCS1_PADDING;
      return new Uint8Array(publicEncrypt({ key: k.publicKey, padding, oaepHash: "sha256" }, plaintext));
    }
    throw new KmsError("ValidationException", `${alg} does not fit that key`);
  }

  async decrypt(ref: HsmKeyRef, alg: EncryptionAlg, ciphertext: Uint8Array, aad: Uint8Array, o: CallOpts): Promise<Uint8Array> {
    this.enter("decrypt", o);
    const k = this.key(ref);
    if (alg === "AES_GCM" && k.secret) return gcmOpen(k.secret, ciphertext.subarray(0, 12), ciphertext.subarray(12), aad);
    if (alg === "RSAES_OAEP_SHA_256" && k.privateKey) {
      try {
        return new Uint8Array(privateDecrypt({ key: k.privateKey, padding: constants.RSA_PKCS1_OAEP_PADDING, oaepHash: "sha256" }, ciphertext));
      } catch {
        throw new KmsError("InvalidCiphertextException", "ciphertext could not be decrypted with this key");
      }
    }
    throw new KmsError("UnsupportedOperationException", `MemoryHsm cannot decrypt with ${alg}`);
  }

  async sign(ref: HsmKeyRef, alg: SigningAlg, message: Uint8Array, type: MessageType, o: CallOpts): Promise<Uint8Array> {
    this.enter("sign", o);
    const k = this.key(ref);
    if (type !== "RAW" || !k.privateKey) throw new KmsError("UnsupportedOperationException", "MemoryHsm signs RAW messages with key pairs only");
    return new Uint8Array(nodeSign(HASH(alg), message, this.signingKey(k.privateKey, alg)));
  }

  async verify(ref: HsmKeyRef, alg: SigningAlg, message: Uint8Array, type: MessageType, signature: Uint8Array, o: CallOpts): Promise<boolean> {
    this.enter("verify", o);
    const k = this.key(ref);
    if (type !== "RAW" || !k.publicKey) throw new KmsError("UnsupportedOperationException", "MemoryHsm verifies RAW messages with key pairs only");
    return nodeVerify(HASH(alg), message, this.signingKey(k.publicKey, alg), signature);
  }

  private signingKey(key: KeyObject, alg: SigningAlg) {
    if (alg.startsWith("RSASSA_PSS")) return { key, padding: constants.RSA_PKCS1_PSS_PADDING, saltLength: createHash(HASH(alg)).digest().length };
    return { key, dsaEncoding: "der" as const };
  }

  private key(ref: HsmKeyRef): Resident {
    const k = this.keys.get(`${ref.slot}/${ref.label}`);
    if (!k) throw new KmsError("NotFoundException", `no HSM key labelled "${ref.label}"`);
    return k;
  }

  private enter(op: Op, o: CallOpts): void {
    this.calls[op] += 1;
    if (!this.available) throw new KmsError("HsmUnavailableException", "no HSM connector is connected");
    if (Date.now() > o.deadline) throw new KmsError("DependencyTimeoutException", "deadline passed");
  }
}
