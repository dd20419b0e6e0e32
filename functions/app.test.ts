import { describe, expect, it } from "vitest";
import { createApp } from "./app.js";
import { apiKeyFor, jsonInit, testDeps } from "./testing.js";

describe("POST /v1/random", () => {
  it("returns HSM random bytes to a key user and audits the call", async () => {
    const t = testDeps();
    const app = createApp(t.deps);
    const token = await apiKeyFor(t.identity, ["keyUser"]);
    const res = await app.request("/v1/random", jsonInit({ numberOfBytes: 32 }, token));
    expect(res.status).toBe(200);
    const body = (await res.json()) as { plaintext: string };
    expect(Buffer.from(body.plaintext, "base64")).toHaveLength(32);
    expect(t.hsm.calls.random).toBe(1);
    expect(t.audit.records).toHaveLength(1);
    expect(t.audit.records[0]).toMatchObject({ action: "kms:GenerateRandom", result: "ok", status: 200, principalId: expect.stringMatching(/^p-/) });
    expect(JSON.stringify(t.audit.records)).not.toContain(body.plaintext);
  });

  it("refuses a missing or wrong credential with 401, and audits that too", async () => {
    const t = testDeps();
    const app = createApp(t.deps);
    for (const token of [undefined, "tth_0000000000000000_AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA", "garbage"]) {
      const res = await app.request("/v1/random", jsonInit({ numberOfBytes: 8 }, token));
      expect(res.status).toBe(401);
      expect(await res.json()).toEqual({ __type: "AuthenticationFailedException", message: "missing or invalid credentials" });
    }
    expect(t.audit.records.map((r) => r.result)).toEqual(Array(3).fill("AuthenticationFailedException"));
    expect(t.hsm.calls.random).toBe(0);
  });

  it("says in Server-Timing what authentication and the whole request cost, on success and on failure", async () => {
    const t = testDeps();
    const app = createApp(t.deps);
    const token = await apiKeyFor(t.identity, ["keyUser"]);
    for (const [auth, status] of [[token, 200], ["garbage", 401]] as const) {
      const res = await app.request("/v1/random", jsonInit({ numberOfBytes: 8 }, auth));
      expect(res.status).toBe(status);
      const phases = Object.fromEntries([...(res.headers.get("server-timing") ?? "").matchAll(/(\w+);dur=([\d.]+)/g)].map((m) => [m[1], Number(m[2])]));
      expect(Object.keys(phases)).toEqual(expect.arrayContaining(["auth", "total"]));
      expect(phases.total).toBeGreaterThanOrEqual(phases.auth ?? Infinity);
    }
  });

  it("refuses an auditor (no key-use role) with 403", async () => {
    const t = testDeps();
    const token = await apiKeyFor(t.identity, ["auditor"]);
    const res = await createApp(t.deps).request("/v1/random", jsonInit({ numberOfBytes: 8 }, token));
    expect(res.status).toBe(403);
    expect(await res.json()).toMatchObject({ __type: "AccessDeniedException" });
  });

  it.each([
    ["malformed JSON", "{nope"],
    ["a string count", { numberOfBytes: "8" }],
    ["zero bytes", { numberOfBytes: 0 }],
    ["too many bytes", { numberOfBytes: 1025 }],
    ["unknown fields", { numberOfBytes: 8, extra: true }],
    ["an array", [1, 2]],
  ])("refuses %s with 400 ValidationException", async (_name, body) => {
    const t = testDeps();
    const token = await apiKeyFor(t.identity, ["keyUser"]);
    const res = await createApp(t.deps).request("/v1/random", jsonInit(body, token));
    expect(res.status).toBe(400);
    expect(await res.json()).toMatchObject({ __type: "ValidationException" });
  });

  it("refuses an oversized body with 400 before reading it whole", async () => {
    const t = testDeps();
    const token = await apiKeyFor(t.identity, ["keyUser"]);
    const res = await createApp(t.deps).request("/v1/random", jsonInit({ pad: "x".repeat(300 * 1024) }, token));
    expect(res.status).toBe(400);
    expect(await res.json()).toMatchObject({ __type: "ValidationException", message: expect.stringContaining("exceeds") });
  });

  it("audits a body refused for its size like any other refusal, on both doors", async () => {
    const t = testDeps();
    const app = createApp(t.deps);
    const big = JSON.stringify({ pad: "x".repeat(300 * 1024) });
    const native = await app.request("/v1/random", jsonInit(big, "tth_0000000000000000_xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx"));
    const aws = await app.request("/", { method: "POST", headers: { "x-amz-target": "TrentService.Encrypt", "content-type": "application/x-amz-json-1.1" }, body: big });
    for (const res of [native, aws]) {
      const id = res.headers.get("x-request-id");
      expect(t.audit.records.filter((r) => r.requestId === id)).toEqual([expect.objectContaining({ result: "ValidationException", status: 400, tenant: "-" })]);
    }
  });

  it("answers 503 HsmUnavailableException when no connector is up", async () => {
    const t = testDeps();
    t.hsm.available = false;
    const token = await apiKeyFor(t.identity, ["keyUser"]);
    const res = await createApp(t.deps).request("/v1/random", jsonInit({ numberOfBytes: 8 }, token));
    expect(res.status).toBe(503);
    expect(await res.json()).toMatchObject({ __type: "HsmUnavailableException" });
  });
});

