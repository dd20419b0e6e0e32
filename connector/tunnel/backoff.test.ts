import { describe, expect, it } from "vitest";
import { backoffDelay } from "./backoff.js";

describe("backoffDelay", () => {
  const policy = { baseMs: 100, capMs: 5_000 };

  it("grows exponentially up to the cap", () => {
    expect([0, 1, 2, 3, 10, 50].map((a) => backoffDelay(a, policy, () => 1))).toEqual([100, 200, 400, 800, 5_000, 5_000]);
  });

  it("is jittered uniformly below the ceiling", () => {
    expect(backoffDelay(3, policy, () => 0)).toBe(0);
    expect(backoffDelay(3, policy, () => 0.5)).toBe(400);
  });
});
