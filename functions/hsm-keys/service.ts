import { KmsError } from "../../shared/errors.js";
import { canonicalContext, type EncryptionContext } from "../../shared/crypto/envelope.js";
import type { CallOpts, EncryptionAlg, HsmKeyInfo, HsmKeyRef, HsmKeySpec, HsmPort, MessageType, SigningAlg } from "../../shared/hsm/port.js";
import { hsmKeyId, parseHsmKeyId } from "../../shared/hsm/port.js";
import type { Principal } from "../identity/principal.js";
import type { Action, Authorizer } from "../policy/authorizer.js";
import { inTenant, outOfTenant } from "./labels.js";

/**
 * HSM-resident keys, `hsm::<slot>::<label>`: they live only in the HSM and every operation is
 * proxied to a connector. Tenants share the HSM, so each tenant's labels are kept apart inside it:
 * the PKCS#11 label is `<tenant>.<label>`, and a tenant sees and reaches only its own.
 */
export type HsmKeyView = { keyId: string; slot: string; label: string; keySpec: HsmKeySpec; sensitive: boolean };

export class HsmKeyService {
  constructor(
    private readonly hsm: HsmPort,
    private readonly authorizer: Authorizer,
  ) {}

  async create(principal: Principal, input: { slot: string; label: string; keySpec: HsmKeySpec; sensitive: boolean }, call: CallOpts): Promise<HsmKeyView> {
    await this.authorizer.authorize(principal, "kms:CreateKey", { tenant: principal.tenant });
    const info = await this.hsm.createKey(this.inHsm(principal, { slot: input.slot, label: input.label }), input.keySpec, { sensitive: input.sensitive }, call);
    return this.view(principal, info);
  }

  async destroy(principal: Principal, keyId: string, call: CallOpts): Promise<void> {
    const ref = await this.authorized(principal, keyId, "kms:ScheduleKeyDeletion");
    await this.hsm.destroyKey(ref, call);
  }

  async list(principal: Principal, slot: string, call: CallOpts): Promise<HsmKeyView[]> {
    await this.authorizer.authorize(principal, "kms:ListKeys", { tenant: principal.tenant });
    const prefix = `${principal.tenant}.`;
    return (await this.hsm.listKeys(slot, call)).filter((k) => k.label.startsWith(prefix)).map((k) => this.view(principal, k));
  }

  async publicKey(principal: Principal, keyId: string, call: CallOpts): Promise<Uint8Array> {
    return this.hsm.getPublicKey(await this.authorized(principal, keyId, "kms:GetPublicKey"), call);
  }

  async encrypt(principal: Principal, keyId: string, alg: EncryptionAlg, plaintext: Uint8Array, context: EncryptionContext | undefined, call: CallOpts) {
    return this.hsm.encrypt(await this.authorized(principal, keyId, "kms:Encrypt"), alg, plaintext, canonicalContext(context), call);
  }

  async decrypt(principal: Principal, keyId: string, alg: EncryptionAlg, ciphertext: Uint8Array, context: EncryptionContext | undefined, call: CallOpts) {
    return this.hsm.decrypt(await this.authorized(principal, keyId, "kms:Decrypt"), alg, ciphertext, canonicalContext(context), call);
  }

  async sign(principal: Principal, keyId: string, alg: SigningAlg, message: Uint8Array, type: MessageType, call: CallOpts) {
    return this.hsm.sign(await this.authorized(principal, keyId, "kms:Sign"), alg, message, type, call);
  }

  async verify(principal: Principal, keyId: string, alg: SigningAlg, message: Uint8Array, type: MessageType, signature: Uint8Array, call: CallOpts) {
    return this.hsm.verify(await this.authorized(principal, keyId, "kms:Verify"), alg, message, type, signature, call);
  }

  private async authorized(principal: Principal, keyId: string, action: Action): Promise<HsmKeyRef> {
    const ref = parseHsmKeyId(keyId);
    if (!ref) throw new KmsError("NotFoundException", `key ${keyId} does not exist`);
    await this.authorizer.authorize(principal, action, { tenant: principal.tenant });
    return this.inHsm(principal, ref);
  }

  private inHsm(principal: Principal, ref: HsmKeyRef): HsmKeyRef {
    return inTenant(principal.tenant, ref);
  }

  private view(principal: Principal, info: HsmKeyInfo): HsmKeyView {
    const label = outOfTenant(principal.tenant, info.label);
    return { keyId: hsmKeyId({ slot: info.slot, label }), slot: info.slot, label, keySpec: info.spec, sensitive: info.sensitive };
  }
}
