import type { KeyStore, KeyUsageRecord } from "./store.js";

type Pending = { tenant: string; keyId: string; counts: Record<string, number>; lastUsedAt: string };

/**
 * Per-key usage statistics without a database write per request: counts accumulate in memory
 * and are added to the key's usage record (atomic increments) every `flushMs`, and on close.
 */
export class UsageRecorder {
  private pending = new Map<string, Pending>();
  private readonly timer: NodeJS.Timeout;

  constructor(
    private readonly store: KeyStore,
    flushMs = 30_000,
    private readonly now: () => number = Date.now,
  ) {
    this.timer = setInterval(() => void this.flush().catch(() => undefined), flushMs);
    this.timer.unref();
  }

  record(tenant: string, keyId: string, operation: string): void {
    this.add(tenant, keyId, { [operation]: 1 }, new Date(this.now()).toISOString());
  }

  private add(tenant: string, keyId: string, counts: Record<string, number>, lastUsedAt: string): void {
    const id = `${tenant}/${keyId}`;
    const entry = this.pending.get(id) ?? { tenant, keyId, counts: {}, lastUsedAt };
    for (const [op, n] of Object.entries(counts)) entry.counts[op] = (entry.counts[op] ?? 0) + n;
    if (lastUsedAt > entry.lastUsedAt) entry.lastUsedAt = lastUsedAt;
    this.pending.set(id, entry);
  }

  /** Writes what accumulated; counts that fail to write are kept for the next flush. */
  async flush(): Promise<void> {
    const batch = this.pending;
    this.pending = new Map();
    for (const entry of batch.values()) {
      try {
        await this.store.addUsage(entry.tenant, entry.keyId, entry.counts, entry.lastUsedAt);
      } catch (err) {
        this.add(entry.tenant, entry.keyId, entry.counts, entry.lastUsedAt);
        throw err;
      }
    }
  }

  /** Stored usage plus what this instance has not written yet. */
  async usage(tenant: string, keyId: string): Promise<KeyUsageRecord> {
    const stored = await this.store.getUsage(tenant, keyId);
    const local = this.pending.get(`${tenant}/${keyId}`);
    if (!local) return stored;
    const counts = { ...stored.counts };
    for (const [op, n] of Object.entries(local.counts)) counts[op] = (counts[op] ?? 0) + n;
    return { counts, lastUsedAt: local.lastUsedAt };
  }

  close(): Promise<void> {
    clearInterval(this.timer);
    return this.flush();
  }
}
