import { KmsError } from "../shared/errors.js";
import { anyGlob, compileGlob, type Glob } from "../shared/glob.js";
import type { OpName } from "../shared/protocol/frames.js";

/**
 * The customer's own limits, enforced by the connector whatever the cloud side asks: an
 * allow-list of operations and of HSM-resident key labels (`*` wildcards), and a rate limit
 * (token bucket, requests per second with a burst).
 */
export type GuardConfig = { allowedOps: readonly string[]; allowedLabels: readonly string[]; ratePerSecond: number; burst: number };

export class Guard {
  private readonly ops: Set<string>;
  private readonly allOps: boolean;
  private readonly labels: Glob[];
  private tokens: number;
  private refilledAt: number;

  constructor(
    private readonly config: GuardConfig,
    private readonly now: () => number = Date.now,
  ) {
    this.allOps = config.allowedOps.includes("*");
    this.ops = new Set(config.allowedOps);
    this.labels = config.allowedLabels.map((l) => compileGlob(l));
    this.tokens = config.burst;
    this.refilledAt = now();
  }

  /** Throws AccessDeniedException or ThrottlingException when the request is outside the limits. */
  check(op: OpName, label: string | undefined): void {
    if (op !== "health" && !this.allOps && !this.ops.has(op)) throw new KmsError("AccessDeniedException", `the connector does not allow ${op}`);
    if (label !== undefined && !anyGlob(this.labels, label)) throw new KmsError("AccessDeniedException", `the connector does not allow HSM key "${label}"`);
    if (!this.take()) throw new KmsError("ThrottlingException", "the connector's rate limit is exceeded");
  }

  private take(): boolean {
    const t = this.now();
    this.tokens = Math.min(this.config.burst, this.tokens + ((t - this.refilledAt) / 1000) * this.config.ratePerSecond);
    this.refilledAt = t;
    if (this.tokens < 1) return false;
    this.tokens -= 1;
    return true;
  }
}
