import { describe, expect, it } from "vitest";
import { aadFor, canonicalContext, decodeHeader, encodeHeader } from "./envelope.js";
import { aesGcmOpen, aesGcmSeal } from "./software.js";

const keyId = "1b4e28ba-2fa1-11d2-883f-0016d3cca427";

describe("ciphertext header (known answers)", () => {
  it("encodes format, key id and version big-endian", () => {
    expect(Buffer.from(encodeHeader({ keyId, version: 258 })).toString("hex")).toBe("01" + "1b4e28ba2fa111d2883f0016d3cca427" + "00000102");
  });

  it("round-trips and refuses malformed headers", () => {
    const body = new Uint8Array(28);
    expect(decodeHeader(new Uint8Array([...encodeHeader({ keyId, version: 7 }), ...body]))).toEqual({ keyId, version: 7 });
    expect(() => decodeHeader(new Uint8Array([2, ...encodeHeader({ keyId, version: 7 }).subarray(1), ...body]))).toThrow(/ciphertext is invalid/);
    expect(() => decodeHeader(new Uint8Array(30))).toThrow(/ciphertext is invalid/);
    expect(() => decodeHeader(encodeHeader({ keyId, version: 7 }))).toThrow(/ciphertext is invalid/);
  });

  it("canonicalises the encryption context (sorted keys)", () => {
    expect(Buffer.from(canonicalContext({ b: "2", a: "1" })).toString()).toBe('{"a":"1","b":"2"}');
    expect(Buffer.from(canonicalContext(undefined)).toString()).toBe("{}");
  });

  it("binds the context: another context or a flipped bit fails with one error", () => {
    const key = new Uint8Array(32).fill(9);
    const header = encodeHeader({ keyId, version: 1 });
    const body = aesGcmSeal(key, Buffer.from("secret"), aadFor(header, { purpose: "test" }));
    expect(Buffer.from(aesGcmOpen(key, body, aadFor(header, { purpose: "test" }))).toString()).toBe("secret");
    expect(() => aesGcmOpen(key, body, aadFor(header, { purpose: "other" }))).toThrow(/ciphertext is invalid/);
    const flipped = Uint8Array.from(body);
    flipped[14] = (flipped[14] as number) ^ 1;
    expect(() => aesGcmOpen(key, flipped, aadFor(header, { purpose: "test" }))).toThrow(/ciphertext is invalid/);
  });
});
