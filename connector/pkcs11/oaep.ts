import { createHash } from "node:crypto";
import { KmsError } from "../../shared/errors.js";
import { mgf1 } from "../../shared/crypto/mgf1.js";

/**
 * EME-OAEP decoding (RFC 8017 §7.1.2) with SHA-256, MGF1-SHA-256 and an empty label, for modules
 * that can only do raw RSA with the private key. Every failure is the same error, and the checks
 * run to the end whatever fails first.
 */
const H_LEN = 32;
const L_HASH = createHash("sha256").digest();

export function oaepSha256Decode(encoded: Buffer, modulusBytes: number): Buffer {
  const invalid = () => new KmsError("InvalidCiphertextException", "ciphertext could not be decrypted with this key");
  if (modulusBytes < 2 * H_LEN + 2 || encoded.length > modulusBytes) throw invalid();
  const em = Buffer.concat([Buffer.alloc(modulusBytes - encoded.length), encoded]);
  const maskedSeed = em.subarray(1, 1 + H_LEN);
  const maskedDb = em.subarray(1 + H_LEN);
  const seed = Buffer.from(maskedSeed.map((b, i) => b ^ (mgf1("sha256", maskedDb, H_LEN)[i] as number)));
  const dbMask = mgf1("sha256", seed, maskedDb.length);
  const db = Buffer.from(maskedDb.map((b, i) => b ^ (dbMask[i] as number)));
  let bad = em[0] as number;
  for (let i = 0; i < H_LEN; i++) bad |= (db[i] as number) ^ (L_HASH[i] as number);
  let separator = -1;
  let inPadding = 1;
  for (let i = H_LEN; i < db.length; i++) {
    const b = db[i] as number;
    const isOne = b === 1 ? 1 : 0;
    const isZero = b === 0 ? 1 : 0;
    if (inPadding && isOne && separator < 0) separator = i;
    if (inPadding && !isZero && !isOne) bad |= 1;
    if (isOne) inPadding = 0;
  }
  seed.fill(0);
  if (bad !== 0 || separator < 0) {
    db.fill(0);
    throw invalid();
  }
  const message = Buffer.from(db.subarray(separator + 1));
  db.fill(0);
  return message;
}
