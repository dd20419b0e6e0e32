import type { CallOpts } from "../../shared/hsm/port.js";
import type { Logger } from "../../shared/log.js";
import type { GrantStore } from "../grants/store.js";
import type { SessionTokenKeys } from "../identity/session-tokens.js";
import type { KeyLifecycle } from "../keys/lifecycle.js";
import type { TenantStore } from "../tenants/store.js";

export type SweepReport = {
  tenants: number;
  destroyed: string[];
  rotated: string[];
  grantsRemoved: number;
  tokenKeysRetired: string[];
  /** Audit chains signed because their writers left them unsigned. */
  chainsSigned: number;
  /** Tenants whose sweep failed (the next run tries again); the others are done. */
  failed: string[];
};

export type SweeperDeps = {
  tenants: TenantStore;
  /** The operator's tenant, which may have no tenant record (the local stack's own tenant). */
  operatorTenant?: string | undefined;
  keys: KeyLifecycle;
  grants: GrantStore;
  tokenKeys: SessionTokenKeys;
  audit: { signIdleChains(tenant: string): Promise<string[]> };
  log: Logger;
};

/**
 * Scheduled housekeeping (every few minutes on AWS). Everything it does is also applied lazily on
 * use, so a late run changes only when it happens, never what a request sees:
 * - destroys keys whose deletion window has passed (crypto-shredding) and rotates keys whose
 *   automatic-rotation period is due;
 * - removes the grants of destroyed keys;
 * - retires session-token signing keys no unexpired token can need;
 * - signs the audit chains their writers left unsigned (a frozen Lambda instance, a crash).
 */
export class Sweeper {
  constructor(private readonly d: SweeperDeps) {}

  async run(call: () => CallOpts): Promise<SweepReport> {
    const tenantIds = new Set((await this.d.tenants.list()).map((t) => t.tenantId));
    if (this.d.operatorTenant) tenantIds.add(this.d.operatorTenant);
    const report: SweepReport = { tenants: tenantIds.size, destroyed: [], rotated: [], grantsRemoved: 0, tokenKeysRetired: [], chainsSigned: 0, failed: [] };
    for (const tenant of tenantIds) {
      try {
        const swept = await this.d.keys.sweep(tenant, call());
        report.destroyed.push(...swept.destroyed);
        report.rotated.push(...swept.rotated);
        for (const keyId of swept.dead) {
          for (const g of await this.d.grants.listForKey(tenant, keyId)) {
            if (await this.d.grants.delete(tenant, keyId, g.grantId)) report.grantsRemoved += 1;
          }
        }
        report.chainsSigned += (await this.d.audit.signIdleChains(tenant)).length;
      } catch (err) {
        report.failed.push(tenant);
        this.d.log.error("sweep failed for a tenant", { tenant, error: (err as Error).message });
      }
    }
    report.tokenKeysRetired = await this.d.tokenKeys.retireOld();
    this.d.log.info("swept", { ...report, destroyed: report.destroyed.length, rotated: report.rotated.length });
    return report;
  }
}
