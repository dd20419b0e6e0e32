import { describe, expect, it } from "vitest";
import type { Principal } from "../identity/principal.js";
import { testKeys } from "../testing.js";

const admin: Principal = { tenant: "111122223333", principalId: "admin", roles: ["tenantAdmin"], credentialId: "c" };
const call = () => ({ requestId: "r", deadline: Date.now() + 5_000 });

describe("KeyLifecycle.sweep (with a clock)", () => {
  it("destroys keys past their deletion window and rotates keys whose period is due", async () => {
    let now = Date.parse("2026-01-01T00:00:00Z");
    const { store, audit, keys, lifecycle } = testKeys({ now: () => now });
    const doomed = await keys.create(admin, {}, call());
    const rotating = await keys.create(admin, { rotationPeriodDays: 90 }, call());
    const untouched = await keys.create(admin, {}, call());
    await lifecycle.scheduleDeletion(admin, doomed.keyId, 7);

    now += 6 * 86_400_000;
    expect(await lifecycle.sweep(admin.tenant, call())).toEqual({ destroyed: [], rotated: [], dead: [] });

    now += 2 * 86_400_000;
    expect(await lifecycle.sweep(admin.tenant, call())).toEqual({ destroyed: [doomed.keyId], rotated: [], dead: [doomed.keyId] });
    expect((await store.get(admin.tenant, doomed.keyId))?.state).toBe("Destroyed");
    expect((await store.getVersion(admin.tenant, doomed.keyId, 1))?.wrapped).toBeUndefined();
    // Tether's own change, recorded as a request's would be: intent first, then the outcome.
    expect(audit.records.filter((r) => r.keyId === doomed.keyId).map((r) => [r.action, r.phase ?? "outcome", r.result, r.principalId])).toEqual([
      ["kms:DeleteKey", "intent", "pending", "tether:system"],
      ["kms:DeleteKey", "outcome", "ok", "tether:system"],
    ]);

    now += 83 * 86_400_000;
    expect((await lifecycle.sweep(admin.tenant, call())).rotated).toEqual([rotating.keyId]);
    expect((await store.get(admin.tenant, rotating.keyId))?.primaryVersion).toBe(2);
    expect((await store.get(admin.tenant, untouched.keyId))?.primaryVersion).toBe(1);
    expect(await lifecycle.sweep(admin.tenant, call())).toEqual({ destroyed: [], rotated: [], dead: [doomed.keyId] });
  });
});

describe("KeyLifecycle: rotation applied on use", () => {
  it("adds exactly one version however many requests find the rotation due at once", async () => {
    let now = Date.parse("2026-01-01T00:00:00Z");
    const { keys, lifecycle } = testKeys({ now: () => now });
    const key = await keys.create(admin, { rotationPeriodDays: 90 }, call());
    now += 91 * 86_400_000;
    const used = await Promise.all(Array.from({ length: 20 }, () => lifecycle.forUse(admin, key.keyId, "kms:Encrypt", call())));
    expect(new Set(used.map((k) => k.primaryVersion))).toEqual(new Set([2]));
    const versions = await lifecycle.listVersions(admin, key.keyId);
    expect(versions.map((v) => v.version)).toEqual([1, 2]);
    expect(versions[1]?.rotationType).toBe("AUTOMATIC");
    await lifecycle.rotate(admin, key.keyId, call());
    expect((await lifecycle.listVersions(admin, key.keyId))[2]?.rotationType).toBe("ON_DEMAND");
  });
});