describe("the request's deadline", () => {
  const lambda = (remainingMs: number) => ({ lambdaContext: { getRemainingTimeInMillis: () => remainingMs } });

  it("on Lambda never passes the invocation's end: with too little time left to answer in, 503 DependencyTimeoutException", async () => {
    const t = testDeps();
    const app = createApp(t.deps);
    const token = await apiKeyFor(t.identity, ["keyUser"]);
    const late = await app.request("/v1/random", jsonInit({ numberOfBytes: 8 }, token), lambda(900));
    expect(late.status).toBe(503);
    expect(await late.json()).toMatchObject({ __type: "DependencyTimeoutException" });
    const inTime = await app.request("/v1/random", jsonInit({ numberOfBytes: 8 }, token), lambda(60_000));
    expect(inTime.status).toBe(200);
  });
});

describe("GET /health", () => {
  it("is ok with both parts up, degraded without the HSM, 503 without DynamoDB", async () => {
    let dbUp = true;
    const t = testDeps({ dbUp: () => dbUp });
    const app = createApp(t.deps);
    const ok = await app.request("/health");
    expect(ok.status).toBe(200);
    expect(await ok.json()).toEqual({ status: "ok", dynamodb: { status: "up" }, hsm: { status: "up" } });

    t.hsm.available = false;
    const degraded = await app.request("/health");
    expect(degraded.status).toBe(200);
    expect(await degraded.json()).toEqual({ status: "degraded", dynamodb: { status: "up" }, hsm: { status: "down" } });

    dbUp = false;
    const down = await app.request("/health");
    expect(down.status).toBe(503);
    expect(await down.json()).toEqual({ status: "down", dynamodb: { status: "down" }, hsm: { status: "down" } });
  });

  it("gives the details (latencies, connectors, the HSM's identity, errors) to admins and auditors only", async () => {
    let dbUp = true;
    const t = testDeps({ dbUp: () => dbUp });
    const app = createApp(t.deps);
    const detail = (token: string) => app.request("/v1/health", { headers: { authorization: `Bearer ${token}` } });
    const auditor = await apiKeyFor(t.identity, ["auditor"]);
    expect(await (await detail(auditor)).json()).toMatchObject({ status: "ok", hsm: { status: "up", connectors: 1, rootKeyOk: true }, keyCache: { hits: 0 } });
    expect((await detail(await apiKeyFor(t.identity, ["keyUser"]))).status).toBe(403);
    dbUp = false;
    const down = await (await detail(auditor)).json();
    expect(down).toMatchObject({ status: "down", dynamodb: { status: "down", error: expect.stringContaining("connection refused") } });
  });

  it("answers unknown routes with a JSON 404", async () => {
    const res = await createApp(testDeps().deps).request("/v2/nothing");
    expect(res.status).toBe(404);
    expect(await res.json()).toMatchObject({ __type: "NotFoundException" });
  });
});

describe("GET /openapi.json and /docs", () => {
  it("documents every /v1 route with request schemas generated from zod", async () => {
    const app = createApp(testDeps().deps);
    const res = await app.request("/openapi.json");
    expect(res.status).toBe(200);
    const doc = (await res.json()) as { openapi: string; paths: Record<string, Record<string, { requestBody?: { content: Record<string, { schema: { properties?: Record<string, unknown> } }> }; parameters?: { name: string; in: string }[] }>> };
    expect(doc.openapi).toBe("3.1.0");
    const encrypt = doc.paths["/v1/keys/{keyId}/encrypt"]?.post;
    expect(Object.keys(encrypt?.requestBody?.content["application/json"]?.schema.properties ?? {})).toEqual(["plaintext", "encryptionContext", "encryptionAlgorithm", "derivationContext"]);
    expect(encrypt?.parameters).toContainEqual(expect.objectContaining({ name: "keyId", in: "path" }));
    expect(doc.paths["/v1/keys"]?.get?.parameters?.map((p) => p.name)).toEqual(expect.arrayContaining(["limit", "cursor", "state", "keySpec", "tag"]));
    for (const path of ["/v1/decrypt", "/v1/batch/encrypt", "/v1/hsm-keys", "/v1/aliases", "/health"]) expect(doc.paths[path]).toBeDefined();
    const docs = await app.request("/docs");
    const page = await docs.text();
    expect(docs.headers.get("content-type")).toContain("text/html");
    expect(page).toContain("/openapi.json");
    expect(page).toContain("@scalar/api-reference@");
  });
});
