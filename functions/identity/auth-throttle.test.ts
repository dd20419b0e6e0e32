import { describe, expect, it } from "vitest";
import { createApp } from "../app.js";
import { apiKeyFor, jsonInit, testDeps } from "../testing.js";
import { AuthThrottle } from "./auth-throttle.js";

describe("AuthThrottle", () => {
  it("blocks a credential only from the source that failed with it, and a source that fails too often", () => {
    let t = 1_000_000; // lru-cache reads a start time of 0 as "no TTL"
    const throttle = new AuthThrottle({ windowMs: 60_000, maxPerSource: 20, maxPerCredentialAndSource: 5, now: () => t });
    for (let i = 0; i < 5; i++) throttle.failed("10.0.0.1", "alice");
    expect(() => throttle.check("10.0.0.1", "alice")).toThrow(/too many failed/);
    expect(() => throttle.check("10.0.0.2", "alice")).not.toThrow();
    expect(() => throttle.check("10.0.0.1", "bob")).not.toThrow();
    for (let i = 0; i < 20; i++) throttle.failed("10.0.0.3", `guess-${i}`);
    expect(() => throttle.check("10.0.0.3", "carol")).toThrow(/too many failed/);
    t += 60_001;
    expect(() => throttle.check("10.0.0.1", "alice")).not.toThrow();
    expect(() => throttle.check("10.0.0.3", "carol")).not.toThrow();
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
