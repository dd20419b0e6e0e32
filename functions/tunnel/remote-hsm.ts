import type { CallOpts, EncryptionAlg, HsmHealth, HsmKeyInfo, HsmKeyRef, HsmKeySpec, HsmPort, MessageType, SigningAlg, WrapOpts, WrappedKey } from "../../shared/hsm/port.js";
import { fromB64, toB64, wrappedFromWire, wrappedToWire } from "../../shared/protocol/codec.js";
import type { Hub } from "./link.js";

/**
 * The HSM, reached through a hub (direct or API Gateway) and a connector: each call becomes one authenticated
 * request frame. Key material and HSM plaintexts cross only sealed, on the channel between this
 * function's certified key pair and the key the serving connector signed (see channel.ts).
 */
export class RemoteHsm implements HsmPort {
  constructor(private readonly hub: Hub) {}

  async random(length: number, o: CallOpts): Promise<Uint8Array> {
    return fromB64((await this.hub.call("random", () => ({ length }), o)).result.bytes);
  }

  async health(o: CallOpts): Promise<HsmHealth> {
    return (await this.hub.call("health", () => ({}), o)).result;
  }

  async generateDataKey(length: number, binding: Uint8Array, o: WrapOpts & { returnPlaintext: boolean }) {
    const wrappingKey = o.wrappingKey ? { wrappingKey: { ...o.wrappingKey } } : {};
    const { result, channel } = await this.hub.call("generateDataKey", () => ({ length, binding: toB64(binding), returnPlaintext: o.returnPlaintext, ...wrappingKey }), o);
    const wrapped = wrappedFromWire(result.wrapped);
    return o.returnPlaintext && result.sealed ? { wrapped, plaintext: channel.open(result.sealed, "generateDataKey", o.requestId) } : { wrapped };
  }

  async wrap(material: Uint8Array, binding: Uint8Array, o: WrapOpts): Promise<WrappedKey> {
    const wrappingKey = o.wrappingKey ? { wrappingKey: { ...o.wrappingKey } } : {};
    const { result } = await this.hub.call("wrap", (ch) => ({ sealed: ch.seal(material, "wrap", o.requestId), binding: toB64(binding), ...wrappingKey }), o);
    return wrappedFromWire(result.wrapped);
  }

  async unwrap(wrapped: WrappedKey, binding: Uint8Array, o: CallOpts): Promise<Uint8Array> {
    const { result, channel } = await this.hub.call("unwrap", () => ({ wrapped: wrappedToWire(wrapped), binding: toB64(binding) }), o);
    return channel.open(result.sealed, "unwrap", o.requestId);
  }

  async createKey(ref: HsmKeyRef, spec: HsmKeySpec, opts: { sensitive: boolean }, o: CallOpts): Promise<HsmKeyInfo> {
    return (await this.hub.call("createKey", () => ({ ...ref, spec, sensitive: opts.sensitive }), o)).result;
  }

  async destroyKey(ref: HsmKeyRef, o: CallOpts): Promise<void> {
    await this.hub.call("destroyKey", () => ({ ...ref }), o);
  }

  async listKeys(slot: string, o: CallOpts): Promise<HsmKeyInfo[]> {
    return (await this.hub.call("listKeys", () => ({ slot }), o)).result.keys;
  }

  async getPublicKey(ref: HsmKeyRef, o: CallOpts): Promise<Uint8Array> {
    return fromB64((await this.hub.call("getPublicKey", () => ({ ...ref }), o)).result.spki);
  }

  async encrypt(ref: HsmKeyRef, alg: EncryptionAlg, plaintext: Uint8Array, aad: Uint8Array, o: CallOpts): Promise<Uint8Array> {
    const { result } = await this.hub.call("encrypt", (ch) => ({ ...ref, alg, sealed: ch.seal(plaintext, "encrypt", o.requestId), aad: toB64(aad) }), o);
    return fromB64(result.ciphertext);
  }

  async decrypt(ref: HsmKeyRef, alg: EncryptionAlg, ciphertext: Uint8Array, aad: Uint8Array, o: CallOpts): Promise<Uint8Array> {
    const { result, channel } = await this.hub.call("decrypt", () => ({ ...ref, alg, ciphertext: toB64(ciphertext), aad: toB64(aad) }), o);
    return channel.open(result.sealed, "decrypt", o.requestId);
  }

  async sign(ref: HsmKeyRef, alg: SigningAlg, message: Uint8Array, type: MessageType, o: CallOpts): Promise<Uint8Array> {
    return fromB64((await this.hub.call("sign", () => ({ ...ref, alg, message: toB64(message), messageType: type }), o)).result.signature);
  }

  async verify(ref: HsmKeyRef, alg: SigningAlg, message: Uint8Array, type: MessageType, signature: Uint8Array, o: CallOpts): Promise<boolean> {
    return (await this.hub.call("verify", () => ({ ...ref, alg, message: toB64(message), messageType: type, signature: toB64(signature) }), o)).result.valid;
  }
}
