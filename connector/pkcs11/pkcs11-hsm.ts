import { constants, createPublicKey, publicEncrypt, randomBytes } from "node:crypto";
import pkcs11js from "pkcs11js";
import { isKmsError, KmsError } from "../../shared/errors.js";
import type {
  CallOpts,
  EncryptionAlg,
  HsmHealth,
  HsmKeyInfo,
  HsmKeyRef,
  HsmKeySpec,
  HsmPort,
  HsmSlotInfo,
  MessageType,
  SigningAlg,
  WrapOpts,
  WrappedKey,
} from "../../shared/hsm/port.js";
import type { Logger } from "../../shared/log.js";
import { isPkcs11Error } from "./ckr.js";
import { CURVES, keyPlan, publicLabel } from "./key-templates.js";
import { digestOf, ecdsaDerToRaw, ecdsaRawToDer, encryptionMechanism, signingInput, signingPlan } from "./mechanisms.js";
import { cleanLabel, findOne, Pkcs11Module, type Handle } from "./module.js";
import { oaepSha256Decode } from "./oaep.js";
import { quirksFor } from "./vendors/index.js";
import { SessionPool, type SlotConfig } from "./session-pool.js";

export type Pkcs11HsmConfig = {
  modulePath: string;
  slots: SlotConfig[];
  rootKeyLabel: string;
  /** How long a deep health result is reused (at most 60 s). */
  healthTtlMs: number;
};

type Wrapper = { pool: SessionPool; label: string; slot?: string; handle: (session: Handle) => Handle };

const IV_BYTES = 12;
const TAG_BYTES = 16;

type Cls = "secret" | "private" | "public";
const CKO: Record<Cls, number> = { secret: pkcs11js.CKO_SECRET_KEY, private: pkcs11js.CKO_PRIVATE_KEY, public: pkcs11js.CKO_PUBLIC_KEY };

/** HsmPort over a PKCS#11 module: the connector's side of every operation. */
export class Pkcs11Hsm implements HsmPort {
  private readonly mod: Pkcs11Module;
  private readonly pools = new Map<string, SessionPool>();
  private healthCache: { at: number; value: HsmHealth } | undefined;
  /** The root key's handle, valid until the module is re-initialised. */
  private rootHandle: { generation: number; epoch: number; handle: Handle } | undefined;

  constructor(
    private readonly config: Pkcs11HsmConfig,
    private readonly log: Logger,
    private readonly now: () => number = Date.now,
  ) {
    this.mod = new Pkcs11Module(config.modulePath);
    try {
      for (const slot of config.slots) {
        const pool = new SessionPool(this.mod, slot, log);
        pool.start();
        this.pools.set(slot.name, pool);
      }
    } catch (err) {
      this.release();
      throw err;
    }
  }

  // ---- root key: data keys, wrap, unwrap ------------------------------------------------------

  async random(length: number, o: CallOpts): Promise<Uint8Array> {
    this.checkDeadline(o);
    return this.rootPool.use("random", (s) => new Uint8Array(this.mod.p11.C_GenerateRandom(s, Buffer.alloc(length))));
  }

  async generateDataKey(length: number, binding: Uint8Array, o: WrapOpts & { returnPlaintext: boolean }) {
    this.checkDeadline(o);
    const wrapper = this.wrapper(o.wrappingKey);
    return wrapper.pool.use("generate", async (s) => {
      const material = this.mod.p11.C_GenerateRandom(s, Buffer.alloc(length));
      try {
        const wrapped = await this.wrapUnder(s, wrapper, material, binding);
        return o.returnPlaintext ? { wrapped, plaintext: new Uint8Array(material) } : { wrapped };
      } finally {
        material.fill(0);
      }
    });
  }

  async wrap(material: Uint8Array, binding: Uint8Array, o: WrapOpts): Promise<WrappedKey> {
    this.checkDeadline(o);
    const wrapper = this.wrapper(o.wrappingKey);
    return wrapper.pool.use("wrap", (s) => this.wrapUnder(s, wrapper, Buffer.from(material), binding));
  }

