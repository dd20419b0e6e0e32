import { constants, createPublicKey, publicEncrypt, randomBytes } from "node:crypto";
import pkcs11js from "pkcs11js";
import { isKmsError, KmsError } from "../../shared/errors.js";
import type { CallOpts, EncryptionAlg, HsmKeyInfo, HsmKeyRef, HsmKeySpec, MessageType, ResidentKeys, SigningAlg } from "../../shared/hsm/port.js";
import { signatureRejected } from "./ckr.js";
import { IV_BYTES, TAG_BYTES } from "./key-wrapping.js";
import { CURVES, keyPlan, publicLabel } from "./key-templates.js";
import { digestOf, ecdsaDerToRaw, ecdsaRawToDer, encryptionMechanism, signingInput, signingPlan } from "./mechanisms.js";
import type { Handle } from "./module.js";
import { describeKey, findKey, keysOf, publicKeyDer, refuseRootKey, requireKey } from "./objects.js";
import { oaepSha256Decode } from "./oaep.js";
import type { Pkcs11Slots } from "./slots.js";

/**
 * Keys that live in the HSM (`hsm::<slot>::<label>`; a pair's public half is `<label>_pk`):
 * created, destroyed, listed, and used for encryption and signatures inside the HSM. The root key
 * is never one of them.
 */
export class Pkcs11ResidentKeys implements ResidentKeys {
  constructor(
    private readonly slots: Pkcs11Slots,
    private readonly rootKeyLabel: string,
  ) {}

  async createKey(ref: HsmKeyRef, spec: HsmKeySpec, opts: { sensitive: boolean }, o: CallOpts): Promise<HsmKeyInfo> {
    this.slots.checkDeadline(o);
    refuseRootKey(ref, this.rootKeyLabel);
    return this.slots.pool(ref.slot).use("generate", async (s) => {
      if (findKey(this.slots.mod.p11, s, ref.label, "secret") || findKey(this.slots.mod.p11, s, ref.label, "private")) {
        throw new KmsError("AlreadyExistsException", `an HSM key labelled "${ref.label}" exists in slot ${ref.slot}`);
      }
      const plan = keyPlan(spec, ref.label, opts.sensitive);
      if (plan.kind === "secret") await this.slots.mod.p11.C_GenerateKeyAsync(s, plan.mechanism, plan.template);
      else await this.slots.mod.p11.C_GenerateKeyPairAsync(s, plan.mechanism, plan.publicTemplate, plan.privateTemplate);
      return { ...ref, spec, sensitive: opts.sensitive, extractable: !opts.sensitive };
    });
  }

  async destroyKey(ref: HsmKeyRef, o: CallOpts): Promise<void> {
    this.slots.checkDeadline(o);
    refuseRootKey(ref, this.rootKeyLabel);
    await this.slots.pool(ref.slot).use("destroy", (s) => {
      const handles = [findKey(this.slots.mod.p11, s, ref.label, "secret"), findKey(this.slots.mod.p11, s, ref.label, "private"), findKey(this.slots.mod.p11, s, publicLabel(ref.label), "public")].filter(
        (h): h is Handle => h !== undefined,
      );
      if (handles.length === 0) throw new KmsError("NotFoundException", `no HSM key labelled "${ref.label}" in slot ${ref.slot}`);
      for (const h of handles) this.slots.mod.p11.C_DestroyObject(s, h);
    });
  }

  async listKeys(slot: string, o: CallOpts): Promise<HsmKeyInfo[]> {
    this.slots.checkDeadline(o);
    return this.slots.pool(slot).use("find", (s) => keysOf(this.slots.mod.p11, s, slot).filter((k) => k.label !== this.rootKeyLabel).sort((a, b) => a.label.localeCompare(b.label)));
  }

  async getPublicKey(ref: HsmKeyRef, o: CallOpts): Promise<Uint8Array> {
    this.slots.checkDeadline(o);
    refuseRootKey(ref, this.rootKeyLabel);
    return this.slots.pool(ref.slot).use("find", (s) => publicKeyDer(this.slots.mod.p11, s, requireKey(this.slots.mod.p11, s, publicLabel(ref.label), "public", ref)));
  }

  async encrypt(ref: HsmKeyRef, alg: EncryptionAlg, plaintext: Uint8Array, aad: Uint8Array, o: CallOpts): Promise<Uint8Array> {
    this.slots.checkDeadline(o);
    refuseRootKey(ref, this.rootKeyLabel);
    return this.slots.pool(ref.slot).use("encrypt", async (s) => {
      if (alg === "AES_GCM") {
        const iv = randomBytes(IV_BYTES);
        this.slots.mod.p11.C_EncryptInit(s, encryptionMechanism(alg, iv, aad), requireKey(this.slots.mod.p11, s, ref.label, "secret", ref));
        const body = await this.slots.mod.p11.C_EncryptAsync(s, Buffer.from(plaintext), Buffer.alloc(plaintext.length + TAG_BYTES));
        return new Uint8Array(Buffer.concat([iv, body]));
      }
      const publicKey = requireKey(this.slots.mod.p11, s, publicLabel(ref.label), "public", ref);
      if (alg === "RSAES_OAEP_SHA_256" && this.slots.quirks(ref.slot).oaepSha256ViaRawRsa) {
        const key = createPublicKey({ key: Buffer.from(publicKeyDer(this.slots.mod.p11, s, publicKey)), format: "der", type: "spki" });
        return new Uint8Array(publicEncrypt({ key, padding: constants.RSA_PKCS1_OAEP_PADDING, oaepHash: "sha256" }, plaintext));
      }
      this.slots.mod.p11.C_EncryptInit(s, encryptionMechanism(alg, undefined, aad), publicKey);
      return new Uint8Array(await this.slots.mod.p11.C_EncryptAsync(s, Buffer.from(plaintext), Buffer.alloc(512)));
    });
  }

