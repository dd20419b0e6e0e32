import { generateKeyPair } from "node:crypto";

/** RSA and ECC key pair specs, as KMS names them. */
export const KEY_PAIR_SPECS = ["RSA_2048", "RSA_3072", "RSA_4096", "ECC_NIST_P256", "ECC_NIST_P384"] as const;
export type KeyPairSpec = (typeof KEY_PAIR_SPECS)[number];

type DerPair = { privateKey: Buffer; publicKey: Buffer };

const DER = { privateKeyEncoding: { format: "der", type: "pkcs8" }, publicKeyEncoding: { format: "der", type: "spki" } } as const;

/**
 * A new key pair as DER (private PKCS#8, public SPKI), generated on libuv's thread pool: an RSA-4096
 * key takes up to seconds, which must not stall the event loop serving other requests.
 */
export function newKeyPair(spec: KeyPairSpec): Promise<DerPair> {
  return new Promise((resolve, reject) => {
    const done = (err: Error | null, publicKey: Buffer, privateKey: Buffer) => (err ? reject(err) : resolve({ privateKey, publicKey }));
    if (spec.startsWith("RSA")) generateKeyPair("rsa", { modulusLength: Number(spec.slice(4)), ...DER }, done);
    else generateKeyPair("ec", { namedCurve: spec === "ECC_NIST_P256" ? "P-256" : "P-384", ...DER }, done);
  });
}
