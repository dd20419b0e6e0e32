/* eslint-disable @typescript-eslint/no-explicit-any -- route tests read JSON response bodies loosely */
import { describe, expect, it } from "vitest";
import { createApp } from "../app.js";
import { apiKeyFor, requester, testDeps } from "../testing.js";

const setup = async () => {
  const t = testDeps();
  const app = createApp(t.deps);
  const tokens = {
    admin: await apiKeyFor(t.identity, ["tenantAdmin"], undefined, "root-admin"),
    keyAdmin: await apiKeyFor(t.identity, ["keyAdmin"], undefined, "kadmin"),
    alice: await apiKeyFor(t.identity, ["keyUser"], undefined, "alice"),
    bob: await apiKeyFor(t.identity, ["keyUser"], undefined, "bob"),
    auditor: await apiKeyFor(t.identity, ["auditor"], undefined, "auditor"),
  };
  const call = requester(app, tokens.admin);
  const keyId = (await call("POST", "/v1/keys", {})).body.keyMetadata.keyId as string;
  const encrypt = (token: string, encryptionContext?: Record<string, string>, headers?: Record<string, string>) =>
    call("POST", `/v1/keys/${keyId}/encrypt`, { plaintext: "aGVsbG8=", ...(encryptionContext ? { encryptionContext } : {}) }, token, headers);
  return { t, call, tokens, keyId, encrypt };
};

const doc = (...Statement: unknown[]) => ({ Version: "2012-10-17", Statement });
const ADMIN = { Sid: "Admins", Effect: "Allow", Principal: { Tether: "role:tenantAdmin" }, Action: "kms:*", Resource: "*" };

