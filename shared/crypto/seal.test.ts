import { describe, expect, it } from "vitest";
import { RotatingSealKeys, SealKeys, open, seal, sealContext } from "./seal.js";

describe("sealed transport", () => {
  const material = new Uint8Array(Buffer.from("0123456789abcdef0123456789abcdef"));
  const ctx = sealContext("req-1", "unwrap");

  it("round-trips both ways and never contains the plaintext", () => {
    const requester = new SealKeys("requester");
    const connector = new SealKeys("connector");
    const down = seal(connector, requester.publicKey, material, ctx);
    expect(Buffer.from(down).includes(Buffer.from(material))).toBe(false);
    expect(open(requester, connector.publicKey, down, ctx)).toEqual(material);
    const up = seal(requester, connector.publicKey, material, ctx);
    expect(open(connector, requester.publicKey, up, ctx)).toEqual(material);
  });

  it("fails for a third party, another context or any flipped bit", () => {
    const requester = new SealKeys("requester");
    const connector = new SealKeys("connector");
    const box = seal(connector, requester.publicKey, material, ctx);
    const eve = new SealKeys("requester");
    expect(() => open(eve, connector.publicKey, box, ctx)).toThrow(/could not be opened/);
    expect(() => open(requester, connector.publicKey, box, sealContext("req-2", "unwrap"))).toThrow(/could not be opened/);
    expect(() => open(requester, connector.publicKey, box, sealContext("req-1", "decrypt"))).toThrow(/could not be opened/);
    for (const i of [0, 5, 20, box.length - 1]) {
      const bad = Uint8Array.from(box);
      bad[i] = (bad[i] as number) ^ 1;
      expect(() => open(requester, connector.publicKey, bad, ctx)).toThrow(/could not be opened/);
    }
  });

  it("uses a fresh IV per box: the same message seals differently", () => {
    const a = new SealKeys("requester");
    const b = new SealKeys("connector");
    expect(Buffer.from(seal(a, b.publicKey, material, ctx)).equals(Buffer.from(seal(a, b.publicKey, material, ctx)))).toBe(false);
  });

  it("rotates the requester's key pair", () => {
    let t = 0;
    const rotating = new RotatingSealKeys(1_000, () => t);
    const first = rotating.get();
    t = 999;
    expect(rotating.get()).toBe(first);
    t = 1_000;
    expect(rotating.get()).not.toBe(first);
  });
});
