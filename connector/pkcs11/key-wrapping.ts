import { randomBytes } from "node:crypto";
import { isKmsError, KmsError } from "../../shared/errors.js";
import type { CallOpts, HsmHealth, HsmKeyRef, KeyWrapping, WrapOpts, WrappedKey } from "../../shared/hsm/port.js";
import type { Logger } from "../../shared/log.js";
import { encryptionMechanism } from "./mechanisms.js";
import type { Handle } from "./module.js";
import { findKey, refuseRootKey, requireKey } from "./objects.js";
import type { SessionPool } from "./session-pool.js";
import type { Pkcs11Slots } from "./slots.js";

type Wrapper = { pool: SessionPool; label: string; slot?: string; handle: (session: Handle) => Handle };

export const IV_BYTES = 12;
export const TAG_BYTES = 16;

/**
 * The root key's work, on the HSM: random bytes, new data keys wrapped at once, wrap and unwrap
 * (AES-256-GCM bound to the caller's binding) under the root key or a chosen HSM-resident AES
 * key, and the deep health check (a real wrap and unwrap under the root key).
 */
export class Pkcs11KeyWrapping implements KeyWrapping {
  private healthCache: { at: number; value: HsmHealth } | undefined;
  /** The root key's handle, valid until the module is re-initialised or the slot logs in again. */
  private rootHandle: { generation: number; epoch: number; handle: Handle } | undefined;

  constructor(
    private readonly slots: Pkcs11Slots,
    private readonly rootKeyLabel: string,
    /** How long a deep health result is reused (at most 60 s). */
    private readonly healthTtlMs: number,
    private readonly log: Logger,
  ) {}

  async random(length: number, o: CallOpts): Promise<Uint8Array> {
    this.slots.checkDeadline(o);
    return this.slots.root.use("random", (s) => new Uint8Array(this.slots.mod.p11.C_GenerateRandom(s, Buffer.alloc(length))));
  }

  async generateDataKey(length: number, binding: Uint8Array, o: WrapOpts & { returnPlaintext: boolean }) {
    this.slots.checkDeadline(o);
    const wrapper = this.wrapper(o.wrappingKey);
    return wrapper.pool.use("generate", async (s) => {
      const material = this.slots.mod.p11.C_GenerateRandom(s, Buffer.alloc(length));
      try {
        const wrapped = await this.wrapUnder(s, wrapper, material, binding);
        return o.returnPlaintext ? { wrapped, plaintext: new Uint8Array(material) } : { wrapped };
      } finally {
        material.fill(0);
      }
    });
  }

  async wrap(material: Uint8Array, binding: Uint8Array, o: WrapOpts): Promise<WrappedKey> {
    this.slots.checkDeadline(o);
    const wrapper = this.wrapper(o.wrappingKey);
    return wrapper.pool.use("wrap", (s) => this.wrapUnder(s, wrapper, Buffer.from(material), binding));
  }

  async unwrap(wrapped: WrappedKey, binding: Uint8Array, o: CallOpts): Promise<Uint8Array> {
    this.slots.checkDeadline(o);
    if (!wrapped.slot && wrapped.rootKeyLabel !== this.rootKeyLabel) throw new KmsError("NotFoundException", `this connector does not hold root key "${wrapped.rootKeyLabel}"`);
    if (wrapped.iv.length !== IV_BYTES || wrapped.ciphertext.length < TAG_BYTES) throw new KmsError("InvalidCiphertextException", "wrapped key is malformed");
    const wrapper = this.wrapper(wrapped.slot ? { slot: wrapped.slot, label: wrapped.rootKeyLabel } : undefined);
    return wrapper.pool
      .use("gcm-open", async (s) => {
        this.slots.mod.p11.C_DecryptInit(s, encryptionMechanism("AES_GCM", Buffer.from(wrapped.iv), binding), wrapper.handle(s));
        const out = await this.slots.mod.p11.C_DecryptAsync(s, Buffer.from(wrapped.ciphertext), Buffer.alloc(wrapped.ciphertext.length));
        return new Uint8Array(out);
      })
      .catch((err: unknown) => {
        // Tampering or a wrong binding: one message, no oracle. (HSM faults pass through as themselves.)
        if (isKmsError(err, "InvalidCiphertextException")) throw new KmsError("InvalidCiphertextException", "wrapped key could not be unwrapped with this binding");
        throw err;
      });
  }

  /** The key that wraps: the root key, or a chosen HSM-resident AES key (never the root key by another name). */
  private wrapper(ref: HsmKeyRef | undefined): Wrapper {
    if (!ref) {
      return { pool: this.slots.root, label: this.rootKeyLabel, handle: (s) => this.rootKey(s) };
    }
    refuseRootKey(ref, this.rootKeyLabel);
    return { pool: this.slots.pool(ref.slot), label: ref.label, slot: ref.slot, handle: (s) => requireKey(this.slots.mod.p11, s, ref.label, "secret", ref) };
  }

  private async wrapUnder(session: Handle, wrapper: Wrapper, material: Buffer, binding: Uint8Array): Promise<WrappedKey> {
    const iv = randomBytes(IV_BYTES);
    this.slots.mod.p11.C_EncryptInit(session, encryptionMechanism("AES_GCM", iv, binding), wrapper.handle(session));
    const ciphertext = await this.slots.mod.p11.C_EncryptAsync(session, material, Buffer.alloc(material.length + TAG_BYTES));
    return { rootKeyLabel: wrapper.label, ...(wrapper.slot ? { slot: wrapper.slot } : {}), hsmIdentity: this.slots.identity(), iv: new Uint8Array(iv), ciphertext: new Uint8Array(ciphertext) };
  }

  private rootKey(session: Handle): Handle {
    const epoch = this.slots.root.loginEpoch;
    if (this.rootHandle?.generation === this.slots.mod.generation && this.rootHandle.epoch === epoch) return this.rootHandle.handle;
    const key = findKey(this.slots.mod.p11, session, this.rootKeyLabel, "secret");
    if (key === undefined) throw new KmsError("HsmUnavailableException", "the root key is missing from the HSM");
    this.rootHandle = { generation: this.slots.mod.generation, epoch, handle: key };
    return key;
  }

  async health(o: CallOpts): Promise<HsmHealth> {
    this.slots.checkDeadline(o);
    const cached = this.healthCache;
    if (cached && this.slots.now() - cached.at < Math.min(this.healthTtlMs, 60_000)) return cached.value;
    const started = performance.now();
    const probe = randomBytes(16);
    const rootKeyOk = await this.slots.root
      .use("health", async (s) => {
        const wrapped = await this.wrapUnder(s, this.wrapper(undefined), probe, probe);
        this.slots.mod.p11.C_DecryptInit(s, encryptionMechanism("AES_GCM", Buffer.from(wrapped.iv), probe), this.rootKey(s));
        const opened = await this.slots.mod.p11.C_DecryptAsync(s, Buffer.from(wrapped.ciphertext), Buffer.alloc(wrapped.ciphertext.length));
        return opened.equals(probe);
      })
      .catch((err: unknown) => {
        this.log.warn("deep health check failed", { code: err instanceof KmsError ? err.code : "unknown" });
        return false;
      });
    const value: HsmHealth = { identity: this.slots.identity(), slots: this.slots.info(), rootKeyOk, checkMs: Math.round((performance.now() - started) * 100) / 100 };
    this.healthCache = { at: this.slots.now(), value };
    return value;
  }
}
