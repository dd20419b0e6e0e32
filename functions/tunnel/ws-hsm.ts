import { RotatingSealKeys, open, seal, sealContext, type SealKeys } from "../../shared/crypto/seal.js";
import type { CallOpts, EncryptionAlg, HsmHealth, HsmKeyInfo, HsmKeyRef, HsmKeySpec, HsmPort, MessageType, SigningAlg, WrapOpts, WrappedKey } from "../../shared/hsm/port.js";
import { fromB64, toB64, wrappedFromWire, wrappedToWire } from "../../shared/protocol/codec.js";
import type { OpName } from "../../shared/protocol/frames.js";
import type { ConnectorLink, Peer } from "./link.js";

/**
 * HsmPort through a connector link (direct or API Gateway): each call becomes one request frame. Key material crosses
 * only sealed, on the channel between this function's short-lived key pair and the key of the
 * connector that serves the request.
 */
export class WsHsm implements HsmPort {
  private readonly keys = new RotatingSealKeys();

  constructor(private readonly hub: ConnectorLink) {}

  /** Seals for, and opens from, whichever connector serves the request. */
  private channel(op: OpName, o: CallOpts) {
    const mine: SealKeys = this.keys.get();
    const context = sealContext(o.requestId, op);
    let served: Peer | undefined;
    return {
      sealTo: toB64(mine.publicKey),
      sealFor: (peer: Peer, m: Uint8Array) => toB64(seal(mine, peer.sealingKey, m, context)),
      open: (box: string, peer = served) => {
        if (!peer) throw new Error("no connector answered");
        return open(mine, peer.sealingKey, fromB64(box), context);
      },
      /** Params builder that records which connector got the request. */
      via: <P>(build: (peer: Peer) => P) => (peer: Peer) => {
        served = peer;
        return build(peer);
      },
    };
  }

  async random(length: number, o: CallOpts): Promise<Uint8Array> {
    return fromB64((await this.hub.call("random", { length }, o)).bytes);
  }

  health(o: CallOpts): Promise<HsmHealth> {
    return this.hub.call("health", {}, o);
  }

  async generateDataKey(length: number, binding: Uint8Array, o: WrapOpts & { returnPlaintext: boolean }) {
    const ch = this.channel("generateDataKey", o);
    const wrappingKey = o.wrappingKey ? { wrappingKey: { ...o.wrappingKey } } : {};
    const out = await this.hub.call("generateDataKey", ch.via(() => ({ length, binding: toB64(binding), ...wrappingKey, ...(o.returnPlaintext ? { sealTo: ch.sealTo } : {}) })), o);
    const wrapped = wrappedFromWire(out.wrapped);
    return o.returnPlaintext && out.sealed ? { wrapped, plaintext: ch.open(out.sealed) } : { wrapped };
  }

  async wrap(material: Uint8Array, binding: Uint8Array, o: WrapOpts): Promise<WrappedKey> {
    const ch = this.channel("wrap", o);
    const wrappingKey = o.wrappingKey ? { wrappingKey: { ...o.wrappingKey } } : {};
    const out = await this.hub.call("wrap", ch.via((peer) => ({ sealed: ch.sealFor(peer, material), binding: toB64(binding), sealTo: ch.sealTo, ...wrappingKey })), o);
    return wrappedFromWire(out.wrapped);
  }

  async unwrap(wrapped: WrappedKey, binding: Uint8Array, o: CallOpts): Promise<Uint8Array> {
    const ch = this.channel("unwrap", o);
    const out = await this.hub.call("unwrap", ch.via(() => ({ wrapped: wrappedToWire(wrapped), binding: toB64(binding), sealTo: ch.sealTo })), o);
    return ch.open(out.sealed);
  }

  createKey(ref: HsmKeyRef, spec: HsmKeySpec, opts: { sensitive: boolean }, o: CallOpts): Promise<HsmKeyInfo> {
    return this.hub.call("createKey", { ...ref, spec, sensitive: opts.sensitive }, o);
  }

  async destroyKey(ref: HsmKeyRef, o: CallOpts): Promise<void> {
    await this.hub.call("destroyKey", { ...ref }, o);
  }

  async listKeys(slot: string, o: CallOpts): Promise<HsmKeyInfo[]> {
    return (await this.hub.call("listKeys", { slot }, o)).keys;
  }

  async getPublicKey(ref: HsmKeyRef, o: CallOpts): Promise<Uint8Array> {
    return fromB64((await this.hub.call("getPublicKey", { ...ref }, o)).spki);
  }

  async encrypt(ref: HsmKeyRef, alg: EncryptionAlg, plaintext: Uint8Array, aad: Uint8Array, o: CallOpts): Promise<Uint8Array> {
    const ch = this.channel("encrypt", o);
    const out = await this.hub.call("encrypt", ch.via((peer) => ({ ...ref, alg, sealed: ch.sealFor(peer, plaintext), aad: toB64(aad), sealTo: ch.sealTo })), o);
    return fromB64(out.ciphertext);
  }

  async decrypt(ref: HsmKeyRef, alg: EncryptionAlg, ciphertext: Uint8Array, aad: Uint8Array, o: CallOpts): Promise<Uint8Array> {
    const ch = this.channel("decrypt", o);
    const out = await this.hub.call("decrypt", ch.via(() => ({ ...ref, alg, ciphertext: toB64(ciphertext), aad: toB64(aad), sealTo: ch.sealTo })), o);
    return ch.open(out.sealed);
  }

  async sign(ref: HsmKeyRef, alg: SigningAlg, message: Uint8Array, type: MessageType, o: CallOpts): Promise<Uint8Array> {
    return fromB64((await this.hub.call("sign", { ...ref, alg, message: toB64(message), messageType: type }, o)).signature);
  }

  async verify(ref: HsmKeyRef, alg: SigningAlg, message: Uint8Array, type: MessageType, signature: Uint8Array, o: CallOpts): Promise<boolean> {
    return (await this.hub.call("verify", { ...ref, alg, message: toB64(message), messageType: type, signature: toB64(signature) }, o)).valid;
  }
}
