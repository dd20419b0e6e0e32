/* eslint-disable @typescript-eslint/no-explicit-any -- route tests read JSON response bodies loosely */
import { describe, expect, it } from "vitest";
import { createApp } from "../app.js";
import { apiKeyFor, requester, testDeps } from "../testing.js";
import { grantTokenFor } from "./tokens.js";

const setup = async (env: Record<string, string> = {}) => {
  const t = testDeps({ env });
  const app = createApp(t.deps);
  const tokens = {
    admin: await apiKeyFor(t.identity, ["tenantAdmin"], undefined, "root-admin"),
    keyAdmin: await apiKeyFor(t.identity, ["keyAdmin"], undefined, "kadmin"),
    app: await apiKeyFor(t.identity, [], undefined, "billing-app"),
    other: await apiKeyFor(t.identity, [], undefined, "someone-else"),
  };
  const call = requester(app, tokens.admin);
  const keyId = (await call("POST", "/v1/keys", {})).body.keyMetadata.keyId as string;
  const encrypt = (token: string, encryptionContext?: Record<string, string>, headers?: Record<string, string>) =>
    call("POST", `/v1/keys/${keyId}/encrypt`, { plaintext: "aGVsbG8=", ...(encryptionContext ? { encryptionContext } : {}) }, token, headers);
  return { t, call, tokens, keyId, encrypt };
};

