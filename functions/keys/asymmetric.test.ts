import { constants, createHash, generateKeyPairSync, verify as nodeVerify, type KeyObject } from "node:crypto";
import { describe, expect, it } from "vitest";
import type { SigningAlg } from "../../shared/hsm/port.js";
import { rsaDecrypt, rsaEncrypt, signWith, verifyWith } from "./asymmetric.js";

const rsa = generateKeyPairSync("rsa", { modulusLength: 2048 });
const ec256 = generateKeyPairSync("ec", { namedCurve: "P-256" });
const ec384 = generateKeyPairSync("ec", { namedCurve: "P-384" });
const der = (k: { privateKey: KeyObject; publicKey: KeyObject }) => ({
  priv: new Uint8Array(k.privateKey.export({ format: "der", type: "pkcs8" })),
  pub: new Uint8Array(k.publicKey.export({ format: "der", type: "spki" })),
  key: k.publicKey,
});

const cases: Array<[SigningAlg, ReturnType<typeof der>]> = [
  ["RSASSA_PKCS1_V1_5_SHA_256", der(rsa)],
  ["RSASSA_PKCS1_V1_5_SHA_512", der(rsa)],
  ["RSASSA_PSS_SHA_256", der(rsa)],
  ["RSASSA_PSS_SHA_384", der(rsa)],
  ["ECDSA_SHA_256", der(ec256)],
  ["ECDSA_SHA_384", der(ec384)],
];

describe("software signing with KMS key pairs", () => {
  it.each(cases)("%s: RAW and DIGEST signatures verify with OpenSSL and with verifyWith", (alg, k) => {
    const message = Buffer.from("the message");
    const hash = `sha${alg.slice(-3)}`;
    const opts = alg.startsWith("RSASSA_PSS") ? { padding: constants.RSA_PKCS1_PSS_PADDING, saltLength: createHash(hash).digest().length } : { dsaEncoding: "der" as const };
    for (const [input, type] of [[message, "RAW"], [createHash(hash).update(message).digest(), "DIGEST"]] as const) {
      const sig = signWith(k.priv, alg, input, type);
      expect(nodeVerify(hash, message, { key: k.key, ...opts }, sig)).toBe(true);
      expect(verifyWith(k.pub, alg, input, type, sig)).toBe(true);
      const bad = Uint8Array.from(sig);
      bad[bad.length - 3] = (bad[bad.length - 3] as number) ^ 1;
      expect(verifyWith(k.pub, alg, input, type, bad)).toBe(false);
    }
    expect(verifyWith(k.pub, alg, Buffer.from("another message"), "RAW", signWith(k.priv, alg, message, "RAW"))).toBe(false);
  });

  it("refuses a DIGEST of the wrong length", () => {
    expect(() => signWith(der(rsa).priv, "RSASSA_PSS_SHA_256", Buffer.alloc(20), "DIGEST")).toThrow(/32 bytes/);
  });

  it("RSA OAEP round trips; a tampered ciphertext is InvalidCiphertextException", () => {
    const k = der(rsa);
    for (const alg of ["RSAES_OAEP_SHA_1", "RSAES_OAEP_SHA_256"] as const) {
      const ct = rsaEncrypt(k.pub, alg, Buffer.from("data key"));
      expect(Buffer.from(rsaDecrypt(k.priv, alg, ct)).toString()).toBe("data key");
      ct[10] = (ct[10] as number) ^ 1;
      expect(() => rsaDecrypt(k.priv, alg, ct)).toThrow(/ciphertext is invalid/);
    }
  });
});
