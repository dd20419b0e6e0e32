import { describe, expect, it } from "vitest";
import { createApp } from "../app.js";
import { apiKeyFor, jsonInit, testDeps } from "../testing.js";
import { AuthThrottle } from "./auth-throttle.js";

describe("AuthThrottle", () => {
  it("blocks a credential only from the source that failed with it, and a failing source except for credentials known good", async () => {
    let t = 1_000_000; // lru-cache reads a start time of 0 as "no TTL"
    const throttle = new AuthThrottle({ windowMs: 60_000, maxPerSource: 20, maxPerCredentialAndSource: 5, now: () => t });
    const attempt = (source: string, credential: string) => throttle.gate(source, credential).run(async () => "verified");
    for (let i = 0; i < 5; i++) throttle.failed("10.0.0.1", "alice");
    await expect(attempt("10.0.0.1", "alice")).rejects.toThrow(/too many failed/);
    await expect(attempt("10.0.0.2", "alice")).resolves.toBe("verified");
    await expect(attempt("10.0.0.1", "bob")).resolves.toBe("verified");
    throttle.succeeded("dave");
    for (let i = 0; i < 20; i++) throttle.failed("10.0.0.3", `guess-${i}`);
    await expect(attempt("10.0.0.3", "carol")).rejects.toThrow(/too many failed/);
    await expect(attempt("10.0.0.3", "dave")).resolves.toBe("verified");
    t += 60_001;
    await expect(attempt("10.0.0.1", "alice")).resolves.toBe("verified");
    await expect(attempt("10.0.0.3", "carol")).resolves.toBe("verified");
  });

  it("runs admitted work a few at a time per source and in total, in order, and bounds the line", async () => {
    const throttle = new AuthThrottle({ windowMs: 60_000, maxPerSource: 1_000, maxPerCredentialAndSource: 1_000, perSourceInFlight: 2, totalInFlight: 3, queuePerSource: 4 });
    let running = 0;
    let peak = 0;
    const order: string[] = [];
    const gates: Array<() => void> = [];
    const work = (name: string) => async () => {
      peak = Math.max(peak, ++running);
      order.push(name);
      await new Promise<void>((r) => gates.push(r));
      running -= 1;
      return name;
    };
    const a = Array.from({ length: 6 }, (_, i) => throttle.gate("A", `a${i}`).run(work(`a${i}`)));
    const b = Array.from({ length: 2 }, (_, i) => throttle.gate("B", `b${i}`).run(work(`b${i}`)));
    await expect(throttle.gate("A", "a6").run(work("a6"))).rejects.toThrow(/in progress/);
    await expect.poll(() => order.length).toBe(3);
    expect(order).toEqual(["a0", "a1", "b0"]);
    // Finish the oldest running work, one at a time; each freed slot goes to the next in line with room.
    while (gates.length) {
      gates.shift()?.();
      await new Promise((r) => setImmediate(r));
    }
    expect(await Promise.all([...a, ...b])).toEqual(["a0", "a1", "a2", "a3", "a4", "a5", "b0", "b1"]);
    expect(peak).toBe(3);
    expect(order.slice(0, 4)).toEqual(["a0", "a1", "b0", "a2"]);
  });
});

describe("failed authentication over HTTP", () => {
  it("an attacker guessing a key's secret from one address cannot lock its owner out elsewhere", async () => {
    const t = testDeps({ env: { TETHER_AUTH_FAILURES_PER_SOURCE: "20" } });
    const app = createApp(t.deps, (c) => c.req.header("x-test-source"));
    const token = await apiKeyFor(t.identity, ["keyUser"]);
    const wrong = `${token.slice(0, -6)}AAAAAA`;
    const from = (source: string, bearer: string) => {
      const init = jsonInit({ numberOfBytes: 8 }, bearer);
      return app.request("/v1/random", { ...init, headers: { ...(init.headers as Record<string, string>), "x-test-source": source } });
    };
    for (let i = 0; i < 5; i++) expect((await from("203.0.113.9", wrong)).status).toBe(401);
    const blocked = await from("203.0.113.9", token);
    expect(blocked.status).toBe(429);
    expect(await blocked.json()).toMatchObject({ __type: "ThrottlingException" });
    expect((await from("198.51.100.7", token)).status).toBe(200);
    expect(t.audit.records.filter((r) => r.result === "ThrottlingException")).toHaveLength(1);
  });
});
