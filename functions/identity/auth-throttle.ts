import type { LRUCache } from "lru-cache";
import { boundedLru } from "../lru.js";
import { KmsError } from "../../shared/errors.js";

/**
 * Throttles repeated failed authentication without handing an attacker a lever to lock out the
 * real user: failures are counted per source address, and per (credential, source) pair — never
 * per credential alone, so failures from elsewhere cannot block a credential used correctly from
 * its own address. Successful authentications cost nothing. While blocked, attempts are refused
 * before the slow hash is computed. Counts are per instance (a guard, not a ledger).
 */
export type ThrottleOptions = { windowMs: number; maxPerSource: number; maxPerCredentialAndSource: number; now?: () => number };

export class AuthThrottle {
  private readonly failures: LRUCache<string, { count: number }>;

  constructor(private readonly opts: ThrottleOptions) {
    const now = opts.now ?? Date.now;
    this.failures = boundedLru({ max: 100_000, ttl: opts.windowMs, ttlResolution: 0, perf: { now } });
  }

  /** Throws ThrottlingException when this source, or this credential from this source, failed too often. */
  check(source: string, credentialId: string): void {
    if ((this.failures.get(`s|${source}`)?.count ?? 0) >= this.opts.maxPerSource || (this.failures.get(`c|${credentialId}|${source}`)?.count ?? 0) >= this.opts.maxPerCredentialAndSource) {
      throw new KmsError("ThrottlingException", "too many failed authentication attempts; retry later");
    }
  }

  failed(source: string, credentialId: string): void {
    for (const id of [`s|${source}`, `c|${credentialId}|${source}`]) {
      const entry = this.failures.get(id, { updateAgeOnGet: false });
      if (entry) entry.count += 1;
      else this.failures.set(id, { count: 1 });
    }
  }
}
