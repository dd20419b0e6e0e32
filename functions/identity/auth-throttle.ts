import type { LRUCache } from "lru-cache";
import { boundedLru } from "../lru.js";
import { KmsError } from "../../shared/errors.js";

/**
 * Throttles failed authentication without handing an attacker a lever against valid callers.
 *
 * - Failures are counted per source address and per (credential, source) pair, never per
 *   credential alone: failures from elsewhere cannot block a credential used from its own address.
 * - Throttling applies only to the expensive part of authentication (the slow hash of an API key,
 *   the HSM unwrap of an access key's secret, and the database read that precedes them). A
 *   credential already verified (in its scheme's cache) is never throttled; a blocked source still
 *   admits credentials that verified here recently (`knownGoodMs`), so one bad client behind a NAT
 *   or a load balancer does not lock out its neighbours. A blocked pair is refused outright.
 * - Refused attempts cost nothing but the counting; admitted ones run at most `perSourceInFlight`
 *   at once per source and `totalInFlight` in all, the rest waiting in line (bounded).
 *
 * Counts are per instance (a guard, not a ledger).
 */
export type ThrottleOptions = {
  windowMs: number;
  maxPerSource: number;
  maxPerCredentialAndSource: number;
  perSourceInFlight?: number;
  totalInFlight?: number;
  /** Attempts waiting for a slot, per source; beyond, ThrottlingException. */
  queuePerSource?: number;
  knownGoodMs?: number;
  now?: () => number;
};

/** Where a scheme runs the expensive part of verifying a credential. */
export interface AuthGate {
  run<T>(work: () => Promise<T>): Promise<T>;
}

/** No throttling (scheme unit tests; internal callers). */
export const openGate: AuthGate = { run: (work) => work() };

const throttled = () => new KmsError("ThrottlingException", "too many failed authentication attempts; retry later");

export class AuthThrottle {
  private readonly failures: LRUCache<string, { count: number }>;
  private readonly knownGood: LRUCache<string, true>;
  private readonly slots: Slots;

  constructor(private readonly opts: ThrottleOptions) {
    const now = opts.now ?? Date.now;
    this.failures = boundedLru({ max: 100_000, ttl: opts.windowMs, ttlResolution: 0, perf: { now } });
    this.knownGood = boundedLru({ max: 100_000, ttl: opts.knownGoodMs ?? 86_400_000, ttlResolution: 0, perf: { now } });
    this.slots = new Slots(opts.perSourceInFlight ?? 2, opts.totalInFlight ?? 8, opts.queuePerSource ?? 64);
  }

  /** The gate for one attempt: refuses a blocked attempt before any work, admits the rest a few at a time. */
  gate(source: string, credentialId: string): AuthGate {
    return {
      run: async (work) => {
        this.refuseIfBlocked(source, credentialId);
        const release = await this.slots.acquire(source);
        try {
          // Failures that landed while this attempt waited count too.
          this.refuseIfBlocked(source, credentialId);
          return await work();
        } finally {
          release();
        }
      },
    };
  }

  failed(source: string, credentialId: string): void {
    for (const id of [`s|${source}`, `c|${credentialId}|${source}`]) {
      const entry = this.failures.get(id, { updateAgeOnGet: false });
      if (entry) entry.count += 1;
      else this.failures.set(id, { count: 1 });
    }
  }

  succeeded(credentialId: string): void {
    this.knownGood.set(credentialId, true);
  }

  private refuseIfBlocked(source: string, credentialId: string): void {
    if ((this.failures.get(`c|${credentialId}|${source}`)?.count ?? 0) >= this.opts.maxPerCredentialAndSource) throw throttled();
    if ((this.failures.get(`s|${source}`)?.count ?? 0) >= this.opts.maxPerSource && !this.knownGood.has(credentialId)) throw throttled();
  }
}

/** Counting semaphores per source and in total, with one FIFO line (bounded per source). */
class Slots {
  private running = 0;
  private readonly perSource = new Map<string, { running: number; waiting: number }>();
  private readonly line: { source: string; go: () => void }[] = [];

  constructor(
    private readonly maxPerSource: number,
    private readonly maxTotal: number,
    private readonly maxWaiting: number,
  ) {}

  /** Resolves with the release function once a slot is this attempt's. */
  async acquire(source: string): Promise<() => void> {
    const s = this.perSource.get(source) ?? { running: 0, waiting: 0 };
    this.perSource.set(source, s);
    if (this.hasRoom(s)) this.take(s);
    else {
      if (s.waiting >= this.maxWaiting) {
        this.tidy(source, s);
        throw new KmsError("ThrottlingException", "too many authentications in progress from this address; retry later");
      }
      s.waiting += 1;
      // The slot is taken on this waiter's behalf before it is woken (see wake).
      await new Promise<void>((go) => this.line.push({ source, go }));
    }
    return () => {
      s.running -= 1;
      this.running -= 1;
      this.tidy(source, s);
      this.wake();
    };
  }

  private hasRoom(s: { running: number }): boolean {
    return s.running < this.maxPerSource && this.running < this.maxTotal;
  }

  private take(s: { running: number }): void {
    s.running += 1;
    this.running += 1;
  }

  /** Hands freed slots to the first waiters, in order, whose source has room. */
  private wake(): void {
    for (let i = 0; i < this.line.length && this.running < this.maxTotal; ) {
      const w = this.line[i] as { source: string; go: () => void };
      const s = this.perSource.get(w.source) as { running: number; waiting: number };
      if (!this.hasRoom(s)) {
        i += 1;
        continue;
      }
      this.line.splice(i, 1);
      s.waiting -= 1;
      this.take(s);
      w.go();
    }
  }

  private tidy(source: string, s: { running: number; waiting: number }): void {
    if (s.running === 0 && s.waiting === 0) this.perSource.delete(source);
  }
}
