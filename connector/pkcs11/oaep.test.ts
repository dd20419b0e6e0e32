import { constants, generateKeyPairSync, privateDecrypt, publicEncrypt } from "node:crypto";
import { describe, expect, it } from "vitest";
import { oaepSha256Decode } from "./oaep.js";

describe("EME-OAEP (SHA-256) decoding", () => {
  const { publicKey, privateKey } = generateKeyPairSync("rsa", { modulusLength: 2048 });
  const raw = (ct: Buffer) => privateDecrypt({ key: privateKey, padding: constants.RSA_NO_PADDING }, ct);
  const oaep = (m: Buffer) => publicEncrypt({ key: publicKey, padding: constants.RSA_PKCS1_OAEP_PADDING, oaepHash: "sha256" }, m);

  it.each([0, 1, 32, 190])("decodes a %i-byte message encrypted by OpenSSL", (n) => {
    const m = Buffer.alloc(n, 7);
    expect(oaepSha256Decode(raw(oaep(m)), 256)).toEqual(m);
  });

  it("refuses a SHA-1 OAEP block and a PKCS#1 v1.5 block with one error", () => {
    const sha1 = publicEncrypt({ key: publicKey, padding: constants.RSA_PKCS1_OAEP_PADDING, oaepHash: "sha1" }, Buffer.from("hi"));
    const v15 = publicEncrypt({ key: publicKey, padding: constants.RSA_PKCS1_PADDING }, Buffer.from("hi"));
    expect(() => oaepSha256Decode(raw(sha1), 256)).toThrow(/could not be decrypted/);
    expect(() => oaepSha256Decode(raw(v15), 256)).toThrow(/could not be decrypted/);
  });
});
