/* eslint-disable @typescript-eslint/no-explicit-any -- route tests read JSON response bodies loosely */
import { describe, expect, it } from "vitest";
import { createApp } from "../app.js";
import { apiKeyFor, requester, testDeps } from "../testing.js";

const OPERATOR = "100000000001";

const setup = async () => {
  const t = testDeps({ env: { TETHER_OPERATOR_TENANT: OPERATOR } });
  const app = createApp(t.deps);
  const request = requester(app, "");
  const call = (method: string, path: string, body: unknown, bearer: string) => request(method, path, body, bearer);
  return { t, call, operator: await apiKeyFor(t.identity, ["tenantAdmin"], OPERATOR) };
};

describe("tenants", () => {
  it("the operator creates tenants; each gets its first admin (key shown once) and sees only itself", async () => {
    const { call, operator } = await setup();
    const a = await call("POST", "/v1/tenants", { name: "Acme" }, operator);
    expect(a.status).toBe(201);
    expect(a.body.tenant.tenantId).toMatch(/^\d{12}$/);
    const b = await call("POST", "/v1/tenants", { name: "Beta" }, operator);
    const [adminA, adminB] = [a.body.adminToken as string, b.body.adminToken as string];
    expect((await call("GET", "/v1/tenant", undefined, adminA)).body.tenant).toMatchObject({ tenantId: a.body.tenant.tenantId, name: "Acme" });
    const key = (await call("POST", "/v1/keys", {}, adminA)).body.keyMetadata;
    expect((await call("GET", `/v1/keys/${key.arn}`, undefined, adminB)).body.__type).toBe("NotFoundException");
    expect((await call("GET", `/v1/keys/${key.keyId}`, undefined, adminB)).body.__type).toBe("NotFoundException");
    expect((await call("POST", `/v1/keys/${key.keyId}/encrypt`, { plaintext: "aGk=" }, adminB)).body.__type).toBe("NotFoundException");
    expect((await call("GET", `/v1/tenants/${a.body.tenant.tenantId}`, undefined, adminB)).body.__type).toBe("NotFoundException");
    expect((await call("GET", `/v1/tenants/${a.body.tenant.tenantId}`, undefined, operator)).body.tenant.name).toBe("Acme");
    expect((await call("GET", "/v1/tenants", undefined, operator)).body.tenants.map((t: any) => t.name).sort()).toEqual(["Acme", "Beta"]);
  });

  it("nobody else creates or lists tenants", async () => {
    const { t, call } = await setup();
    const tenantAdmin = await apiKeyFor(t.identity, ["tenantAdmin"]);
    const operatorKeyUser = await apiKeyFor(t.identity, ["keyUser"], OPERATOR);
    for (const bearer of [tenantAdmin, operatorKeyUser]) {
      expect((await call("POST", "/v1/tenants", { name: "x" }, bearer)).body.__type).toBe("AccessDeniedException");
      expect((await call("GET", "/v1/tenants", undefined, bearer)).body.__type).toBe("AccessDeniedException");
    }
    expect((await call("POST", "/v1/tenants", { name: "" }, tenantAdmin)).status).toBe(400);
  });
});
