import { describe, expect, it } from "vitest";
import { aesGcmOpen, aesGcmSeal } from "../../shared/crypto/software.js";
import { gcmAad, integrityValue, joinBody, metadataOf, splitBody, versionOf } from "./ciphertext.js";

const b64 = (s: string) => new Uint8Array(Buffer.from(s, "base64"));

describe("the XKS API's AES-GCM layout", () => {
  it("computes the spec's Appendix C ciphertext integrity value", () => {
    const cdiv = integrityValue({
      aad: b64("cHJvamVjdD1uaWxlLGRlcGFydG1lbnQ9bWFya2V0aW5n"),
      metadata: b64("a2V5X3ZlcnNpb249MQ=="),
      iv: b64("HMrlRw85cAJUd5Ax"),
      ciphertext: b64("ghxkK1txeDNn3q8Y"),
      tag: b64("vBxN2ncH1oEkR8WVXpmyYQ=="),
    });
    expect(Buffer.from(cdiv).toString("hex")).toBe("a8703f2260bd8791ec2d15ea0b23e65a0631eedcf2a13a65cc82db3f47cf5ec7");
    expect(Buffer.from(cdiv).toString("base64")).toBe("qHA/ImC9h5HsLRXqCyPmWgYx7tzyoTplzILbP0fPXsc=");
  });

  it("builds the GCM AAD with a 2-byte AAD length and a 1-byte metadata length (00 00 00 with neither)", () => {
    expect(Buffer.from(gcmAad(new Uint8Array(), new Uint8Array())).toString("hex")).toBe("000000");
    const aad = b64("cHJvamVjdD1uaWxlLGRlcGFydG1lbnQ9bWFya2V0aW5n");
    expect(Buffer.from(gcmAad(aad, Buffer.from("key_version=1"))).toString("hex")).toBe(
      "0021" + Buffer.from("project=nile,department=marketing").toString("hex") + "0d" + Buffer.from("key_version=1").toString("hex"),
    );
  });

  it("binds the metadata: a ciphertext opened with other metadata (another version) fails", () => {
    const key = new Uint8Array(32).fill(7);
    const aad = Buffer.from("ctx");
    const body = aesGcmSeal(key, Buffer.from("secret"), gcmAad(aad, metadataOf(1)));
    const parts = splitBody(body);
    expect(parts.ciphertext).toHaveLength(6);
    expect(Buffer.from(aesGcmOpen(key, joinBody(parts), gcmAad(aad, metadataOf(1)))).toString()).toBe("secret");
    expect(() => aesGcmOpen(key, joinBody(parts), gcmAad(aad, metadataOf(2)))).toThrow();
    expect(versionOf(metadataOf(7))).toBe(7);
    for (const bad of [undefined, new Uint8Array(4), Buffer.from("0200000001", "hex"), Buffer.from("0100000000", "hex")]) expect(() => versionOf(bad)).toThrow(/metadata/);
  });
});
