import type { Logger } from "../../shared/log.js";
import { Pkcs11KeyWrapping } from "./key-wrapping.js";
import { Pkcs11ResidentKeys } from "./resident-keys.js";
import type { SlotConfig } from "./session-pool.js";
import { Pkcs11Slots } from "./slots.js";

export type Pkcs11HsmConfig = {
  modulePath: string;
  slots: SlotConfig[];
  rootKeyLabel: string;
  /** How long a deep health result is reused (at most 60 s). */
  healthTtlMs: number;
};

/**
 * The HSM as the connector serves it: the PKCS#11 module opened on its slots, and the two ports
 * over it, as the functions consume them (shared/hsm/port.ts): key wrapping and resident keys.
 */
export class Pkcs11Hsm {
  private readonly opened: Pkcs11Slots;
  readonly wrapping: Pkcs11KeyWrapping;
  readonly resident: Pkcs11ResidentKeys;

  constructor(config: Pkcs11HsmConfig, log: Logger, now: () => number = Date.now) {
    this.opened = new Pkcs11Slots(config.modulePath, config.slots, log, now);
    this.wrapping = new Pkcs11KeyWrapping(this.opened, config.rootKeyLabel, config.healthTtlMs, log);
    this.resident = new Pkcs11ResidentKeys(this.opened, config.rootKeyLabel);
  }

  slots() {
    return this.opened.info();
  }

  identity(): string {
    return this.opened.identity();
  }

  /** See Pkcs11Slots.close: false when calls were still running at the deadline (the module is left as it is). */
  close(timeoutMs?: number): Promise<boolean> {
    return this.opened.close(timeoutMs);
  }
}
