export type BackoffPolicy = { baseMs: number; capMs: number };

/** Capped at 2 s so that a hub that comes back is served again within about 2 s. */
export const DEFAULT_BACKOFF: BackoffPolicy = { baseMs: 100, capMs: 2_000 };

/** Capped exponential back-off with full jitter: uniform in [0, min(cap, base·2^attempt)]. */
export function backoffDelay(attempt: number, policy: BackoffPolicy = DEFAULT_BACKOFF, random: () => number = Math.random): number {
  const ceiling = Math.min(policy.capMs, policy.baseMs * 2 ** Math.min(attempt, 30));
  return Math.round(random() * ceiling);
}
