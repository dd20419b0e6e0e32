import { describe, expect, it } from "vitest";
import { MemoryHsm } from "../../shared/hsm/memory-hsm.js";
import { PolicyAuthorizer, storedPolicies } from "../policy/authorizer.js";
import type { Principal } from "../identity/principal.js";
import { MemoryKeyStore } from "./memory-store.js";
import { KeyService } from "./service.js";
import { recordedChanges } from "../testing.js";

const admin: Principal = { tenant: "111122223333", principalId: "admin", roles: ["tenantAdmin"], credentialId: "c" };
const call = () => ({ requestId: "r", deadline: Date.now() + 5_000 });

describe("KeyService.sweep (with a clock)", () => {
  it("destroys keys past their deletion window and rotates keys whose period is due", async () => {
    let now = Date.parse("2026-01-01T00:00:00Z");
    const recorded = recordedChanges();
    const store = new MemoryKeyStore();
    const svc = new KeyService(store, new MemoryHsm(), new PolicyAuthorizer(storedPolicies((t, k, v) => store.getPolicy(t, k, v)), async () => undefined), { region: "us-east-1", metadataTtlMs: 0, maxCachedKeys: 100, changes: recorded.changes, now: () => now });
    const doomed = await svc.create(admin, {}, call());
    const rotating = await svc.create(admin, { rotationPeriodDays: 90 }, call());
    const untouched = await svc.create(admin, {}, call());
    await svc.scheduleDeletion(admin, doomed.keyId, 7);

    now += 6 * 86_400_000;
    expect(await svc.sweep(admin.tenant, call())).toEqual({ destroyed: [], rotated: [], dead: [] });

    now += 2 * 86_400_000;
    expect(await svc.sweep(admin.tenant, call())).toEqual({ destroyed: [doomed.keyId], rotated: [], dead: [doomed.keyId] });
    expect((await store.get(admin.tenant, doomed.keyId))?.state).toBe("Destroyed");
    expect((await store.getVersion(admin.tenant, doomed.keyId, 1))?.wrapped).toBeUndefined();
    // Tether's own change, recorded as a request's would be: intent first, then the outcome.
    expect(recorded.audit.records.filter((r) => r.keyId === doomed.keyId).map((r) => [r.action, r.phase ?? "outcome", r.result, r.principalId])).toEqual([
      ["kms:DeleteKey", "intent", "pending", "tether:system"],
      ["kms:DeleteKey", "outcome", "ok", "tether:system"],
    ]);

    now += 83 * 86_400_000;
    expect((await svc.sweep(admin.tenant, call())).rotated).toEqual([rotating.keyId]);
    expect((await store.get(admin.tenant, rotating.keyId))?.primaryVersion).toBe(2);
    expect((await store.get(admin.tenant, untouched.keyId))?.primaryVersion).toBe(1);
    expect(await svc.sweep(admin.tenant, call())).toEqual({ destroyed: [], rotated: [], dead: [doomed.keyId] });
  });
});

describe("KeyService: rotation applied on use", () => {
  it("adds exactly one version however many requests find the rotation due at once", async () => {
    let now = Date.parse("2026-01-01T00:00:00Z");
    const recorded = recordedChanges();
    const store = new MemoryKeyStore();
    const svc = new KeyService(store, new MemoryHsm(), new PolicyAuthorizer(storedPolicies((t, k, v) => store.getPolicy(t, k, v)), async () => undefined), { region: "us-east-1", metadataTtlMs: 0, maxCachedKeys: 100, changes: recorded.changes, now: () => now });
    const key = await svc.create(admin, { rotationPeriodDays: 90 }, call());
    now += 91 * 86_400_000;
    const used = await Promise.all(Array.from({ length: 20 }, () => svc.forUse(admin, key.keyId, "kms:Encrypt", call())));
    expect(new Set(used.map((k) => k.primaryVersion))).toEqual(new Set([2]));
    const versions = await svc.listVersions(admin, key.keyId);
    expect(versions.map((v) => v.version)).toEqual([1, 2]);
    expect(versions[1]?.rotationType).toBe("AUTOMATIC");
    await svc.rotate(admin, key.keyId, call());
    expect((await svc.listVersions(admin, key.keyId))[2]?.rotationType).toBe("ON_DEMAND");
  });
});
