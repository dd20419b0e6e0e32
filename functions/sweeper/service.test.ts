import { describe, expect, it } from "vitest";
import type { Principal } from "../identity/principal.js";
import { TEST_TENANT, testDeps } from "../testing.js";

const admin: Principal = { tenant: TEST_TENANT, principalId: "admin", roles: ["tenantAdmin", "keyAdmin"], credentialId: "c" };
const call = () => ({ requestId: "sweep-test", deadline: Date.now() + 5_000 });
const DAY_MS = 86_400_000;
const kid = (daysAgo: number) => `k-${new Date(Date.now() - daysAgo * DAY_MS).toISOString().slice(0, 10)}`;

describe("Sweeper", () => {
  it("sweeps the operator's tenant and every tenant on record; retires token keys no live token needs", async () => {
    const { deps, identity, tenantStore } = testDeps({ env: { TETHER_OPERATOR_TENANT: TEST_TENANT } });
    await tenantStore.create({ tenantId: "444455556666", name: "other", createdAt: new Date().toISOString() });
    const wrapped = { rootKeyLabel: "root", hsmIdentity: "memory", iv: "AAAA", ciphertext: "AAAA" };
    for (const days of [3, 2, 1, 0]) await identity.putTokenKey({ kid: kid(days), wrapped, createdAt: new Date().toISOString() });

    const report = await deps.sweeper.run(call);
    expect(report.tenants).toBe(2);
    expect(report.tokenKeysRetired.sort()).toEqual([kid(3), kid(2)].sort());
    expect([...identity.tokenKeys.keys()].sort()).toEqual([kid(1), kid(0)].sort());
    expect(report.failed).toEqual([]);
  });

  it("removes the grants of keys already destroyed, once", async () => {
    const { deps, grantStore, keyStore } = testDeps({ env: { TETHER_OPERATOR_TENANT: TEST_TENANT } });
    const key = await deps.keys.create(admin, {}, call());
    await grantStore.create({ tenant: TEST_TENANT, keyId: key.keyId, grantId: "0".repeat(32), granteePrincipal: "batch", operations: ["Encrypt"], issuingPrincipal: "admin", createdAt: new Date().toISOString() });
    expect(await keyStore.shred({ ...key, state: "Destroyed", revision: key.revision + 1 })).toBe(true);

    expect((await deps.sweeper.run(call)).grantsRemoved).toBe(1);
    expect(await grantStore.listForKey(TEST_TENANT, key.keyId)).toEqual([]);
    expect((await deps.sweeper.run(call)).grantsRemoved).toBe(0);
  });
});
