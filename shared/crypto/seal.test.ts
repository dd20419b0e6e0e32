import { describe, expect, it } from "vitest";
import { SealKeys, mac, macValid, open, seal, sealContext } from "./seal.js";

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
    // A box that does not open is the channel failing (a relay), never the caller's bad data.
    expect(() => open(eve, connector.publicKey, box, ctx)).toThrow(expect.objectContaining({ code: "HsmUnavailableException" }));
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

  it("authenticates messages on the channel: both ends agree, a third party or any change does not", () => {
    const requester = new SealKeys("requester");
    const connector = new SealKeys("connector");
    const tag = mac(requester, connector.publicKey, "request 1");
    expect(macValid(connector, requester.publicKey, "request 1", tag)).toBe(true);
    expect(macValid(connector, requester.publicKey, "request 2", tag)).toBe(false);
    expect(macValid(new SealKeys("connector"), requester.publicKey, "request 1", tag)).toBe(false);
    expect(macValid(connector, requester.publicKey, "request 1", "AAAA")).toBe(false);
  });
});
