import { describe, expect, it } from "vitest";
import { isKmsError } from "../../shared/errors.js";
import { SIGNING_ALGS } from "../../shared/hsm/port.js";
import { createHmac, randomBytes } from "node:crypto";
import { verifyWith } from "./asymmetric.js";
import { KEY_PAIR_SPECS, newKeyPair } from "./key-pairs.js";
import { KeySpec, KeyUsage } from "./model.js";
import { algorithmsOf, ENCRYPTION_ALGORITHMS, KEY_SPECS, MAC_ALGORITHMS, usageFor } from "./specs.js";

describe("the key-spec registry", () => {
  it("describes every key spec, and every algorithm Tether accepts belongs to some spec", () => {
    expect(Object.keys(KEY_SPECS).sort()).toEqual([...KeySpec.options].sort());
    const offered = Object.values(KEY_SPECS);
    expect(new Set(offered.flatMap((t) => t.signing))).toEqual(new Set(SIGNING_ALGS));
    expect(new Set(offered.flatMap((t) => t.encryption))).toEqual(new Set(ENCRYPTION_ALGORITHMS));
    expect(new Set(offered.flatMap((t) => (t.mac ? [t.mac] : [])))).toEqual(new Set(MAC_ALGORITHMS));
    // Key pairs are generated in software; every other spec's material comes from the HSM's RNG.
    expect(new Set(offered.flatMap((t) => ("pair" in t.material ? [t.material.pair] : [])))).toEqual(new Set(KEY_PAIR_SPECS));
  });

  it("gives each spec its default usage, takes the usages it allows and refuses the others", () => {
    expect(KeySpec.options.map((s) => usageFor(s, undefined))).toEqual(["ENCRYPT_DECRYPT", "ENCRYPT_DECRYPT", "ENCRYPT_DECRYPT", "ENCRYPT_DECRYPT", "SIGN_VERIFY", "SIGN_VERIFY", "GENERATE_VERIFY_MAC", "GENERATE_VERIFY_MAC", "GENERATE_VERIFY_MAC"]);
    expect(usageFor("RSA_3072", "SIGN_VERIFY")).toBe("SIGN_VERIFY");
    for (const spec of KeySpec.options) {
      for (const usage of KeyUsage.options.filter((u) => !KEY_SPECS[spec].usages.includes(u))) {
        let refused: unknown;
        try {
          usageFor(spec, usage);
        } catch (err) {
          refused = err;
        }
        expect(isKmsError(refused, "ValidationException"), `${spec} ${usage}`).toBe(true);
      }
    }
  });

  it("lists only the algorithms of the key's usage: an RSA signing key offers no encryption", () => {
    expect(algorithmsOf("RSA_2048", "SIGN_VERIFY")).toEqual({ encryption: [], signing: KEY_SPECS.RSA_2048.signing, mac: [] });
    expect(algorithmsOf("RSA_2048", "ENCRYPT_DECRYPT")).toEqual({ encryption: ["RSAES_OAEP_SHA_1", "RSAES_OAEP_SHA_256"], signing: [], mac: [] });
    expect(algorithmsOf("HMAC_384", "GENERATE_VERIFY_MAC")).toEqual({ encryption: [], signing: [], mac: ["HMAC_SHA_384"] });
  });

  it("makes, from a version's material, the primitives its usages need: AEAD, MAC, signer, RSA decrypter", async () => {
    // One RSA key stands for every RSA size (the primitives do not depend on it; a 4096-bit key takes seconds to make).
    const rsa = await newKeyPair("RSA_2048");
    for (const spec of KeySpec.options) {
      const { material, primitives, usages } = KEY_SPECS[spec];
      const pair = "pair" in material ? (material.pair.startsWith("RSA") ? rsa : await newKeyPair(material.pair)) : undefined;
      const p = primitives("bytes" in material ? new Uint8Array(randomBytes(material.bytes)) : new Uint8Array(pair?.privateKey ?? []));
      expect(Object.keys(p).sort(), spec).toEqual(
        [...new Set(usages.flatMap((u) => (u === "SIGN_VERIFY" ? ["signer"] : u === "GENERATE_VERIFY_MAC" ? ["mac"] : spec === "SYMMETRIC_DEFAULT" ? ["aead"] : ["decrypter"])))].sort(),
      );
      if (p.signer && pair) {
        const alg = KEY_SPECS[spec].signing[0] as (typeof KEY_SPECS)[typeof spec]["signing"][number];
        expect(verifyWith(new Uint8Array(pair.publicKey), alg, Buffer.from("m"), "RAW", p.signer.sign(alg, Buffer.from("m"), "RAW")), spec).toBe(true);
      }
    }
    const key = new Uint8Array(randomBytes(32));
    const { aead } = KEY_SPECS.SYMMETRIC_DEFAULT.primitives(key);
    const aad = Buffer.from("aad");
    expect(Buffer.from(aead?.open(aead.seal(Buffer.from("pt"), aad), aad) ?? []).toString()).toBe("pt");
    const hmacKey = new Uint8Array(randomBytes(48));
    expect(Buffer.from(KEY_SPECS.HMAC_384.primitives(hmacKey).mac?.mac(Buffer.from("m")) ?? [])).toEqual(createHmac("sha384", hmacKey).update("m").digest());
  });
});
