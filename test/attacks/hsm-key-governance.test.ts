import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { apiOf, type ConnectorProcess, startConnector, startFunctions, type TestStack, waitForHealth } from "../support/stack.js";


/**
 * Guarantees attacked: an HSM-resident key is governed like any KMS key — by its key policy, not
 * only by the caller's tenant role — and cannot be destroyed in one call by whoever holds a key
 * admin role; once it is gone (or going), the KMS keys it wraps stop working everywhere within the
 * metadata TTL, not after their cached material happens to expire an hour later.
 */
describe("attack: HSM-resident keys outside key policy and deletion windows (SoftHSM2, DynamoDB Local)", () => {
  let stack: TestStack;
  let connector: ConnectorProcess;
  const api = apiOf;
  const principalWith = async (roles: string[]) => {
    const id = `p${Math.random().toString(36).slice(2, 8)}`;
    await api(stack)("POST", "/v1/principals", { principalId: id, kind: "user", roles });
    return { id, token: (await api(stack)("POST", "/v1/api-keys", { principalId: id })).body.token as string };
  };

  beforeAll(async () => {
    stack = await startFunctions({ metadataTtlMs: 300 });
    connector = await startConnector(stack);
    await waitForHealth(stack, (h) => h.status === "ok");
  });
  afterAll(async () => {
    await connector?.stop();
    await stack?.close();
  });

  it("its key policy decides who may use it", async () => {
    const admin = api(stack);
    expect((await admin("POST", "/v1/hsm-keys", { label: "governed", keySpec: "AES_256" })).status).toBe(201);
    const user = await principalWith(["keyUser"]);
    const outsider = await principalWith(["keyUser"]);
    const policy = {
      Version: "2012-10-17",
      Statement: [
        { Sid: "Admins", Effect: "Allow", Principal: { Tether: "role:tenantAdmin" }, Action: "kms:*", Resource: "*" },
        { Sid: "One user", Effect: "Allow", Principal: { Tether: user.id }, Action: ["kms:Encrypt", "kms:Decrypt"], Resource: "*" },
      ],
    };
    expect((await admin("PUT", "/v1/keys/hsm::0::governed/policy", { policy })).status).toBe(200);
    expect((await api(stack, user.token)("POST", "/v1/hsm-keys/hsm::0::governed/encrypt", { plaintext: "aGk=" })).status).toBe(200);
    expect((await api(stack, outsider.token)("POST", "/v1/hsm-keys/hsm::0::governed/encrypt", { plaintext: "aGk=" })).body.__type).toBe("AccessDeniedException");
  });

  it("deleting it schedules its destruction (7–30 days), cancellable; until then it is unusable, not gone", async () => {
    const admin = api(stack);
    expect((await admin("POST", "/v1/hsm-keys", { label: "doomed", keySpec: "AES_256" })).status).toBe(201);
    const ct = (await admin("POST", "/v1/hsm-keys/hsm::0::doomed/encrypt", { plaintext: Buffer.from("keep me").toString("base64") })).body.ciphertextBlob;
    const scheduled = await admin("DELETE", "/v1/hsm-keys/hsm::0::doomed?pendingWindowInDays=7");
    expect(scheduled.status).toBe(200);
    expect(scheduled.body.keyMetadata).toMatchObject({ keyState: "PendingDeletion" });
    expect(Date.parse(scheduled.body.keyMetadata?.deletionDate ?? "") - Date.now()).toBeGreaterThan(6 * 86_400_000);
    expect((await admin("POST", "/v1/hsm-keys/hsm::0::doomed/decrypt", { ciphertextBlob: ct })).body.__type).toBe("KMSInvalidStateException");
    // A key admin cannot skip the window.
    const keyAdmin = await principalWith(["keyAdmin"]);
    expect((await api(stack, keyAdmin.token)("DELETE", "/v1/hsm-keys/hsm::0::doomed?pendingWindowInDays=0")).body.__type).toBe("ValidationException");
    // Cancelled: it comes back (disabled, as AWS), and its ciphertexts still open.
    expect((await admin("POST", "/v1/keys/hsm::0::doomed/cancel-deletion")).body.keyMetadata).toMatchObject({ keyState: "Disabled" });
    expect((await admin("POST", "/v1/keys/hsm::0::doomed/enable")).status).toBe(200);
    const back = await admin("POST", "/v1/hsm-keys/hsm::0::doomed/decrypt", { ciphertextBlob: ct });
    expect(Buffer.from(String(back.body.plaintext), "base64").toString()).toBe("keep me");
  });

  it("a KMS key it wraps stops working on every instance within the metadata TTL once it is scheduled for deletion", async () => {
    const admin = api(stack);
    expect((await admin("POST", "/v1/hsm-keys", { label: "kek-ttl", keySpec: "AES_256" })).status).toBe(201);
    const keyId = (await admin("POST", "/v1/keys", { wrappingKeyId: "hsm::0::kek-ttl" })).body.keyMetadata?.keyId as string;
    const other = { ...(await startFunctions({ tableName: stack.tableName, tenant: stack.tenant, metadataTtlMs: 300 })), adminToken: stack.adminToken };
    const otherConnector = await startConnector(other);
    try {
      await waitForHealth(other, (h) => h.status === "ok");
      // Warm on the other instance: its unwrapped material is cached there.
      expect((await api(other)("POST", `/v1/keys/${keyId}/encrypt`, { plaintext: "aGk=" })).status).toBe(200);
      expect((await admin("DELETE", "/v1/hsm-keys/hsm::0::kek-ttl")).status).toBe(200);
      const scheduledAt = Date.now();
      await expect.poll(async () => (await api(other)("POST", `/v1/keys/${keyId}/encrypt`, { plaintext: "aGk=" })).body.__type, { timeout: 5_000, interval: 50 }).toBe("KMSInvalidStateException");
      // Within the TTL (300 ms), with a margin for the two requests in flight.
      expect(Date.now() - scheduledAt).toBeLessThan(1_500);
    } finally {
      await otherConnector.stop();
      await other.close();
    }
  });
});
