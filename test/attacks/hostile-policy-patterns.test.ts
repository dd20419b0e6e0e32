import { describe, expect, it } from "vitest";
import { createApp } from "../../functions/app.js";
import { apiKeyFor, requester, testDeps } from "../../functions/testing.js";

/**
 * Guarantee attacked: one tenant's key policy cannot stall the functions for everyone. Policy
 * globs (Resource, Action, StringLike) are caller input; a backtracking matcher spends
 * exponential time on `*?*?…#`, and the whole process with it.
 */
describe("attack: hostile glob patterns in a key policy", () => {
  it("a catastrophic Resource glob and StringLike pattern decide in bounded time", async () => {
    const t = testDeps();
    const call = requester(createApp(t.deps), await apiKeyFor(t.identity, ["tenantAdmin", "keyAdmin", "keyUser"]));
    const keyId = (await call("POST", "/v1/keys", {})).body.keyMetadata.keyId as string;
    const hostile = `${"*?".repeat(14)}#`;
    const policy = {
      Version: "2012-10-17",
      Statement: [
        { Sid: "Admin", Effect: "Allow", Principal: { Tether: "role:tenantAdmin" }, Action: "kms:*", Resource: "*" },
        { Sid: "Trap", Effect: "Deny", Principal: "*", Action: "kms:Encrypt", Resource: hostile },
        { Sid: "Trap2", Effect: "Deny", Principal: "*", Action: "kms:Encrypt", Resource: "*", Condition: { StringLike: { "kms:EncryptionContext:app": hostile } } },
      ],
    };
    expect((await call("PUT", `/v1/keys/${keyId}/policy`, { policy })).status).toBe(200);

    const started = performance.now();
    const res = await call("POST", `/v1/keys/${keyId}/encrypt`, { plaintext: "aGk=", encryptionContext: { app: "x".repeat(4000) } });
    const elapsed = performance.now() - started;
    expect(res.status).toBe(200);
    // Generous: the decision takes milliseconds; a backtracking matcher takes tens of seconds here.
    expect(elapsed).toBeLessThan(1_000);
  });
});