describe("grants", () => {
  it("a grant lets a principal with no role do exactly its operations on exactly its key", async () => {
    const { call, tokens, keyId, encrypt } = await setup();
    expect((await encrypt(tokens.app)).body.__type).toBe("AccessDeniedException");
    const created = await call("POST", `/v1/keys/${keyId}/grants`, { granteePrincipal: "billing-app", operations: ["Encrypt", "Decrypt"], name: "billing" }, tokens.keyAdmin);
    expect(created.status).toBe(201);
    expect(created.body.grantId).toMatch(/^[0-9a-f]{32}$/);
    const ct = await encrypt(tokens.app);
    expect(ct.status).toBe(200);
    expect((await call("POST", "/v1/decrypt", { ciphertextBlob: ct.body.ciphertextBlob }, tokens.app)).status).toBe(200);
    expect((await call("POST", `/v1/keys/${keyId}/generate-data-key`, { keySpec: "AES_256" }, tokens.app)).body.__type).toBe("AccessDeniedException");
    expect((await encrypt(tokens.other)).body.__type).toBe("AccessDeniedException");
    const other = (await call("POST", "/v1/keys", {})).body.keyMetadata.keyId;
    expect((await call("POST", `/v1/keys/${other}/encrypt`, { plaintext: "aGk=" }, tokens.app)).body.__type).toBe("AccessDeniedException");
    const listed = await call("GET", `/v1/keys/${keyId}/grants`, undefined, tokens.keyAdmin);
    expect(listed.body.grants).toEqual([expect.objectContaining({ grantId: created.body.grantId, granteePrincipal: "billing-app", operations: ["Encrypt", "Decrypt"], issuingPrincipal: "kadmin" })]);
  });

  it("encryption-context constraints: equals is exact, subset needs the pairs", async () => {
    const { call, tokens, keyId, encrypt } = await setup();
    await call("POST", `/v1/keys/${keyId}/grants`, { granteePrincipal: "billing-app", operations: ["Encrypt"], constraints: { encryptionContextEquals: { tenant: "t1" } } });
    expect((await encrypt(tokens.app, { tenant: "t1" })).status).toBe(200);
    expect((await encrypt(tokens.app, { tenant: "t1", extra: "x" })).body.__type).toBe("AccessDeniedException");
    expect((await encrypt(tokens.app, { tenant: "t2" })).body.__type).toBe("AccessDeniedException");
    expect((await encrypt(tokens.app)).body.__type).toBe("AccessDeniedException");
    await call("POST", `/v1/keys/${keyId}/grants`, { granteePrincipal: "someone-else", operations: ["Encrypt"], constraints: { encryptionContextSubset: { app: "billing" } } });
    expect((await encrypt(tokens.other, { app: "billing", order: "42" })).status).toBe(200);
    expect((await encrypt(tokens.other, { order: "42" })).body.__type).toBe("AccessDeniedException");
    expect((await call("POST", `/v1/keys/${keyId}/grants`, { granteePrincipal: "x", operations: ["DescribeKey"], constraints: { encryptionContextSubset: { a: "b" } } })).body.__type).toBe("ValidationException");
  });

  it("an explicit Deny in the key policy beats a grant", async () => {
    const { call, tokens, keyId, encrypt } = await setup();
    await call("POST", `/v1/keys/${keyId}/grants`, { granteePrincipal: "billing-app", operations: ["Encrypt"] });
    const policy = { Version: "2012-10-17", Statement: [{ Effect: "Allow", Principal: { Tether: "role:tenantAdmin" }, Action: "kms:*", Resource: "*" }, { Effect: "Deny", Principal: { Tether: "billing-app" }, Action: "kms:Encrypt", Resource: "*" }] };
    await call("PUT", `/v1/keys/${keyId}/policy`, { policy });
    expect((await encrypt(tokens.app)).body.__type).toBe("AccessDeniedException");
  });

  it("revoke (key admins) and retire (retiring principal, or a grantee with RetireGrant) end a grant; others may not", async () => {
    const { call, tokens, keyId, encrypt } = await setup();
    const g1 = (await call("POST", `/v1/keys/${keyId}/grants`, { granteePrincipal: "billing-app", operations: ["Encrypt"] })).body;
    expect((await call("DELETE", `/v1/keys/${keyId}/grants/${g1.grantId}`, undefined, tokens.app)).body.__type).toBe("AccessDeniedException");
    expect((await call("DELETE", `/v1/keys/${keyId}/grants/${g1.grantId}`, undefined, tokens.keyAdmin)).status).toBe(200);
    expect((await encrypt(tokens.app)).body.__type).toBe("AccessDeniedException");
    expect((await call("DELETE", `/v1/keys/${keyId}/grants/${g1.grantId}`, undefined, tokens.keyAdmin)).body.__type).toBe("NotFoundException");

    const g2 = (await call("POST", `/v1/keys/${keyId}/grants`, { granteePrincipal: "billing-app", retiringPrincipal: "someone-else", operations: ["Encrypt"] })).body;
    expect((await call("POST", "/v1/grants/retire", { grantToken: g2.grantToken }, tokens.app)).body.__type).toBe("AccessDeniedException");
    expect((await call("GET", "/v1/grants/retirable?retiringPrincipal=someone-else", undefined, tokens.keyAdmin)).body.grants.map((g: any) => g.grantId)).toEqual([g2.grantId]);
    expect((await call("POST", "/v1/grants/retire", { grantToken: g2.grantToken }, tokens.other)).status).toBe(200);
    expect((await encrypt(tokens.app)).body.__type).toBe("AccessDeniedException");

    const g3 = (await call("POST", `/v1/keys/${keyId}/grants`, { granteePrincipal: "billing-app", operations: ["Encrypt", "RetireGrant"] })).body;
    expect((await call("POST", "/v1/grants/retire", { keyId, grantId: g3.grantId }, tokens.app)).status).toBe(200);
    expect((await call("POST", "/v1/grants/retire", { grantToken: "tgt_garbage" }, tokens.app)).body.__type).toBe("NotFoundException");
  });

  it("a grant token makes a new grant usable at once on an instance whose grant cache is stale", async () => {
    const { t, tokens, keyId, encrypt } = await setup({ TETHER_METADATA_TTL_MS: "60000" });
    expect((await encrypt(tokens.app)).body.__type).toBe("AccessDeniedException"); // this instance now caches "no grants" for the key
    // Another instance creates the grant: written to the shared store, unseen by this instance's cache.
    const grantId = "ab".repeat(16);
    await t.grantStore.create({ tenant: "111122223333", keyId, grantId, granteePrincipal: "billing-app", operations: ["Encrypt"], issuingPrincipal: "root-admin", createdAt: new Date().toISOString() });
    const g = { body: { grantToken: grantTokenFor({ tenant: "111122223333", keyId, grantId }) } };
    expect((await encrypt(tokens.app)).body.__type).toBe("AccessDeniedException");
    expect((await encrypt(tokens.app, undefined, { "x-tether-grant-tokens": g.body.grantToken })).status).toBe(200);
    const forged = `tgt_${Buffer.from(JSON.stringify({ t: "111122223333", k: keyId, g: "0".repeat(32) })).toString("base64url")}`;
    expect((await encrypt(tokens.other, undefined, { "x-tether-grant-tokens": g.body.grantToken })).body.__type).toBe("AccessDeniedException");
    expect((await encrypt(tokens.other, undefined, { "x-tether-grant-tokens": forged })).body.__type).toBe("AccessDeniedException");
    expect((await encrypt(tokens.app, undefined, { "x-tether-grant-tokens": Array(11).fill(g.body.grantToken).join(",") })).body.__type).toBe("ValidationException");
  });
});
