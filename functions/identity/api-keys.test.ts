import { describe, expect, it } from "vitest";
import { hashApiKeySecret, newApiKey, parseApiKey, verifyApiKeySecret } from "./api-keys.js";

describe("API keys", () => {
  it("round-trips: a new key parses and verifies against its hash", async () => {
    const key = newApiKey();
    expect(parseApiKey(key.token)).toEqual({ id: key.id, secret: key.secret });
    const stored = await hashApiKeySecret(key.secret);
    expect(stored.hash).not.toContain(key.secret);
    expect(await verifyApiKeySecret(key.secret, stored)).toBe(true);
  });

  it("refuses a wrong secret and malformed tokens", async () => {
    const key = newApiKey();
    const stored = await hashApiKeySecret(key.secret);
    expect(await verifyApiKeySecret(newApiKey().secret, stored)).toBe(false);
    for (const bad of ["", "tth_", `tth_${key.id}`, `tth_${key.id}_short`, `xxx_${key.id}_${key.secret}`]) {
      expect(parseApiKey(bad)).toBeUndefined();
    }
  });

  it("salts: the same secret hashes differently twice", async () => {
    const { secret } = newApiKey();
    const [a, b] = await Promise.all([hashApiKeySecret(secret), hashApiKeySecret(secret)]);
    expect(a.hash).not.toBe(b.hash);
  });
});
