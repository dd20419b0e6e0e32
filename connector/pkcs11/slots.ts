import { KmsError } from "../../shared/errors.js";
import type { CallOpts, HsmSlotInfo } from "../../shared/hsm/port.js";
import type { Logger } from "../../shared/log.js";
import { cleanLabel, Pkcs11Module } from "./module.js";
import { SessionPool, type SlotConfig } from "./session-pool.js";
import { quirksFor } from "./vendors/index.js";

/**
 * The PKCS#11 module and a session pool per configured slot: what both ports over the HSM
 * (Pkcs11KeyWrapping, Pkcs11ResidentKeys) run their calls on. The first slot holds the root key.
 */
export class Pkcs11Slots {
  readonly mod: Pkcs11Module;
  private readonly pools = new Map<string, SessionPool>();

  constructor(
    modulePath: string,
    slots: readonly SlotConfig[],
    log: Logger,
    readonly now: () => number = Date.now,
  ) {
    this.mod = new Pkcs11Module(modulePath);
    try {
      for (const slot of slots) {
        const pool = new SessionPool(this.mod, slot, log);
        pool.start();
        this.pools.set(slot.name, pool);
      }
    } catch (err) {
      this.release();
      throw err;
    }
  }

  /** The slot that holds the root key. */
  get root(): SessionPool {
    const first = this.pools.values().next();
    if (first.done) throw new KmsError("HsmUnavailableException", "no slot is configured");
    return first.value;
  }

  pool(slot: string): SessionPool {
    const pool = this.pools.get(slot);
    if (!pool) throw new KmsError("NotFoundException", `no HSM slot named "${slot}"`);
    return pool;
  }

  /** What this slot's vendor does differently (pkcs11/vendors). */
  quirks(slot: string) {
    return quirksFor(cleanLabel(this.pool(slot).token?.manufacturerID ?? ""));
  }

  checkDeadline(o: CallOpts): void {
    if (this.now() > o.deadline) throw new KmsError("DependencyTimeoutException", "deadline passed before the HSM call");
  }

  info(): HsmSlotInfo[] {
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
    const s = this.info()[0];
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
}