describe("key policies through the API", () => {
  it("a new key has the default policy (version 0): key users use, auditors read, nobody else", async () => {
    const { call, tokens, keyId, encrypt } = await setup();
    const got = await call("GET", `/v1/keys/${keyId}/policy`);
    expect(got.body.policyVersion).toBe(0);
    expect(got.body.policy.Statement.map((s: any) => s.Sid)).toContain("Allow key users to use the key");
    expect((await encrypt(tokens.alice)).status).toBe(200);
    expect((await encrypt(tokens.auditor)).body.__type).toBe("AccessDeniedException");
    expect((await call("GET", `/v1/keys/${keyId}`, undefined, tokens.auditor)).status).toBe(200);
  });

  it("a stored policy applies at once; explicit deny beats allow; versions and rollback keep history", async () => {
    const { call, tokens, keyId, encrypt } = await setup();
    const onlyAlice = doc(ADMIN, { Sid: "Alice", Effect: "Allow", Principal: { Tether: "alice" }, Action: "kms:Encrypt", Resource: "*" });
    expect(await call("PUT", `/v1/keys/${keyId}/policy`, { policy: onlyAlice })).toEqual({ status: 200, body: { policyVersion: 1 } });
    expect((await encrypt(tokens.alice)).status).toBe(200);
    expect((await encrypt(tokens.bob)).body.__type).toBe("AccessDeniedException");

    const denyAlice = doc(ADMIN, { Effect: "Allow", Principal: "*", Action: "kms:Encrypt", Resource: "*" }, { Sid: "NotAlice", Effect: "Deny", Principal: { Tether: "alice" }, Action: "kms:*", Resource: "*" });
    expect((await call("PUT", `/v1/keys/${keyId}/policy`, { policy: denyAlice })).body.policyVersion).toBe(2);
    expect((await encrypt(tokens.alice)).body.__type).toBe("AccessDeniedException");
    expect((await encrypt(tokens.bob)).status).toBe(200);

    expect((await call("POST", `/v1/keys/${keyId}/policy/rollback`, { version: 1 })).body.policyVersion).toBe(3);
    expect((await encrypt(tokens.alice)).status).toBe(200);
    expect((await encrypt(tokens.bob)).body.__type).toBe("AccessDeniedException");
    const versions = await call("GET", `/v1/keys/${keyId}/policy/versions`);
    expect(versions.body.current).toBe(3);
    expect(versions.body.versions.map((v: any) => v.version)).toEqual([0, 1, 2, 3]);
    expect((await call("GET", `/v1/keys/${keyId}/policy`)).body.policy).toEqual(onlyAlice);
    expect((await call("POST", `/v1/keys/${keyId}/policy/rollback`, { version: 9 })).body.__type).toBe("NotFoundException");
  });

  it("conditions see the request: encryption context, source address", async () => {
    const { call, tokens, keyId, encrypt } = await setup();
    const policy = doc(ADMIN, { Sid: "FinanceOnly", Effect: "Allow", Principal: { Tether: "role:keyUser" }, Action: "kms:Encrypt", Resource: "*", Condition: { StringEquals: { "kms:EncryptionContext:dept": "finance" } } });
    await call("PUT", `/v1/keys/${keyId}/policy`, { policy });
    expect((await encrypt(tokens.alice, { dept: "finance" })).status).toBe(200);
    expect((await encrypt(tokens.alice, { dept: "sales" })).body.__type).toBe("AccessDeniedException");
    expect((await encrypt(tokens.alice)).body.__type).toBe("AccessDeniedException");
    // No source address in app.request: an IpAddress condition cannot hold, a NotIpAddress one does.
    await call("PUT", `/v1/keys/${keyId}/policy`, { policy: doc(ADMIN, { Effect: "Allow", Principal: "*", Action: "kms:Encrypt", Resource: "*", Condition: { IpAddress: { "aws:SourceIp": "10.0.0.0/8" } } }) });
    expect((await encrypt(tokens.alice)).body.__type).toBe("AccessDeniedException");
  });

  it("refuses a malformed policy and one that would lock the caller out (unless bypassed); nothing is stored", async () => {
    const { call, tokens, keyId } = await setup();
    expect((await call("PUT", `/v1/keys/${keyId}/policy`, { policy: { Version: "2012-10-17", Statement: [] } })).body.__type).toBe("MalformedPolicyDocumentException");
    expect((await call("PUT", `/v1/keys/${keyId}/policy`, { policy: "{not json" })).body.__type).toBe("MalformedPolicyDocumentException");
    const noAdmins = doc({ Effect: "Allow", Principal: { Tether: "alice" }, Action: "kms:Encrypt", Resource: "*" });
    expect((await call("PUT", `/v1/keys/${keyId}/policy`, { policy: noAdmins })).body.__type).toBe("MalformedPolicyDocumentException");
    expect((await call("GET", `/v1/keys/${keyId}/policy`)).body.policyVersion).toBe(0);
    expect((await call("PUT", `/v1/keys/${keyId}/policy`, { policy: noAdmins, bypassPolicyLockoutSafetyCheck: true })).body.policyVersion).toBe(1);
    expect((await call("GET", `/v1/keys/${keyId}/policy`)).body.__type).toBe("AccessDeniedException");
    expect((await call("PUT", `/v1/keys/${keyId}/policy`, { policy: doc(ADMIN) }, tokens.alice)).body.__type).toBe("AccessDeniedException");
  });

  it("concurrent policy changes each get their own version (none lost)", async () => {
    const { call, keyId } = await setup();
    const results = await Promise.all(Array.from({ length: 5 }, (_, i) => call("PUT", `/v1/keys/${keyId}/policy`, { policy: { ...doc(ADMIN), Id: `p${i}` } })));
    expect(results.map((r) => r.body.policyVersion).sort()).toEqual([1, 2, 3, 4, 5]);
  });

  it("a key can be created with its policy", async () => {
    const { call, tokens } = await setup();
    const created = await call("POST", "/v1/keys", { policy: doc(ADMIN, { Effect: "Allow", Principal: { Tether: "bob" }, Action: "kms:Encrypt", Resource: "*" }) });
    expect(created.status).toBe(201);
    const keyId = created.body.keyMetadata.keyId;
    expect((await call("POST", `/v1/keys/${keyId}/encrypt`, { plaintext: "aGk=" }, tokens.bob)).status).toBe(200);
    expect((await call("POST", `/v1/keys/${keyId}/encrypt`, { plaintext: "aGk=" }, tokens.alice)).body.__type).toBe("AccessDeniedException");
    expect((await call("POST", "/v1/keys", { policy: doc({ Effect: "Allow", Principal: "*", Action: "kms:Encrypt", Resource: "*" }) })).body.__type).toBe("MalformedPolicyDocumentException");
  });

  it("simulate answers allow/deny and names the deciding statement", async () => {
    const { call, tokens, keyId } = await setup();
    await call("PUT", `/v1/keys/${keyId}/policy`, {
      policy: doc(ADMIN, { Sid: "Use", Effect: "Allow", Principal: { Tether: "role:keyUser" }, Action: "kms:*crypt", Resource: "*" }, { Sid: "NoHR", Effect: "Deny", Principal: "*", Action: "kms:Decrypt", Resource: "*", Condition: { StringEquals: { "kms:EncryptionContext:dept": "hr" } } }),
    });
    const sim = (body: object, token = tokens.auditor) => call("POST", "/v1/policy/simulate", { keyId, principal: { id: "carol", roles: ["keyUser"] }, ...body }, token);
    expect((await sim({ action: "kms:Encrypt" })).body).toEqual({ decision: "Allow", decidedBy: { kind: "policy", effect: "Allow", sid: "Use", index: 1 }, policyVersion: 1 });
    expect((await sim({ action: "kms:Decrypt", encryptionContext: { dept: "hr" } })).body).toMatchObject({ decision: "Deny", decidedBy: { kind: "policy", effect: "Deny", sid: "NoHR", index: 2 } });
    expect((await sim({ action: "kms:Sign" })).body).toMatchObject({ decision: "Deny", decidedBy: { kind: "implicit" } });
    expect((await sim({ action: "kms:Encrypt" }, tokens.alice)).body.__type).toBe("AccessDeniedException");
    expect((await sim({ action: "kms:Nope" })).body.__type).toBe("ValidationException");
  });
});
