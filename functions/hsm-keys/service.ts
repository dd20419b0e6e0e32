import { KmsError } from "../../shared/errors.js";
import type { EncryptionContext } from "../../shared/crypto/envelope.js";
import { parseHsmKeyId, type CallOpts, type EncryptionAlg, type HsmKeySpec, type MessageType, type SigningAlg } from "../../shared/hsm/port.js";
import type { CryptoService } from "../crypto-ops/service.js";
import type { Principal } from "../identity/principal.js";
import type { KeyRecord, KeyState, KeyUsage } from "../keys/model.js";
import type { ResidentEncryptionAlgorithm } from "../keys/specs.js";
import type { KeyLifecycle } from "../keys/lifecycle.js";
import type { CreateHsmKeyInput, KeyService } from "../keys/service.js";

export type HsmKeyView = { keyId: string; slot: string; label: string; keySpec: HsmKeySpec; keyUsage: KeyUsage; sensitive: boolean; keyState: KeyState };

/**
 * HSM-resident keys, `hsm::<slot>::<label>`: they live only in the HSM and every operation is
 * proxied to a connector. Each is also a KMS key of origin HSM (KeyService): its key policy and
 * grants decide who may use it, it is Enabled, Disabled or PendingDeletion like any key, and it is
 * destroyed only after a deletion window. Tenants share the HSM, so each tenant's labels are kept
 * apart inside it: the PKCS#11 label is `<tenant>.<label>`, and a tenant sees and reaches only its own.
 */
export class HsmKeyService {
  constructor(
    private readonly keys: KeyService,
    private readonly lifecycle: KeyLifecycle,
    private readonly crypto: CryptoService,
  ) {}

  async create(principal: Principal, input: CreateHsmKeyInput, call: CallOpts): Promise<HsmKeyView> {
    return view(await this.keys.createHsmKey(principal, input, call));
  }

  /** Schedules the key's destruction (7–30 days, as any KMS key; cancel with cancel-deletion). */
  async scheduleDeletion(principal: Principal, keyId: string, pendingWindowInDays: number): Promise<KeyRecord> {
    return this.lifecycle.scheduleDeletion(principal, this.refNamed(keyId), pendingWindowInDays);
  }

  /**
   * The tenant's HSM-resident keys in a slot that the caller may describe, from one page of at
   * most `limit` of the tenant's keys (a page may come back short, even empty, with a cursor).
   */
  async list(principal: Principal, slot: string, limit: number, cursor?: string): Promise<{ keys: HsmKeyView[]; cursor?: string }> {
    const page = await this.keys.list(principal, limit, cursor, { describable: true, hsmSlot: slot });
    return { keys: page.items.map(view), ...(page.cursor ? { cursor: page.cursor } : {}) };
  }

  async publicKey(principal: Principal, keyId: string, call: CallOpts): Promise<Uint8Array> {
    return (await this.crypto.getPublicKey(principal, this.refNamed(keyId), call)).publicKey;
  }

  async encrypt(principal: Principal, keyId: string, alg: EncryptionAlg, plaintext: Uint8Array, context: EncryptionContext | undefined, call: CallOpts) {
    return (await this.crypto.encrypt(principal, this.refNamed(keyId), plaintext, context, call, residentAlgorithm(alg))).ciphertext;
  }

  async decrypt(principal: Principal, keyId: string, alg: EncryptionAlg, ciphertext: Uint8Array, context: EncryptionContext | undefined, call: CallOpts) {
    return (await this.crypto.decrypt(principal, ciphertext, context, this.refNamed(keyId), call, residentAlgorithm(alg))).plaintext;
  }

  async sign(principal: Principal, keyId: string, alg: SigningAlg, message: Uint8Array, type: MessageType, call: CallOpts) {
    return (await this.crypto.sign(principal, this.refNamed(keyId), alg, message, type, call)).signature;
  }

  async verify(principal: Principal, keyId: string, alg: SigningAlg, message: Uint8Array, type: MessageType, signature: Uint8Array, call: CallOpts) {
    return (await this.crypto.verify(principal, this.refNamed(keyId), alg, message, type, signature, call)).valid;
  }

  /** Only `hsm::<slot>::<label>` ids are HSM-resident keys here: any other id does not exist on these routes. */
  private refNamed(keyId: string): string {
    if (!parseHsmKeyId(keyId)) throw new KmsError("NotFoundException", `key ${keyId.slice(0, 128)} does not exist`);
    return keyId;
  }
}

/** The HSM's algorithm names (these routes' own) as the key-spec registry names them. */
const residentAlgorithm = (alg: EncryptionAlg): ResidentEncryptionAlgorithm => (alg === "AES_GCM" ? "SYMMETRIC_DEFAULT" : alg);
const view = (k: KeyRecord): HsmKeyView => {
  const hsm = k.hsm as NonNullable<KeyRecord["hsm"]>;
  return { keyId: k.keyId, slot: hsm.slot, label: hsm.label, keySpec: hsm.spec, keyUsage: k.usage, sensitive: hsm.sensitive, keyState: k.state };
};
