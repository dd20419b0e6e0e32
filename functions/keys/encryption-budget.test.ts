import { describe, expect, it } from "vitest";
import type { Principal } from "../identity/principal.js";
import { EncryptionBudget } from "./encryption-budget.js";
import { testKeys } from "../testing.js";

const admin: Principal = { tenant: "111122223333", principalId: "admin", roles: ["tenantAdmin"], credentialId: "c" };
const call = () => ({ requestId: "r", deadline: Date.now() + 5_000 });

describe("EncryptionBudget", () => {
  it("reserves encryptions in blocks (one write per block) and rotates once the total passes the bound", async () => {
    const { store, keys, lifecycle } = testKeys();
    let writes = 0;
    const reserve = store.reserveEncryptions.bind(store);
    store.reserveEncryptions = async (...args) => {
      writes += 1;
      return reserve(...args);
    };
    const budget = new EncryptionBudget(store, { blockSize: 10, rotateAfter: 25 }, lifecycle);
    const key = await keys.create(admin, {}, call());

    await Promise.all(Array.from({ length: 20 }, () => budget.take(key, 1, call())));
    expect(writes).toBe(2);
    expect((await store.get(admin.tenant, key.keyId))?.primaryVersion).toBe(1);

    await budget.take(key, 1, call());
    expect(writes).toBe(3);
    expect((await store.get(admin.tenant, key.keyId))?.primaryVersion).toBe(2);

    // Another instance crossing the bound on the same old version does not rotate again.
    const other = new EncryptionBudget(store, { blockSize: 10, rotateAfter: 25 }, lifecycle);
    await other.take(key, 1, call());
    expect((await store.get(admin.tenant, key.keyId))?.primaryVersion).toBe(2);
  });
});