  async decrypt(ref: HsmKeyRef, alg: EncryptionAlg, ciphertext: Uint8Array, aad: Uint8Array, o: CallOpts): Promise<Uint8Array> {
    this.slots.checkDeadline(o);
    refuseRootKey(ref, this.rootKeyLabel);
    const invalid = () => new KmsError("InvalidCiphertextException", "ciphertext could not be decrypted with this key and context");
    return this.slots.pool(ref.slot)
      .use(alg === "AES_GCM" ? "gcm-open" : "decrypt", async (s) => {
        if (alg === "AES_GCM") {
          if (ciphertext.length < IV_BYTES + TAG_BYTES) throw invalid();
          const buf = Buffer.from(ciphertext);
          this.slots.mod.p11.C_DecryptInit(s, encryptionMechanism(alg, buf.subarray(0, IV_BYTES), aad), requireKey(this.slots.mod.p11, s, ref.label, "secret", ref));
          return new Uint8Array(await this.slots.mod.p11.C_DecryptAsync(s, buf.subarray(IV_BYTES), Buffer.alloc(buf.length)));
        }
        const privateKey = requireKey(this.slots.mod.p11, s, ref.label, "private", ref);
        if (alg === "RSAES_OAEP_SHA_256" && this.slots.quirks(ref.slot).oaepSha256ViaRawRsa) {
          const [modulus] = this.slots.mod.p11.C_GetAttributeValue(s, privateKey, [{ type: pkcs11js.CKA_MODULUS }]);
          const k = (modulus?.value as Buffer).length;
          if (ciphertext.length !== k) throw invalid();
          this.slots.mod.p11.C_DecryptInit(s, { mechanism: pkcs11js.CKM_RSA_X_509 }, privateKey);
          const encoded = await this.slots.mod.p11.C_DecryptAsync(s, Buffer.from(ciphertext), Buffer.alloc(k));
          try {
            return new Uint8Array(oaepSha256Decode(encoded, k));
          } finally {
            encoded.fill(0);
          }
        }
        this.slots.mod.p11.C_DecryptInit(s, encryptionMechanism(alg, undefined, aad), privateKey);
        return new Uint8Array(await this.slots.mod.p11.C_DecryptAsync(s, Buffer.from(ciphertext), Buffer.alloc(512)));
      })
      .catch((err: unknown) => {
        // One message for every refused ciphertext, no oracle; HSM faults pass through as themselves.
        if (isKmsError(err, "InvalidCiphertextException")) throw invalid();
        throw err;
      });
  }

  async sign(ref: HsmKeyRef, alg: SigningAlg, message: Uint8Array, type: MessageType, o: CallOpts): Promise<Uint8Array> {
    this.slots.checkDeadline(o);
    refuseRootKey(ref, this.rootKeyLabel);
    const plan = signingPlan(alg);
    const { mechanism, data } = signingInput(plan, digestOf(message, type, plan.hash));
    return this.slots.pool(ref.slot).use("sign", async (s) => {
      this.slots.mod.p11.C_SignInit(s, mechanism, requireKey(this.slots.mod.p11, s, ref.label, "private", ref));
      const sig = await this.slots.mod.p11.C_SignAsync(s, data, Buffer.alloc(512));
      return new Uint8Array(plan.family === "ecdsa" ? ecdsaRawToDer(sig) : sig);
    });
  }

  async verify(ref: HsmKeyRef, alg: SigningAlg, message: Uint8Array, type: MessageType, signature: Uint8Array, o: CallOpts): Promise<boolean> {
    this.slots.checkDeadline(o);
    refuseRootKey(ref, this.rootKeyLabel);
    const plan = signingPlan(alg);
    const { mechanism, data } = signingInput(plan, digestOf(message, type, plan.hash));
    return this.slots.pool(ref.slot).use("verify", async (s) => {
      const key = requireKey(this.slots.mod.p11, s, publicLabel(ref.label), "public", ref);
      let sig: Buffer | undefined = Buffer.from(signature);
      if (plan.family === "ecdsa") {
        const spec = describeKey(this.slots.mod.p11, s, ref.slot, key)?.spec;
        sig = spec === "ECC_NIST_P256" || spec === "ECC_NIST_P384" ? ecdsaDerToRaw(signature, CURVES[spec].size) : undefined;
      }
      if (!sig) return false;
      this.slots.mod.p11.C_VerifyInit(s, mechanism, key);
      try {
        return await this.slots.mod.p11.C_VerifyAsync(s, data, sig);
      } catch (err) {
        if (signatureRejected(err)) return false;
        throw err;
      }
    });
  }
}
