import { describe, expect, it } from "vitest";
import { createApp } from "../../functions/app.js";
import { apiKeyFor, requester, TEST_TENANT, testDeps } from "../../functions/testing.js";

/**
 * Guarantee attacked: a key policy means what it means in AWS. `{"AWS": "arn:aws:iam::<account>:root"}`
 * delegates to the account's identity policies — in Tether, the caller's roles — and grants
 * nobody anything by itself. AWS's own default key policy (root, kms:*) must not hand an
 * auditor or a role-less principal the right to decrypt.
 */
describe("attack: riding the account-root statement of an AWS-style key policy", () => {
  const awsDefault = { Version: "2012-10-17", Statement: [{ Sid: "Enable IAM User Permissions", Effect: "Allow", Principal: { AWS: `arn:aws:iam::${TEST_TENANT}:root` }, Action: "kms:*", Resource: "*" }] };

  it("the root statement allows each principal only what its roles allow", async () => {
    const t = testDeps();
    const admin = await apiKeyFor(t.identity, ["tenantAdmin"]);
    const call = requester(createApp(t.deps), admin);
    const keyId = (await call("POST", "/v1/keys", { policy: awsDefault })).body.keyMetadata.keyId as string;
    const blob = (await call("POST", `/v1/keys/${keyId}/encrypt`, { plaintext: "c2VjcmV0" })).body.ciphertextBlob as string;

    const auditor = await apiKeyFor(t.identity, ["auditor"]);
    const nobody = await apiKeyFor(t.identity, []);
    const user = await apiKeyFor(t.identity, ["keyUser"]);

    // The auditor reads the key, and does nothing else with it.
    expect((await call("GET", `/v1/keys/${keyId}`, undefined, auditor)).status).toBe(200);
    expect((await call("POST", "/v1/decrypt", { ciphertextBlob: blob }, auditor)).body.__type).toBe("AccessDeniedException");
    expect((await call("POST", `/v1/keys/${keyId}/encrypt`, { plaintext: "aGk=" }, auditor)).body.__type).toBe("AccessDeniedException");
    expect((await call("PUT", `/v1/keys/${keyId}/policy`, { policy: awsDefault }, auditor)).body.__type).toBe("AccessDeniedException");
    // A principal with no role (an OIDC user whose token maps to none) gets nothing.
    expect((await call("GET", `/v1/keys/${keyId}`, undefined, nobody)).body.__type).toBe("AccessDeniedException");
    expect((await call("POST", "/v1/decrypt", { ciphertextBlob: blob }, nobody)).body.__type).toBe("AccessDeniedException");
    // Key users use it; they do not manage it.
    expect((await call("POST", "/v1/decrypt", { ciphertextBlob: blob }, user)).status).toBe(200);
    expect((await call("POST", `/v1/keys/${keyId}/disable`, undefined, user)).body.__type).toBe("AccessDeniedException");
    // The tenant admin keeps every right.
    expect((await call("POST", `/v1/keys/${keyId}/disable`)).status).toBe(200);
  });

  it('"Principal": "*" is everyone of the tenant, whatever their roles, as AWS\'s "*" is everyone', async () => {
    const t = testDeps();
    const call = requester(createApp(t.deps), await apiKeyFor(t.identity, ["tenantAdmin"]));
    const open = { Version: "2012-10-17", Statement: [...awsDefault.Statement, { Sid: "Anyone may encrypt", Effect: "Allow", Principal: "*", Action: "kms:Encrypt", Resource: "*" }] };
    const keyId = (await call("POST", "/v1/keys", { policy: open })).body.keyMetadata.keyId as string;
    const nobody = await apiKeyFor(t.identity, []);
    expect((await call("POST", `/v1/keys/${keyId}/encrypt`, { plaintext: "aGk=" }, nobody)).status).toBe(200);
    expect((await call("GET", `/v1/keys/${keyId}`, undefined, nobody)).body.__type).toBe("AccessDeniedException");
  });

  it("a Deny naming the account root applies to every principal of the account, whatever allows them", async () => {
    const t = testDeps();
    const call = requester(createApp(t.deps), await apiKeyFor(t.identity, ["tenantAdmin"]));
    const named = await apiKeyFor(t.identity, ["auditor"], undefined, "app");
    const policy = {
      Version: "2012-10-17",
      Statement: [
        ...awsDefault.Statement,
        { Sid: "The app decrypts", Effect: "Allow", Principal: { Tether: "app" }, Action: "kms:Decrypt", Resource: "*" },
        { Sid: "Nobody decrypts", Effect: "Deny", Principal: { AWS: `arn:aws:iam::${TEST_TENANT}:root` }, Action: "kms:Decrypt", Resource: "*" },
      ],
    };
    const keyId = (await call("POST", "/v1/keys", { policy })).body.keyMetadata.keyId as string;
    const blob = (await call("POST", `/v1/keys/${keyId}/encrypt`, { plaintext: "c2VjcmV0" })).body.ciphertextBlob as string;
    await call("POST", `/v1/keys/${keyId}/grants`, { granteePrincipal: "grantee", operations: ["Decrypt"] });
    const grantee = await apiKeyFor(t.identity, [], undefined, "grantee");
    for (const token of [named, grantee, await apiKeyFor(t.identity, ["tenantAdmin"])]) {
      expect((await call("POST", "/v1/decrypt", { ciphertextBlob: blob }, token)).body.__type).toBe("AccessDeniedException");
    }
  });
});
