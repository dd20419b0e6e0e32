import { KmsError } from "../../shared/errors.js";
import { canonicalContext, type EncryptionContext } from "../../shared/crypto/envelope.js";
import { parseHsmKeyId, type CallOpts, type EncryptionAlg, type HsmKeyRef, type HsmKeySpec, type HsmPort, type MessageType, type SigningAlg } from "../../shared/hsm/port.js";
import type { Principal } from "../identity/principal.js";
import { assertUsable, type KeyRecord, type KeyState, type KeyUsage } from "../keys/model.js";
import type { CreateHsmKeyInput, KeyService } from "../keys/service.js";
import type { KeyAction } from "../policy/authorizer.js";
import { inTenant } from "./labels.js";

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
    private readonly hsm: HsmPort,
    private readonly keys: KeyService,
  ) {}

  async create(principal: Principal, input: CreateHsmKeyInput, call: CallOpts): Promise<HsmKeyView> {
    return view(await this.keys.createHsmKey(principal, input, call));
  }

  /** Schedules the key's destruction (7–30 days, as any KMS key; cancel with cancel-deletion). */
  async scheduleDeletion(principal: Principal, keyId: string, pendingWindowInDays: number): Promise<KeyRecord> {
    this.refNamed(keyId);
    return this.keys.scheduleDeletion(principal, keyId, pendingWindowInDays);
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
    return this.hsm.getPublicKey(await this.usable(principal, keyId, "kms:GetPublicKey", undefined, call), call);
  }

  async encrypt(principal: Principal, keyId: string, alg: EncryptionAlg, plaintext: Uint8Array, context: EncryptionContext | undefined, call: CallOpts) {
    return this.hsm.encrypt(await this.usable(principal, keyId, "kms:Encrypt", "ENCRYPT_DECRYPT", call, context), alg, plaintext, canonicalContext(context), call);
  }

  async decrypt(principal: Principal, keyId: string, alg: EncryptionAlg, ciphertext: Uint8Array, context: EncryptionContext | undefined, call: CallOpts) {
    return this.hsm.decrypt(await this.usable(principal, keyId, "kms:Decrypt", "ENCRYPT_DECRYPT", call, context), alg, ciphertext, canonicalContext(context), call);
  }

  async sign(principal: Principal, keyId: string, alg: SigningAlg, message: Uint8Array, type: MessageType, call: CallOpts) {
    return this.hsm.sign(await this.usable(principal, keyId, "kms:Sign", "SIGN_VERIFY", call), alg, message, type, call);
  }

  async verify(principal: Principal, keyId: string, alg: SigningAlg, message: Uint8Array, type: MessageType, signature: Uint8Array, call: CallOpts) {
    return this.hsm.verify(await this.usable(principal, keyId, "kms:Verify", "SIGN_VERIFY", call), alg, message, type, signature, call);
  }

  /** The key as the HSM names it, once its policy allows the action and its state and usage allow use. */
  private async usable(principal: Principal, keyId: string, action: KeyAction, usage: KeyUsage | undefined, call: CallOpts, context?: EncryptionContext): Promise<HsmKeyRef> {
    this.refNamed(keyId);
    const key = await this.keys.forUse(principal, keyId, action, call, context);
    if (!key.hsm) throw new KmsError("NotFoundException", `key ${keyId} does not exist`);
    assertUsable(key);
    if (usage && key.usage !== usage) throw new KmsError("InvalidKeyUsageException", `key ${keyId} is for ${key.usage}`);
    return inTenant(key.tenant, key.hsm);
  }

  private refNamed(keyId: string): void {
    if (!parseHsmKeyId(keyId)) throw new KmsError("NotFoundException", `key ${keyId.slice(0, 128)} does not exist`);
  }
}

const view = (k: KeyRecord): HsmKeyView => {
  const hsm = k.hsm as NonNullable<KeyRecord["hsm"]>;
  return { keyId: k.keyId, slot: hsm.slot, label: hsm.label, keySpec: hsm.spec, keyUsage: k.usage, sensitive: hsm.sensitive, keyState: k.state };
};
