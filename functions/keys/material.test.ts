import { describe, expect, it } from "vitest";
import type { Principal } from "../identity/principal.js";
import { TEST_TENANT, testDeps } from "../testing.js";
import { KeyMaterialCache } from "./cache.js";
import { EncryptionBudget } from "./encryption-budget.js";
import { KeyMaterial } from "./material.js";
import { MemoryKeyStore } from "./memory-store.js";
import type { KeyStore } from "./store.js";

const admin: Principal = { tenant: TEST_TENANT, principalId: "admin", roles: ["tenantAdmin", "keyAdmin"], credentialId: "c" };
const unlimited = new EncryptionBudget(new MemoryKeyStore(), { blockSize: 1_000, rotateAfter: Number.MAX_SAFE_INTEGER }, { rotateDue: async (k) => k });
const call = () => ({ requestId: "material-test", deadline: Date.now() + 5_000 });

describe("KeyMaterial.prefetch", () => {
  it("reads a cold version once, alongside the key's metadata; a cached version reads nothing", async () => {
    const { deps, keyStore, hsm } = testDeps();
    const key = await deps.keys.create(admin, {}, call());
    let reads = 0;
    const counting: KeyStore = Object.assign(Object.create(keyStore) as KeyStore, {
      getVersion: (tenant: string, keyId: string, version: number) => {
        reads += 1;
        return keyStore.getVersion(tenant, keyId, version);
      },
    });
    const material = new KeyMaterial(counting, hsm, new KeyMaterialCache({ maxEntries: 10, idleMs: 60_000, maxAgeMs: 60_000 }), deps.keyDirectory, unlimited);

    const prefetched = material.prefetch(key.tenant, key.keyId, 1);
    expect(reads).toBe(1);
    const first = await material.forVersion(key, 1, call(), prefetched);
    expect(first).toHaveLength(32);
    expect(reads).toBe(1);

    expect(material.prefetch(key.tenant, key.keyId, 1)).toBeUndefined();
    expect(await material.forVersion(key, 1, call())).toEqual(first);
    expect(reads).toBe(1);
  });

  it("a read prefetched for another version is not used", async () => {
    const { deps, keyStore, hsm } = testDeps();
    const key = await deps.keys.create(admin, {}, call());
    const material = new KeyMaterial(keyStore, hsm, new KeyMaterialCache({ maxEntries: 10, idleMs: 60_000, maxAgeMs: 60_000 }), deps.keyDirectory, unlimited);
    const elsewhere = { id: "other", read: Promise.reject(new Error("not this one")) };
    elsewhere.read.catch(() => undefined);
    expect(await material.forVersion(key, 1, call(), elsewhere)).toHaveLength(32);
  });
});
