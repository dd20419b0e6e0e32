import { describe, expect, it } from "vitest";
import { newSealKeyPair, open, seal, sealContext } from "./seal.js";

describe("sealed transport", () => {
  const material = new Uint8Array(Buffer.from("0123456789abcdef0123456789abcdef"));
  const ctx = sealContext("req-1", "unwrap");

  it("round-trips and never contains the plaintext", () => {
    const kp = newSealKeyPair();
    const box = seal(kp.publicKey, material, ctx);
    expect(Buffer.from(box).includes(Buffer.from(material))).toBe(false);
    expect(open(kp, box, ctx)).toEqual(material);
  });

  it("fails for another recipient, another context or any flipped bit", () => {
    const kp = newSealKeyPair();
    const box = seal(kp.publicKey, material, ctx);
    expect(() => open(newSealKeyPair(), box, ctx)).toThrow(/could not be opened/);
    expect(() => open(kp, box, sealContext("req-2", "unwrap"))).toThrow(/could not be opened/);
    for (const i of [0, 33, 50, box.length - 1]) {
      const bad = Uint8Array.from(box);
      bad[i] = (bad[i] as number) ^ 1;
      expect(() => open(kp, bad, ctx)).toThrow();
    }
    expect(() => open(kp, box.subarray(0, 40), ctx)).toThrow(/too short/);
  });
});
