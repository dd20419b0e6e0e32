import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { exportJWK, generateKeyPair, SignJWT } from "jose";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { rememberSecrets } from "../support/leak-ledger.js";
import { startConnector, startFunctions, waitForHealth, type ConnectorProcess, type TestStack } from "../support/stack.js";

type Answer = { status: number; body: Record<string, unknown> & { __type?: string } };

/** Key policies, grants, tenants and OIDC over DynamoDB Local, with two function instances sharing the table. */
describe("policies, grants, tenants and OIDC on DynamoDB Local, across two instances", () => {
  let a: TestStack;
  let b: TestStack;
  let connectors: ConnectorProcess[] = [];
  let idp: Server;
  let idpUrl = "";
  let idpKey: CryptoKey;

  beforeAll(async () => {
    a = await startFunctions({ operator: true, metadataTtlMs: 300 });
    b = await startFunctions({ tableName: a.tableName, tenant: a.tenant, operator: true, metadataTtlMs: 300 });
    connectors = [await startConnector(a, "pgt-a"), await startConnector(b, "pgt-b")];
    await waitForHealth(a, (h) => h.status === "ok");
    await waitForHealth(b, (h) => h.status === "ok");
    const pair = await generateKeyPair("ES256", { extractable: true });
    idpKey = pair.privateKey;
    const jwks = JSON.stringify({ keys: [{ ...(await exportJWK(pair.publicKey)), kid: "k1", alg: "ES256" }] });
    idp = createServer((_, res) => res.writeHead(200, { "content-type": "application/json" }).end(jwks));
    await new Promise<void>((r) => idp.listen(0, "127.0.0.1", r));
    idpUrl = `http://127.0.0.1:${(idp.address() as AddressInfo).port}`;
  });
  afterAll(async () => {
    await a?.close();
    await b?.close();
    await Promise.all(connectors.map((c) => c.stop()));
    await new Promise<void>((r) => (idp ? idp.close(() => r()) : r()));
  });

  const call = async (stack: TestStack, method: string, path: string, body?: unknown, token = stack.adminToken): Promise<Answer> => {
    const res = await fetch(`${stack.url}${path}`, { method, headers: { authorization: `Bearer ${token}`, "content-type": "application/json" }, ...(body === undefined ? {} : { body: JSON.stringify(body) }) });
    return { status: res.status, body: (await res.json()) as Answer["body"] };
  };
  const eventually = async (probe: () => Promise<boolean>) => {
    for (let i = 0; i < 40 && !(await probe()); i++) await new Promise((r) => setTimeout(r, 50));
    return probe();
  };

  it("a policy change on one instance applies on the other within the metadata TTL; rollback restores it", async () => {
    await call(a, "POST", "/v1/principals", { principalId: "app", kind: "service", roles: ["keyUser"] });
    const appToken = ((await call(a, "POST", "/v1/api-keys", { principalId: "app" })).body.token as string) ?? "";
    rememberSecrets(appToken);
    const keyId = ((await call(a, "POST", "/v1/keys", {})).body.keyMetadata as { keyId: string }).keyId;
    const encryptOnB = () => call(b, "POST", `/v1/keys/${keyId}/encrypt`, { plaintext: "aGk=" }, appToken);
    expect((await encryptOnB()).status).toBe(200);
    const denyApp = { Version: "2012-10-17", Statement: [{ Effect: "Allow", Principal: { Tether: "role:tenantAdmin" }, Action: "kms:*", Resource: "*" }, { Sid: "NoApp", Effect: "Deny", Principal: { Tether: "app" }, Action: "kms:*", Resource: "*" }] };
    expect((await call(a, "PUT", `/v1/keys/${keyId}/policy`, { policy: denyApp })).body.policyVersion).toBe(1);
    expect(await eventually(async () => (await encryptOnB()).body.__type === "AccessDeniedException")).toBe(true);
    expect((await call(b, "POST", `/v1/keys/${keyId}/policy/rollback`, { version: 0 })).body.policyVersion).toBe(2);
    expect(await eventually(async () => (await encryptOnB()).status === 200)).toBe(true);
    expect(((await call(a, "GET", `/v1/keys/${keyId}/policy/versions`)).body.versions as unknown[]).length).toBe(3);
  });

  it("a grant created on one instance is usable on the other with its token at once, and stops working once revoked", async () => {
    await call(a, "POST", "/v1/principals", { principalId: "batch", kind: "service", roles: [] });
    const batch = (await call(a, "POST", "/v1/api-keys", { principalId: "batch" })).body.token as string;
    rememberSecrets(batch);
    const keyId = ((await call(a, "POST", "/v1/keys", {})).body.keyMetadata as { keyId: string }).keyId;
    const encryptOnB = (context: Record<string, string>, headers: Record<string, string> = {}) =>
      fetch(`${b.url}/v1/keys/${keyId}/encrypt`, { method: "POST", headers: { authorization: `Bearer ${batch}`, "content-type": "application/json", ...headers }, body: JSON.stringify({ plaintext: "aGk=", encryptionContext: context }) });
    expect((await encryptOnB({ job: "nightly" })).status).toBe(403);
    const grant = (await call(a, "POST", `/v1/keys/${keyId}/grants`, { granteePrincipal: "batch", operations: ["Encrypt"], constraints: { encryptionContextSubset: { job: "nightly" } } })).body as { grantId: string; grantToken: string };
    expect((await encryptOnB({ job: "nightly" }, { "x-tether-grant-tokens": grant.grantToken })).status).toBe(200);
    expect((await encryptOnB({ job: "adhoc" }, { "x-tether-grant-tokens": grant.grantToken })).status).toBe(403);
    expect(await eventually(async () => (await encryptOnB({ job: "nightly" })).status === 200)).toBe(true);
    expect(((await call(b, "GET", `/v1/keys/${keyId}/grants`)).body.grants as { grantId: string }[]).map((g) => g.grantId)).toEqual([grant.grantId]);
    expect((await call(b, "DELETE", `/v1/keys/${keyId}/grants/${grant.grantId}`)).status).toBe(200);
    expect(await eventually(async () => (await encryptOnB({ job: "nightly" })).status === 403)).toBe(true);
  });

  it("the operator creates a tenant; its admin configures OIDC; an IdP token works there and nowhere else", async () => {
    const created = (await call(a, "POST", "/v1/tenants", { name: "Globex" })).body as { tenant: { tenantId: string }; adminToken: string };
    rememberSecrets(created.adminToken);
    const globexAdmin = created.adminToken;
    expect((await call(b, "GET", "/v1/tenant", undefined, globexAdmin)).body.tenant).toMatchObject({ tenantId: created.tenant.tenantId, name: "Globex" });
    const configured = await call(a, "PUT", "/v1/tenant/oidc", { issuer: idpUrl, jwksUri: `${idpUrl}/jwks`, audience: "tether", algorithms: ["ES256"] }, globexAdmin);
    expect(configured.status).toBe(200);
    expect((await call(a, "PUT", "/v1/tenant/oidc", { issuer: idpUrl, jwksUri: `${idpUrl}/jwks`, audience: "tether" })).body.__type).toBe("AlreadyExistsException");
    const idToken = await new SignJWT({ tether_roles: ["keyAdmin", "keyUser"] }).setProtectedHeader({ alg: "ES256", kid: "k1" }).setIssuer(idpUrl).setAudience("tether").setSubject("carol").setExpirationTime("5m").sign(idpKey);
    rememberSecrets(idToken);
    const key = await call(b, "POST", "/v1/keys", {}, idToken);
    expect(key.status).toBe(201);
    expect((key.body.keyMetadata as { accountId: string }).accountId).toBe(created.tenant.tenantId);
    const keyArn = (key.body.keyMetadata as { arn: string }).arn;
    expect((await call(a, "GET", `/v1/keys/${encodeURIComponent(keyArn)}`)).body.__type).toBe("NotFoundException");
    const expired = await new SignJWT({ tether_roles: ["keyUser"] }).setProtectedHeader({ alg: "ES256", kid: "k1" }).setIssuer(idpUrl).setAudience("tether").setSubject("carol").setExpirationTime(Math.floor(Date.now() / 1000) - 300).sign(idpKey);
    expect((await call(a, "GET", "/v1/keys", undefined, expired)).status).toBe(401);
    expect((await call(a, "DELETE", "/v1/tenant/oidc", undefined, globexAdmin)).status).toBe(200);
    expect(await eventually(async () => (await call(b, "GET", "/v1/keys", undefined, idToken)).status === 401)).toBe(true);
  });
});
