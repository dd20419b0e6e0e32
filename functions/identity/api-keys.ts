import { randomBytes, scrypt, timingSafeEqual, type ScryptOptions } from "node:crypto";

/**
 * API keys: `tth_<id>_<secret>`. The id (16 hex) finds the record; the secret (32 random bytes,
 * base64url) is shown once and stored only as a salted scrypt hash.
 */
const FORMAT = /^tth_([0-9a-f]{16})_([A-Za-z0-9_-]{43})$/;
const SCRYPT: ScryptOptions = { N: 2 ** 14, r: 8, p: 1, maxmem: 64 * 1024 * 1024 };
const HASH_BYTES = 32;

export type ApiKeyHash = { salt: string; hash: string; params: string };

export function newApiKey(): { id: string; secret: string; token: string } {
  const id = randomBytes(8).toString("hex");
  const secret = randomBytes(32).toString("base64url");
  return { id, secret, token: `tth_${id}_${secret}` };
}

export function parseApiKey(token: string): { id: string; secret: string } | undefined {
  const m = FORMAT.exec(token);
  return m ? { id: m[1] as string, secret: m[2] as string } : undefined;
}

const derive = (secret: string, salt: Buffer): Promise<Buffer> =>
  new Promise((resolve, reject) =>
    scrypt(secret, salt, HASH_BYTES, SCRYPT, (err, key) => (err ? reject(err) : resolve(key))),
  );

export async function hashApiKeySecret(secret: string): Promise<ApiKeyHash> {
  const salt = randomBytes(16);
  const hash = await derive(secret, salt);
  return { salt: salt.toString("base64"), hash: hash.toString("base64"), params: `scrypt:${SCRYPT.N}:${SCRYPT.r}:${SCRYPT.p}` };
}

export async function verifyApiKeySecret(secret: string, stored: ApiKeyHash): Promise<boolean> {
  const expected = Buffer.from(stored.hash, "base64");
  const actual = await derive(secret, Buffer.from(stored.salt, "base64"));
  return expected.length === actual.length && timingSafeEqual(expected, actual);
}
