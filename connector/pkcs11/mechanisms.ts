import { createHash } from "node:crypto";
import pkcs11js from "pkcs11js";
import { KmsError } from "../../shared/errors.js";
import type { EncryptionAlg, MessageType, SigningAlg } from "../../shared/hsm/port.js";

/** Tether algorithm names → PKCS#11 mechanisms, and the byte-level glue PKCS#11 leaves to us. */

type Hash = "sha256" | "sha384" | "sha512";
const HASH_LEN: Record<Hash, number> = { sha256: 32, sha384: 48, sha512: 64 };
const CKM_HASH: Record<Hash, number> = { sha256: pkcs11js.CKM_SHA256, sha384: pkcs11js.CKM_SHA384, sha512: pkcs11js.CKM_SHA512 };
const MGF: Record<Hash, number> = { sha256: pkcs11js.CKG_MGF1_SHA256, sha384: pkcs11js.CKG_MGF1_SHA384, sha512: pkcs11js.CKG_MGF1_SHA512 };
/** DER DigestInfo prefixes (RFC 8017 §9.2 note 1). */
const DIGEST_INFO: Record<Hash, Buffer> = {
  sha256: Buffer.from("3031300d060960864801650304020105000420", "hex"),
  sha384: Buffer.from("3041300d060960864801650304020205000430", "hex"),
  sha512: Buffer.from("3051300d060960864801650304020305000440", "hex"),
};
const CKZ_DATA_SPECIFIED = 1;

export type SigningPlan = { family: "pkcs1" | "pss" | "ecdsa"; hash: Hash };

export function signingPlan(alg: SigningAlg): SigningPlan {
  const hash = `sha${alg.slice(-3)}` as Hash;
  if (alg.startsWith("RSASSA_PKCS1_V1_5")) return { family: "pkcs1", hash };
  if (alg.startsWith("RSASSA_PSS")) return { family: "pss", hash };
  return { family: "ecdsa", hash };
}

/** The digest to sign: RAW messages are hashed here; DIGEST messages must have the hash's length. */
export function digestOf(message: Uint8Array, type: MessageType, hash: Hash): Buffer {
  if (type === "RAW") return createHash(hash).update(message).digest();
  if (message.length !== HASH_LEN[hash]) throw new KmsError("ValidationException", `a ${hash.toUpperCase()} digest is ${HASH_LEN[hash]} bytes`);
  return Buffer.from(message);
}

/** Mechanism and input for signing `digest` with the plan. */
export function signingInput(plan: SigningPlan, digest: Buffer): { mechanism: pkcs11js.Mechanism; data: Buffer } {
  switch (plan.family) {
    case "pkcs1":
      return { mechanism: { mechanism: pkcs11js.CKM_RSA_PKCS }, data: Buffer.concat([DIGEST_INFO[plan.hash], digest]) };
    case "pss": {
      const parameter: pkcs11js.RsaPSS = { type: pkcs11js.CK_PARAMS_RSA_PSS, hashAlg: CKM_HASH[plan.hash], mgf: MGF[plan.hash], saltLen: HASH_LEN[plan.hash] };
      return { mechanism: { mechanism: pkcs11js.CKM_RSA_PKCS_PSS, parameter }, data: digest };
    }
    case "ecdsa":
      return { mechanism: { mechanism: pkcs11js.CKM_ECDSA }, data: digest };
  }
}

export function encryptionMechanism(alg: EncryptionAlg, iv: Buffer | undefined, aad: Uint8Array): pkcs11js.Mechanism {
  switch (alg) {
    case "AES_GCM": {
      const parameter: pkcs11js.AesGCM = { type: pkcs11js.CK_PARAMS_AES_GCM, iv, aad: Buffer.from(aad), ivBits: 96, tagBits: 128 };
      return { mechanism: pkcs11js.CKM_AES_GCM, parameter };
    }
    case "RSAES_OAEP_SHA_256": {
      const parameter: pkcs11js.RsaOAEP = { type: pkcs11js.CK_PARAMS_RSA_OAEP, hashAlg: pkcs11js.CKM_SHA256, mgf: pkcs11js.CKG_MGF1_SHA256, source: CKZ_DATA_SPECIFIED };
      return { mechanism: pkcs11js.CKM_RSA_PKCS_OAEP, parameter };
    }
    case "RSAES_PKCS1_V1_5":
      return { mechanism: pkcs11js.CKM_RSA_PKCS };
  }
}

/** ECDSA: PKCS#11 speaks raw r||s; AWS KMS and X.509 speak DER SEQUENCE { r INTEGER, s INTEGER }. */
export function ecdsaRawToDer(raw: Uint8Array): Buffer {
  const half = raw.length / 2;
  const int = (b: Uint8Array) => {
    let i = 0;
    while (i < b.length - 1 && b[i] === 0) i++;
    const v = Buffer.from(b.subarray(i));
    const body = (v[0] as number) & 0x80 ? Buffer.concat([Buffer.from([0]), v]) : v;
    return Buffer.concat([Buffer.from([0x02, body.length]), body]);
  };
  const seq = Buffer.concat([int(raw.subarray(0, half)), int(raw.subarray(half))]);
  return Buffer.concat([seq.length < 128 ? Buffer.from([0x30, seq.length]) : Buffer.from([0x30, 0x81, seq.length]), seq]);
}

/** DER → raw r||s of `size` bytes each; undefined when the DER is malformed. */
export function ecdsaDerToRaw(der: Uint8Array, size: number): Buffer | undefined {
  const b = Buffer.from(der);
  let p = 0;
  if (b[p++] !== 0x30) return undefined;
  let len = b[p++] as number;
  if (len === 0x81) len = b[p++] as number;
  if (p + len !== b.length) return undefined;
  const out: Buffer[] = [];
  for (let k = 0; k < 2; k++) {
    if (b[p++] !== 0x02) return undefined;
    const n = b[p++] as number;
    let v = b.subarray(p, p + n);
    p += n;
    while (v.length > size && v[0] === 0) v = v.subarray(1);
    if (v.length > size || v.length === 0) return undefined;
    out.push(Buffer.concat([Buffer.alloc(size - v.length), v]));
  }
  return p === b.length ? Buffer.concat(out) : undefined;
}
