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

  it("wildcard patterns are bounded: at most 256 characters each and 64 per policy, beyond a trailing *", async () => {
    const t = testDeps();
    const call = requester(createApp(t.deps), await apiKeyFor(t.identity, ["tenantAdmin", "keyAdmin", "keyUser"]));
    const keyId = (await call("POST", "/v1/keys", {})).body.keyMetadata.keyId as string;
    const admin = { Sid: "Admin", Effect: "Allow", Principal: { Tether: "role:tenantAdmin" }, Action: "kms:*", Resource: "*" };
    const withLike = (values: string[]) => ({
      Version: "2012-10-17",
      Statement: [admin, { Sid: "Like", Effect: "Deny", Principal: "*", Action: "kms:Encrypt", Resource: "*", Condition: { StringLike: { "kms:EncryptionContext:app": values } } }],
    });
    const general = (i: number, length = 200) => `?${String(i).padStart(4, "0")}${"*a".repeat(length)}`.slice(0, length);

    const tooLong = await call("PUT", `/v1/keys/${keyId}/policy`, { policy: withLike([general(0, 257)]) });
    expect(tooLong).toMatchObject({ status: 400, body: { __type: "MalformedPolicyDocumentException" } });
    expect(tooLong.body.message).toMatch(/256 characters/);
    const tooMany = await call("PUT", `/v1/keys/${keyId}/policy`, { policy: withLike(Array.from({ length: 65 }, (_, i) => general(i, 60))) });
    expect(tooMany).toMatchObject({ status: 400, body: { __type: "MalformedPolicyDocumentException" } });
    expect(tooMany.body.message).toMatch(/64/);

    // Literals and prefixes are not counted: they are compared, not run.
    const prefix = `arn:aws:kms:us-east-1:111122223333:key/${"k".repeat(1_900)}*`;
    const plain = { Version: "2012-10-17", Statement: [admin, { Sid: "Long", Effect: "Deny", Principal: "*", Action: "kms:Encrypt", Resource: [prefix, "x".repeat(2_000)] }] };
    expect((await call("PUT", `/v1/keys/${keyId}/policy`, { policy: plain })).status).toBe(200);

    // The most the bounds allow, against a 4,000-character value, still decides.
    expect((await call("PUT", `/v1/keys/${keyId}/policy`, { policy: withLike(Array.from({ length: 64 }, (_, i) => general(i, 256))) })).status).toBe(200);
    const res = await call("POST", `/v1/keys/${keyId}/encrypt`, { plaintext: "aGk=", encryptionContext: { app: "a".repeat(4000) } });
    expect(res.status).toBe(200);
  });
});