  async unwrap(wrapped: WrappedKey, binding: Uint8Array, o: CallOpts): Promise<Uint8Array> {
    this.checkDeadline(o);
    if (!wrapped.slot && wrapped.rootKeyLabel !== this.config.rootKeyLabel) throw new KmsError("NotFoundException", `this connector does not hold root key "${wrapped.rootKeyLabel}"`);
    if (wrapped.iv.length !== IV_BYTES || wrapped.ciphertext.length < TAG_BYTES) throw new KmsError("InvalidCiphertextException", "wrapped key is malformed");
    const wrapper = this.wrapper(wrapped.slot ? { slot: wrapped.slot, label: wrapped.rootKeyLabel } : undefined);
    return wrapper.pool
      .use("gcm-open", async (s) => {
        this.mod.p11.C_DecryptInit(s, encryptionMechanism("AES_GCM", Buffer.from(wrapped.iv), binding), wrapper.handle(s));
        const out = await this.mod.p11.C_DecryptAsync(s, Buffer.from(wrapped.ciphertext), Buffer.alloc(wrapped.ciphertext.length));
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
      return { pool: this.rootPool, label: this.config.rootKeyLabel, handle: (s) => this.rootKey(s) };
    }
    this.refuseRootKey(ref);
    return { pool: this.pool(ref.slot), label: ref.label, slot: ref.slot, handle: (s) => this.required(s, ref.label, "secret", ref) };
  }

  private async wrapUnder(session: Handle, wrapper: Wrapper, material: Buffer, binding: Uint8Array): Promise<WrappedKey> {
    const iv = randomBytes(IV_BYTES);
    this.mod.p11.C_EncryptInit(session, encryptionMechanism("AES_GCM", iv, binding), wrapper.handle(session));
    const ciphertext = await this.mod.p11.C_EncryptAsync(session, material, Buffer.alloc(material.length + TAG_BYTES));
    return { rootKeyLabel: wrapper.label, ...(wrapper.slot ? { slot: wrapper.slot } : {}), hsmIdentity: this.identity(), iv: new Uint8Array(iv), ciphertext: new Uint8Array(ciphertext) };
  }

  private rootKey(session: Handle): Handle {
    const epoch = this.rootPool.loginEpoch;
    if (this.rootHandle?.generation === this.mod.generation && this.rootHandle.epoch === epoch) return this.rootHandle.handle;
    const key = findOne(this.mod.p11, session, [
      { type: pkcs11js.CKA_CLASS, value: pkcs11js.CKO_SECRET_KEY },
      { type: pkcs11js.CKA_LABEL, value: this.config.rootKeyLabel },
    ]);
    if (key === undefined) throw new KmsError("HsmUnavailableException", "the root key is missing from the HSM");
    this.rootHandle = { generation: this.mod.generation, epoch, handle: key };
    return key;
  }

  // ---- HSM-resident keys ----------------------------------------------------------------------

  async createKey(ref: HsmKeyRef, spec: HsmKeySpec, opts: { sensitive: boolean }, o: CallOpts): Promise<HsmKeyInfo> {
    this.checkDeadline(o);
    this.refuseRootKey(ref);
    return this.pool(ref.slot).use("generate", async (s) => {
      if (this.find(s, ref.label, "secret") || this.find(s, ref.label, "private")) {
        throw new KmsError("AlreadyExistsException", `an HSM key labelled "${ref.label}" exists in slot ${ref.slot}`);
      }
      const plan = keyPlan(spec, ref.label, opts.sensitive);
      if (plan.kind === "secret") await this.mod.p11.C_GenerateKeyAsync(s, plan.mechanism, plan.template);
      else await this.mod.p11.C_GenerateKeyPairAsync(s, plan.mechanism, plan.publicTemplate, plan.privateTemplate);
      return { ...ref, spec, sensitive: opts.sensitive, extractable: !opts.sensitive };
    });
  }

  async destroyKey(ref: HsmKeyRef, o: CallOpts): Promise<void> {
    this.checkDeadline(o);
    this.refuseRootKey(ref);
    await this.pool(ref.slot).use("destroy", (s) => {
      const handles = [this.find(s, ref.label, "secret"), this.find(s, ref.label, "private"), this.find(s, publicLabel(ref.label), "public")].filter(
        (h): h is Handle => h !== undefined,
      );
      if (handles.length === 0) throw new KmsError("NotFoundException", `no HSM key labelled "${ref.label}" in slot ${ref.slot}`);
      for (const h of handles) this.mod.p11.C_DestroyObject(s, h);
    });
  }

  async listKeys(slot: string, o: CallOpts): Promise<HsmKeyInfo[]> {
    this.checkDeadline(o);
    return this.pool(slot).use("find", (s) => {
      const out: HsmKeyInfo[] = [];
      for (const cls of ["secret", "private"] as const) {
        this.mod.p11.C_FindObjectsInit(s, [
          { type: pkcs11js.CKA_CLASS, value: CKO[cls] },
          { type: pkcs11js.CKA_TOKEN, value: true },
        ]);
        let handles: Handle[];
        try {
          handles = this.mod.p11.C_FindObjects(s, 10_000);
        } finally {
          this.mod.p11.C_FindObjectsFinal(s);
        }
        for (const h of handles) {
          const info = this.describe(s, slot, h);
          if (info && info.label !== this.config.rootKeyLabel) out.push(info);
        }
      }
      return out.sort((a, b) => a.label.localeCompare(b.label));
    });
  }

  async getPublicKey(ref: HsmKeyRef, o: CallOpts): Promise<Uint8Array> {
    this.checkDeadline(o);
    this.refuseRootKey(ref);
    return this.pool(ref.slot).use("find", (s) => this.spki(s, this.required(s, publicLabel(ref.label), "public", ref)));
  }

  async encrypt(ref: HsmKeyRef, alg: EncryptionAlg, plaintext: Uint8Array, aad: Uint8Array, o: CallOpts): Promise<Uint8Array> {
    this.checkDeadline(o);
    this.refuseRootKey(ref);
    return this.pool(ref.slot).use("encrypt", async (s) => {
      if (alg === "AES_GCM") {
        const iv = randomBytes(IV_BYTES);
        this.mod.p11.C_EncryptInit(s, encryptionMechanism(alg, iv, aad), this.required(s, ref.label, "secret", ref));
        const body = await this.mod.p11.C_EncryptAsync(s, Buffer.from(plaintext), Buffer.alloc(plaintext.length + TAG_BYTES));
        return new Uint8Array(Buffer.concat([iv, body]));
      }
      const publicKey = this.required(s, publicLabel(ref.label), "public", ref);
      if (alg === "RSAES_OAEP_SHA_256" && this.quirks(ref.slot).oaepSha256ViaRawRsa) {
        const key = createPublicKey({ key: Buffer.from(this.spki(s, publicKey)), format: "der", type: "spki" });
        return new Uint8Array(publicEncrypt({ key, padding: constants.RSA_PKCS1_OAEP_PADDING, oaepHash: "sha256" }, plaintext));
      }
      this.mod.p11.C_EncryptInit(s, encryptionMechanism(alg, undefined, aad), publicKey);
      return new Uint8Array(await this.mod.p11.C_EncryptAsync(s, Buffer.from(plaintext), Buffer.alloc(512)));
    });
  }

  async decrypt(ref: HsmKeyRef, alg: EncryptionAlg, ciphertext: Uint8Array, aad: Uint8Array, o: CallOpts): Promise<Uint8Array> {
    this.checkDeadline(o);
    this.refuseRootKey(ref);
    const invalid = () => new KmsError("InvalidCiphertextException", "ciphertext could not be decrypted with this key and context");
    return this.pool(ref.slot)
      .use(alg === "AES_GCM" ? "gcm-open" : "decrypt", async (s) => {
        if (alg === "AES_GCM") {
          if (ciphertext.length < IV_BYTES + TAG_BYTES) throw invalid();
          const buf = Buffer.from(ciphertext);
          this.mod.p11.C_DecryptInit(s, encryptionMechanism(alg, buf.subarray(0, IV_BYTES), aad), this.required(s, ref.label, "secret", ref));
          return new Uint8Array(await this.mod.p11.C_DecryptAsync(s, buf.subarray(IV_BYTES), Buffer.alloc(buf.length)));
        }
        const privateKey = this.required(s, ref.label, "private", ref);
        if (alg === "RSAES_OAEP_SHA_256" && this.quirks(ref.slot).oaepSha256ViaRawRsa) {
          const [modulus] = this.mod.p11.C_GetAttributeValue(s, privateKey, [{ type: pkcs11js.CKA_MODULUS }]);
          const k = (modulus?.value as Buffer).length;
          if (ciphertext.length !== k) throw invalid();
          this.mod.p11.C_DecryptInit(s, { mechanism: pkcs11js.CKM_RSA_X_509 }, privateKey);
          const encoded = await this.mod.p11.C_DecryptAsync(s, Buffer.from(ciphertext), Buffer.alloc(k));
          try {
            return new Uint8Array(oaepSha256Decode(encoded, k));
          } finally {
            encoded.fill(0);
          }
        }
        this.mod.p11.C_DecryptInit(s, encryptionMechanism(alg, undefined, aad), privateKey);
        return new Uint8Array(await this.mod.p11.C_DecryptAsync(s, Buffer.from(ciphertext), Buffer.alloc(512)));
      })
      .catch((err: unknown) => {
        // One message for every refused ciphertext, no oracle; HSM faults pass through as themselves.
        if (isKmsError(err, "InvalidCiphertextException")) throw invalid();
        throw err;
      });
  }

  async sign(ref: HsmKeyRef, alg: SigningAlg, message: Uint8Array, type: MessageType, o: CallOpts): Promise<Uint8Array> {
    this.checkDeadline(o);
    this.refuseRootKey(ref);
    const plan = signingPlan(alg);
    const { mechanism, data } = signingInput(plan, digestOf(message, type, plan.hash));
    return this.pool(ref.slot).use("sign", async (s) => {
      this.mod.p11.C_SignInit(s, mechanism, this.required(s, ref.label, "private", ref));
      const sig = await this.mod.p11.C_SignAsync(s, data, Buffer.alloc(512));
      return new Uint8Array(plan.family === "ecdsa" ? ecdsaRawToDer(sig) : sig);
    });
  }

  async verify(ref: HsmKeyRef, alg: SigningAlg, message: Uint8Array, type: MessageType, signature: Uint8Array, o: CallOpts): Promise<boolean> {
    this.checkDeadline(o);
    this.refuseRootKey(ref);
    const plan = signingPlan(alg);
    const { mechanism, data } = signingInput(plan, digestOf(message, type, plan.hash));
    return this.pool(ref.slot).use("verify", async (s) => {
      const key = this.required(s, publicLabel(ref.label), "public", ref);
      let sig: Buffer | undefined = Buffer.from(signature);
      if (plan.family === "ecdsa") {
        const spec = this.describe(s, ref.slot, key)?.spec;
        sig = spec === "ECC_NIST_P256" || spec === "ECC_NIST_P384" ? ecdsaDerToRaw(signature, CURVES[spec].size) : undefined;
      }
      if (!sig) return false;
      this.mod.p11.C_VerifyInit(s, mechanism, key);
      try {
        return await this.mod.p11.C_VerifyAsync(s, data, sig);
      } catch (err) {
        if (isPkcs11Error(err) && (err.code === pkcs11js.CKR_SIGNATURE_INVALID || err.code === pkcs11js.CKR_SIGNATURE_LEN_RANGE)) return false;
        throw err;
      }
    });
  }

  // ---- health ---------------------------------------------------------------------------------

  async health(o: CallOpts): Promise<HsmHealth> {
    this.checkDeadline(o);
    const cached = this.healthCache;
    if (cached && this.now() - cached.at < Math.min(this.config.healthTtlMs, 60_000)) return cached.value;
    const started = performance.now();
    const probe = randomBytes(16);
    const rootKeyOk = await this.rootPool
      .use("health", async (s) => {
        const wrapped = await this.wrapUnder(s, this.wrapper(undefined), probe, probe);
        this.mod.p11.C_DecryptInit(s, encryptionMechanism("AES_GCM", Buffer.from(wrapped.iv), probe), this.rootKey(s));
        const opened = await this.mod.p11.C_DecryptAsync(s, Buffer.from(wrapped.ciphertext), Buffer.alloc(wrapped.ciphertext.length));
        return opened.equals(probe);
      })
      .catch((err: unknown) => {
        this.log.warn("deep health check failed", { code: err instanceof KmsError ? err.code : "unknown" });
        return false;
      });
    const value: HsmHealth = { identity: this.identity(), slots: this.slots(), rootKeyOk, checkMs: Math.round((performance.now() - started) * 100) / 100 };
    this.healthCache = { at: this.now(), value };
    return value;
  }

  slots(): HsmSlotInfo[] {
    return [...this.pools.values()].map((pool) => ({
      name: pool.config.name,
      tokenLabel: pool.config.tokenLabel,
      manufacturer: cleanLabel(pool.token?.manufacturerID ?? ""),
      model: cleanLabel(pool.token?.model ?? ""),
      serial: cleanLabel(pool.token?.serialNumber ?? ""),
    }));
  }

  /** Stable identity of the HSM: the first slot's manufacturer, model and serial. */
  identity(): string {
    const s = this.slots()[0];
    return s ? `${s.manufacturer}/${s.model}/${s.serial}` : "unknown";
  }

  /**
   * Stops taking calls, waits up to `timeoutMs` for those running, then closes every session and
   * finalizes the module. If calls are still running then, it leaves the module as it is (the
   * process is about to exit; finalizing under a running call would crash it) and says so.
   */
  async close(timeoutMs = 5_000): Promise<boolean> {
    if (!(await this.mod.quiesce(timeoutMs))) return false;
    this.release();
    return true;
  }

  private release(): void {
    for (const pool of this.pools.values()) pool.close();
    this.mod.close();
  }

  // ---- helpers --------------------------------------------------------------------------------

  private get rootPool(): SessionPool {
    const first = this.pools.values().next();
    if (first.done) throw new KmsError("HsmUnavailableException", "no slot is configured");
    return first.value;
  }

  private pool(slot: string): SessionPool {
    const pool = this.pools.get(slot);
    if (!pool) throw new KmsError("NotFoundException", `no HSM slot named "${slot}"`);
    return pool;
  }

  /** The root key is reachable only through wrap/unwrap/generate, never as a resident key. */
  private refuseRootKey(ref: HsmKeyRef): void {
    if (ref.label === this.config.rootKeyLabel || ref.label === publicLabel(this.config.rootKeyLabel)) {
      throw new KmsError("AccessDeniedException", "the root key cannot be used as an HSM-resident key");
    }
  }

  private quirks(slot: string) {
    return quirksFor(cleanLabel(this.pool(slot).token?.manufacturerID ?? ""));
  }

  private find(s: Handle, label: string, cls: Cls): Handle | undefined {
    return findOne(this.mod.p11, s, [
      { type: pkcs11js.CKA_CLASS, value: CKO[cls] },
      { type: pkcs11js.CKA_LABEL, value: label },
    ]);
  }

  private required(s: Handle, label: string, cls: Cls, ref: HsmKeyRef): Handle {
    const h = this.find(s, label, cls);
    if (h === undefined) throw new KmsError("NotFoundException", `no ${cls} HSM key "${ref.label}" in slot ${ref.slot}`);
    return h;
  }

  private describe(s: Handle, slot: string, h: Handle): HsmKeyInfo | undefined {
    const p11 = this.mod.p11;
    const [label, keyType] = p11.C_GetAttributeValue(s, h, [{ type: pkcs11js.CKA_LABEL }, { type: pkcs11js.CKA_KEY_TYPE }]);
    const name = (label?.value as Buffer | undefined)?.toString("utf8") ?? "";
    const type = (keyType?.value as Buffer | undefined)?.readUInt32LE(0);
    let spec: HsmKeySpec | undefined;
    if (type === pkcs11js.CKK_AES) spec = "AES_256";
    else if (type === pkcs11js.CKK_RSA) {
      const [modulus] = p11.C_GetAttributeValue(s, h, [{ type: pkcs11js.CKA_MODULUS }]);
      const bits = ((modulus?.value as Buffer | undefined)?.length ?? 0) * 8;
      spec = bits === 2048 ? "RSA_2048" : bits === 3072 ? "RSA_3072" : bits === 4096 ? "RSA_4096" : undefined;
    } else if (type === pkcs11js.CKK_EC) {
      const [params] = p11.C_GetAttributeValue(s, h, [{ type: pkcs11js.CKA_EC_PARAMS }]);
      const oid = params?.value as Buffer | undefined;
      spec = oid?.equals(CURVES.ECC_NIST_P256.oid) ? "ECC_NIST_P256" : oid?.equals(CURVES.ECC_NIST_P384.oid) ? "ECC_NIST_P384" : undefined;
    }
    if (!spec) return undefined;
    const isPublic = name.endsWith("_pk") && type !== pkcs11js.CKK_AES;
    if (isPublic) return { slot, label: name.slice(0, -3), spec, sensitive: false, extractable: true };
    const [sensitive, extractable] = p11.C_GetAttributeValue(s, h, [{ type: pkcs11js.CKA_SENSITIVE }, { type: pkcs11js.CKA_EXTRACTABLE }]);
    return { slot, label: name, spec, sensitive: (sensitive?.value as Buffer)[0] === 1, extractable: (extractable?.value as Buffer)[0] === 1 };
  }

  /** DER SubjectPublicKeyInfo of a public key object (RSA or EC). */
  private spki(s: Handle, h: Handle): Uint8Array {
    const info = this.describe(s, "", h);
    const p11 = this.mod.p11;
    let jwk: Record<string, string>;
    if (info?.spec.startsWith("RSA")) {
      const [n, e] = p11.C_GetAttributeValue(s, h, [{ type: pkcs11js.CKA_MODULUS }, { type: pkcs11js.CKA_PUBLIC_EXPONENT }]);
      jwk = { kty: "RSA", n: (n?.value as Buffer).toString("base64url"), e: (e?.value as Buffer).toString("base64url") };
    } else if (info?.spec === "ECC_NIST_P256" || info?.spec === "ECC_NIST_P384") {
      const curve = CURVES[info.spec];
      const [point] = p11.C_GetAttributeValue(s, h, [{ type: pkcs11js.CKA_EC_POINT }]);
      const raw = point?.value as Buffer;
      // CKA_EC_POINT is DER OCTET STRING(04 || X || Y); some modules return the bare point.
      const q = raw.length === 1 + 2 * curve.size ? raw : raw.subarray(raw.length - (1 + 2 * curve.size));
      jwk = { kty: "EC", crv: curve.crv, x: q.subarray(1, 1 + curve.size).toString("base64url"), y: q.subarray(1 + curve.size).toString("base64url") };
    } else {
      throw new KmsError("UnsupportedOperationException", "that HSM key has no public key");
    }
    return new Uint8Array(createPublicKey({ key: jwk, format: "jwk" }).export({ type: "spki", format: "der" }));
  }

  private checkDeadline(o: CallOpts): void {
    if (this.now() > o.deadline) throw new KmsError("DependencyTimeoutException", "deadline passed before the HSM call");
  }
}
