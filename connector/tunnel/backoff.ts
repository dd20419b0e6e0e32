export type BackoffPolicy = { baseMs: number; capMs: number };

/**
 * Capped at 1 s: a hub that comes back (a deploy, a restart of the functions) is served again
 * within about a second; a few connectors redialling once a second cost a hub nothing.
 */
export const DEFAULT_BACKOFF: BackoffPolicy = { baseMs: 100, capMs: 1_000 };

/** Capped exponential back-off with full jitter: uniform in [0, min(cap, base·2^attempt)]. */
export function backoffDelay(attempt: number, policy: BackoffPolicy = DEFAULT_BACKOFF, random: () => number = Math.random): number {
  const ceiling = Math.min(policy.capMs, policy.baseMs * 2 ** Math.min(attempt, 30));
  return Math.round(random() * ceiling);
}
