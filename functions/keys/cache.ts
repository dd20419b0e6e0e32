import type { LRUCache } from "lru-cache";
import { boundedLru } from "../lru.js";

/**
 * Unwrapped key material, cached in memory. Bounded by entries; an entry leaves after an idle
 * age or an absolute age, whichever comes first; its bytes are zeroed when it leaves (at the end of
 * that turn of the event loop, so that no request sees them change while it uses them). A miss
 * loads once however many callers ask at the same time (single-flight). Each entry is tied to
 * the wrapped record it came from (`source`): asking with another source is a miss.
 */
export type CacheOptions = {
  maxEntries: number;
  idleMs: number;
  maxAgeMs: number;
  now?: () => number;
};

export type CacheStats = { hits: number; misses: number; loads: number; evictions: number; size: number };

type Entry = { material: Uint8Array; source: string; loadedAt: number };

export class KeyMaterialCache {
  private readonly lru: LRUCache<string, Entry>;
  private readonly inflight = new Map<string, Promise<Uint8Array>>();
  private readonly now: () => number;
  private readonly counters = { hits: 0, misses: 0, loads: 0, evictions: 0 };

  constructor(private readonly opts: CacheOptions) {
    this.now = opts.now ?? Date.now;
    this.lru = boundedLru<string, Entry>({
      max: opts.maxEntries,
      ttl: opts.idleMs,
      updateAgeOnGet: true,
      ttlAutopurge: false,
      ttlResolution: 0,
      perf: { now: this.now },
      dispose: (entry) => {
        // Zeroed when this turn of the event loop ends: a request handed the material in this turn
        // (its use is synchronous) never sees it turn to zeros under it, which would encrypt
        // under an all-zero key.
        setImmediate(() => entry.material.fill(0));
        this.counters.evictions += 1;
      },
    });
  }

  /** Whether an entry for `id` is held or loading (whatever its source): a hint, not the material. */
  holds(id: string): boolean {
    return this.lru.has(id) || [...this.inflight.keys()].some((k) => k.startsWith(`${id}\u0000`));
  }

  /** The cached material for `id` if it came from `source` and is within both ages. */
  get(id: string, source: string): Uint8Array | undefined {
    const entry = this.lru.get(id);
    if (!entry) return undefined;
    if (entry.source !== source || this.now() - entry.loadedAt >= this.opts.maxAgeMs) {
      this.lru.delete(id);
      return undefined;
    }
    return entry.material;
  }

  /** Returns the cached material, or loads it once for all concurrent callers. */
  async getOrLoad(id: string, source: string, load: () => Promise<Uint8Array>): Promise<Uint8Array> {
    const hit = this.get(id, source);
    if (hit) {
      this.counters.hits += 1;
      return hit;
    }
    this.counters.misses += 1;
    const flightKey = `${id}\u0000${source}`;
    const running = this.inflight.get(flightKey);
    if (running) return running;
    const loading = (async () => {
      this.counters.loads += 1;
      const material = await load();
      this.lru.set(id, { material, source, loadedAt: this.now() });
      return material;
    })().finally(() => this.inflight.delete(flightKey));
    this.inflight.set(flightKey, loading);
    return loading;
  }

  delete(id: string): void {
    this.lru.delete(id);
  }

  /** Zeroes and drops every entry. */
  clear(): void {
    this.lru.clear();
  }

  /** Zeroes and drops entries past their idle age; call periodically so idle keys do not linger. */
  sweep(): void {
    this.lru.purgeStale();
    for (const [id, entry] of this.lru.entries()) {
      if (this.now() - entry.loadedAt >= this.opts.maxAgeMs) this.lru.delete(id);
    }
  }

  stats(): CacheStats {
    return { ...this.counters, size: this.lru.size };
  }
}
