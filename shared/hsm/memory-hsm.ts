import { randomBytes } from "node:crypto";
import { KmsError } from "../errors.js";
import type { CallOpts, HsmHealth, HsmPort } from "./port.js";

/** A software HsmPort for unit tests: real randomness, counted calls, switchable outage. */
export class MemoryHsm implements HsmPort {
  readonly calls: Record<"random" | "health", number> = { random: 0, health: 0 };
  available = true;

  async random(length: number, o: CallOpts): Promise<Uint8Array> {
    this.enter("random", o);
    return new Uint8Array(randomBytes(length));
  }

  async health(o: CallOpts): Promise<HsmHealth> {
    this.enter("health", o);
    return { identity: "memory/MemoryHsm/0", slots: [], rootKeyOk: true, checkMs: 0 };
  }

  private enter(op: "random" | "health", o: CallOpts): void {
    this.calls[op] += 1;
    if (!this.available) throw new KmsError("HsmUnavailableException", "no HSM connector is connected");
    if (Date.now() > o.deadline) throw new KmsError("DependencyTimeoutException", "deadline passed");
  }
}
