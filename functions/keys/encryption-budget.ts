import type { CallOpts } from "../../shared/hsm/port.js";
import type { KeyLifecycle } from "./lifecycle.js";
import type { KeyRecord } from "./model.js";
import type { KeyStore } from "./store.js";

/**
 * AES-GCM with random 96-bit IVs must stay well below 2^32 messages per key. Each version counts
 * its encryptions in DynamoDB, reserved in blocks (one write per `blockSize` encryptions per
 * instance, not one per request); once the reserved total passes `rotateAfter`, the key rotates.
 */
export type BudgetOptions = { blockSize: number; rotateAfter: number };

type Allowance = { remaining: number; reserving?: Promise<void> };

export class EncryptionBudget {
  private readonly allowances = new Map<string, Allowance>();

  constructor(
    private readonly store: KeyStore,
    private readonly opts: BudgetOptions,
    private readonly lifecycle: Pick<KeyLifecycle, "rotateDue">,
  ) {}

  /** Takes one encryption from the version's allowance, reserving a block when it runs out. */
  async take(key: KeyRecord, version: number, call: CallOpts): Promise<void> {
    const id = `${key.tenant}/${key.keyId}/${version}`;
    const allowance = this.allowances.get(id) ?? { remaining: 0 };
    this.allowances.set(id, allowance);
    while (allowance.remaining <= 0) {
      allowance.reserving ??= this.reserve(key, version, allowance, call).finally(() => (allowance.reserving = undefined));
      await allowance.reserving;
    }
    allowance.remaining -= 1;
  }

  private async reserve(key: KeyRecord, version: number, allowance: Allowance, call: CallOpts): Promise<void> {
    const total = await this.store.reserveEncryptions(key.tenant, key.keyId, version, this.opts.blockSize);
    allowance.remaining += this.opts.blockSize;
    if (total >= this.opts.rotateAfter && version === key.primaryVersion) await this.lifecycle.rotateDue(key, call);
  }
}
