import { describe, expect, it } from "vitest";
import { loadingLru } from "./lru.js";

describe("loadingLru", () => {
  it("loads a missing entry once for every concurrent caller, and keeps it", async () => {
    let loads = 0;
    const cache = loadingLru<string, string, { suffix: string }>({ max: 10, load: async (key, { suffix }) => `${key}${suffix}${++loads}` });
    expect(await Promise.all(Array.from({ length: 50 }, () => cache.get("k", { suffix: "-" })))).toEqual(Array(50).fill("k-1"));
    expect(await cache.get("k", { suffix: "-" })).toBe("k-1");
    expect(loads).toBe(1);
  });

  it("fails every waiter of a failed load and caches nothing", async () => {
    let loads = 0;
    const cache = loadingLru<string, string, undefined>({
      max: 10,
      load: async () => {
        loads += 1;
        if (loads === 1) throw new Error("refused");
        return "second";
      },
    });
    const results = await Promise.allSettled([cache.get("k", undefined), cache.get("k", undefined)]);
    expect(results.map((r) => r.status)).toEqual(["rejected", "rejected"]);
    expect(await cache.get("k", undefined)).toBe("second");
    expect(loads).toBe(2);
  });

  it("answers the callers already waiting when the entry is deleted during its load", async () => {
    let release: (v: string) => void = () => undefined;
    const cache = loadingLru<string, string, undefined>({ max: 10, load: () => new Promise<string>((r) => (release = r)) });
    const waiting = [cache.get("k", undefined), cache.get("k", undefined)];
    cache.cache.delete("k");
    release("v");
    expect(await Promise.all(waiting)).toEqual(["v", "v"]);
  });
});
