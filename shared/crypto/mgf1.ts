import { createHash } from "node:crypto";

/** MGF1 (RFC 8017 §B.2.1) with the given hash. */
export function mgf1(hash: "sha256" | "sha384" | "sha512", seed: Uint8Array, length: number): Buffer {
  const chunks: Buffer[] = [];
  const counter = Buffer.alloc(4);
  for (let i = 0, have = 0; have < length; i++) {
    counter.writeUInt32BE(i);
    const block = createHash(hash).update(seed).update(counter).digest();
    chunks.push(block);
    have += block.length;
  }
  return Buffer.concat(chunks).subarray(0, length);
}
