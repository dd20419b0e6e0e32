import { randomBytes } from "node:crypto";
import pkcs11js from "pkcs11js";
import { KmsError } from "../../shared/errors.js";
import type { CallOpts, HsmHealth, HsmPort, HsmSlotInfo } from "../../shared/hsm/port.js";
import type { Logger } from "../../shared/log.js";
import { cleanLabel, findOne, Pkcs11Module, type Handle } from "./module.js";
import { SessionPool, type SlotConfig } from "./session-pool.js";

export type Pkcs11HsmConfig = {
  modulePath: string;
  slots: SlotConfig[];
  rootKeyLabel: string;
  /** How long a deep health result is reused. */
  healthTtlMs: number;
};

/** HsmPort over a PKCS#11 module: the connector's side of every operation. */
export class Pkcs11Hsm implements HsmPort {
  private readonly mod: Pkcs11Module;
  private readonly pools = new Map<string, SessionPool>();
  private healthCache: { at: number; value: HsmHealth } | undefined;

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
      this.close();
      throw err;
    }
  }

  private get defaultPool(): SessionPool {
    const first = this.pools.values().next();
    if (first.done) throw new KmsError("HsmUnavailableException", "no slot is configured");
    return first.value;
  }

  async random(length: number, o: CallOpts): Promise<Uint8Array> {
    this.checkDeadline(o);
    return this.defaultPool.use("random", (s) => new Uint8Array(this.mod.p11.C_GenerateRandom(s, Buffer.alloc(length))));
  }

  async health(o: CallOpts): Promise<HsmHealth> {
    this.checkDeadline(o);
    const cached = this.healthCache;
    if (cached && this.now() - cached.at < this.config.healthTtlMs) return cached.value;
    const started = performance.now();
    const rootKeyOk = await this.defaultPool.use("health", (s) => this.roundTripUnderRootKey(s));
    const value: HsmHealth = {
      identity: this.identity(),
      slots: this.slotInfos(),
      rootKeyOk,
      checkMs: Math.round((performance.now() - started) * 100) / 100,
    };
    this.healthCache = { at: this.now(), value };
    return value;
  }

  /** Encrypts and decrypts a random block under the root key with AES-GCM: a real crypto call. */
  private async roundTripUnderRootKey(session: Handle): Promise<boolean> {
    const p11 = this.mod.p11;
    const key = findOne(p11, session, [
      { type: pkcs11js.CKA_CLASS, value: pkcs11js.CKO_SECRET_KEY },
      { type: pkcs11js.CKA_LABEL, value: this.config.rootKeyLabel },
    ]);
    if (key === undefined) return false;
    const probe = randomBytes(16);
    const mechanism = { mechanism: pkcs11js.CKM_AES_GCM, parameter: { type: pkcs11js.CK_PARAMS_AES_GCM, iv: randomBytes(12), ivBits: 96, tagBits: 128 } };
    p11.C_EncryptInit(session, mechanism, key);
    const sealed = await p11.C_EncryptAsync(session, probe, Buffer.alloc(probe.length + 16));
    p11.C_DecryptInit(session, mechanism, key);
    const opened = await p11.C_DecryptAsync(session, sealed, Buffer.alloc(sealed.length));
    return opened.equals(probe);
  }

  private slotInfos(): HsmSlotInfo[] {
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
    const s = this.slotInfos()[0];
    return s ? `${s.manufacturer}/${s.model}/${s.serial}` : "unknown";
  }

  slots(): HsmSlotInfo[] {
    return this.slotInfos();
  }

  private checkDeadline(o: CallOpts): void {
    if (this.now() > o.deadline) throw new KmsError("DependencyTimeoutException", "deadline passed before the HSM call");
  }

  close(): void {
    for (const pool of this.pools.values()) pool.close();
    this.mod.close();
    this.log.debug("PKCS#11 module closed");
  }
}
