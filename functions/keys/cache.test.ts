import { describe, expect, it } from "vitest";
import { KeyMaterialCache } from "./cache.js";

/** Eviction zeroes material once the current turn of the event loop ends. */
const endOfTurn = () => new Promise((r) => setImmediate(r));

const clock = () => {
  let t = 1_000_000;
  return { now: () => t, advance: (ms: number) => (t += ms) };
};

describe("KeyMaterialCache", () => {
  it("loads once for a burst of concurrent misses (single-flight)", async () => {
    const cache = new KeyMaterialCache({ maxEntries: 10, idleMs: 60_000, maxAgeMs: 600_000 });
    let loads = 0;
    const load = async () => {
      loads += 1;
      await new Promise((r) => setTimeout(r, 10));
      return new Uint8Array([1, 2, 3]);
    };
    const results = await Promise.all(Array.from({ length: 200 }, () => cache.getOrLoad("k", "v1", load)));
    expect(loads).toBe(1);
    expect(results.every((r) => r[2] === 3)).toBe(true);
    expect(cache.stats()).toMatchObject({ loads: 1, misses: 200, hits: 0, size: 1 });
    await cache.getOrLoad("k", "v1", load);
    expect(cache.stats().hits).toBe(1);
  });

  it("zeroes material when an entry is evicted for size", async () => {
    const cache = new KeyMaterialCache({ maxEntries: 2, idleMs: 60_000, maxAgeMs: 600_000 });
    const first = await cache.getOrLoad("a", "s", async () => new Uint8Array([9, 9, 9]));
    await cache.getOrLoad("b", "s", async () => new Uint8Array([8]));
    await cache.getOrLoad("c", "s", async () => new Uint8Array([7]));
    await endOfTurn();
    expect([...first]).toEqual([0, 0, 0]);
    expect(cache.get("a", "s")).toBeUndefined();
    expect(cache.stats().evictions).toBe(1);
  });

  it("leaves material handed to a caller intact for the rest of the turn in which it is evicted", async () => {
    const cache = new KeyMaterialCache({ maxEntries: 2, idleMs: 60_000, maxAgeMs: 600_000 });
    const held = await cache.getOrLoad("a", "s", async () => new Uint8Array([5, 5]));
    cache.delete("a");
    expect([...held]).toEqual([5, 5]);
    await endOfTurn();
    expect([...held]).toEqual([0, 0]);
  });

  it("expires after the idle age, refreshed by use", async () => {
    const c = clock();
    const cache = new KeyMaterialCache({ maxEntries: 10, idleMs: 1_000, maxAgeMs: 100_000, now: c.now });
    const material = await cache.getOrLoad("a", "s", async () => new Uint8Array([5]));
    c.advance(900);
    expect(cache.get("a", "s")).toBeDefined();
    c.advance(900);
    expect(cache.get("a", "s")).toBeDefined();
    c.advance(1_100);
    expect(cache.get("a", "s")).toBeUndefined();
    await endOfTurn();
    expect([...material]).toEqual([0]);
  });

  it("expires after the absolute age even when in constant use", async () => {
    const c = clock();
    const cache = new KeyMaterialCache({ maxEntries: 10, idleMs: 1_000, maxAgeMs: 3_000, now: c.now });
    const material = await cache.getOrLoad("a", "s", async () => new Uint8Array([5]));
    for (let i = 0; i < 5; i++) {
      c.advance(500);
      expect(cache.get("a", "s")).toBeDefined();
    }
    c.advance(600);
    expect(cache.get("a", "s")).toBeUndefined();
    await endOfTurn();
    expect([...material]).toEqual([0]);
  });

  it("treats an entry from another wrapped record as stale", async () => {
    const cache = new KeyMaterialCache({ maxEntries: 10, idleMs: 60_000, maxAgeMs: 600_000 });
    const old = await cache.getOrLoad("a", "wrap-1", async () => new Uint8Array([1]));
    const fresh = await cache.getOrLoad("a", "wrap-2", async () => new Uint8Array([2]));
    expect([...fresh]).toEqual([2]);
    await endOfTurn();
    expect([...old]).toEqual([0]);
  });

  it("does not cache a failed load and lets the next caller retry", async () => {
    const cache = new KeyMaterialCache({ maxEntries: 10, idleMs: 60_000, maxAgeMs: 600_000 });
    await expect(cache.getOrLoad("a", "s", async () => Promise.reject(new Error("hsm down")))).rejects.toThrow("hsm down");
    await expect(cache.getOrLoad("a", "s", async () => new Uint8Array([4]))).resolves.toEqual(new Uint8Array([4]));
  });
});

describe("KeyMaterialCache.sweep", () => {
  it("zeroes idle and over-age entries without waiting for a read", async () => {
    const c = clock();
    const cache = new KeyMaterialCache({ maxEntries: 10, idleMs: 1_000, maxAgeMs: 5_000, now: c.now });
    const idle = await cache.getOrLoad("idle", "s", async () => new Uint8Array([1]));
    const busy = await cache.getOrLoad("busy", "s", async () => new Uint8Array([2]));
    c.advance(800);
    cache.get("busy", "s");
    c.advance(400);
    cache.sweep();
    await endOfTurn();
    expect([...idle]).toEqual([0]);
    expect([...busy]).toEqual([2]);
    expect(cache.stats().size).toBe(1);
  });
});
