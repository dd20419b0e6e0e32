import { describe, expect, it } from "vitest";
import { createApp } from "../app.js";
import { apiKeyFor, jsonInit, testDeps } from "../testing.js";

describe("API keys of a tenant", () => {
  it("a tenant admin creates a key (secret shown once), lists it without secrets, and revokes it", async () => {
    const t = testDeps();
    const app = createApp(t.deps);
    const admin = await apiKeyFor(t.identity, ["tenantAdmin"]);
    const created = await app.request("/v1/api-keys", jsonInit({ principalId: "billing-service", roles: ["keyUser"] }, admin));
    expect(created.status).toBe(201);
    const body = (await created.json()) as { apiKey: { id: string; roles: string[] }; token: string };
    expect(body.apiKey.roles).toEqual(["keyUser"]);
    expect((await app.request("/v1/random", jsonInit({ numberOfBytes: 4 }, body.token))).status).toBe(200);

    const listed = await app.request("/v1/api-keys", { headers: { authorization: `Bearer ${admin}` } });
    const text = await listed.text();
    expect(text).toContain("billing-service");
    expect(text).not.toContain(body.token.split("_")[2]);
    expect(text).not.toMatch(/"hash"|"salt"/);

    const revoked = await app.request(`/v1/api-keys/${body.apiKey.id}`, { method: "DELETE", headers: { authorization: `Bearer ${admin}` } });
    expect(revoked.status).toBe(200);
    expect((await app.request("/v1/random", jsonInit({ numberOfBytes: 4 }, body.token))).status).toBe(401);
  });

  it("is for tenant admins only, and tenants cannot touch each other's keys", async () => {
    const t = testDeps();
    const app = createApp(t.deps);
    const keyAdmin = await apiKeyFor(t.identity, ["keyAdmin"]);
    expect((await app.request("/v1/api-keys", jsonInit({ principalId: "x", roles: ["keyUser"] }, keyAdmin))).status).toBe(403);
    const other = await apiKeyFor(t.identity, ["tenantAdmin"], "999988887777");
    const mine = await apiKeyFor(t.identity, ["keyUser"]);
    const id = mine.split("_")[1] as string;
    expect((await app.request(`/v1/api-keys/${id}`, { method: "DELETE", headers: { authorization: `Bearer ${other}` } })).status).toBe(404);
    expect((await app.request("/v1/api-keys", jsonInit({ principalId: "bad id with spaces", roles: ["keyUser"] }, other))).status).toBe(400);
  });
});
