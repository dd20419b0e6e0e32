/* eslint-disable @typescript-eslint/no-explicit-any -- route tests read JSON response bodies loosely */
import { Hash } from "@smithy/hash-node";
import { HttpRequest } from "@smithy/protocol-http";
import { SignatureV4 } from "@smithy/signature-v4";
import { SignJWT } from "jose";
import { describe, expect, it, vi } from "vitest";
import { createApp } from "../app.js";
import { apiKeyFor, jsonInit, requester, testDeps } from "../testing.js";
import { parseApiKey } from "./api-keys.js";
import { PrincipalDirectory } from "./principals.js";
import { openGate } from "./auth-throttle.js";
import { issueSessionToken, MintingCredentials, SessionTokenKeys, SessionTokenScheme } from "./session-tokens.js";

const setup = async (env: Record<string, string> = {}) => {
  const t = testDeps({ env });
  const app = createApp(t.deps);
  const admin = await apiKeyFor(t.identity, ["tenantAdmin"], undefined, "root");
  const call = requester(app, admin);
  return { t, app, admin, call };
};

describe("principals", () => {
  it("tenant admins create, list, update and delete them; roles apply to every credential, at once", async () => {
    const { call } = await setup();
    expect((await call("POST", "/v1/principals", { principalId: "billing", kind: "service", roles: ["auditor"] })).status).toBe(201);
    expect((await call("POST", "/v1/principals", { principalId: "billing", kind: "service", roles: [] })).body.__type).toBe("AlreadyExistsException");
    const token = (await call("POST", "/v1/api-keys", { principalId: "billing" })).body.token as string;
    expect((await call("POST", "/v1/random", { numberOfBytes: 4 }, token)).body.__type).toBe("AccessDeniedException");
    expect((await call("PATCH", "/v1/principals/billing", { roles: ["keyUser"] })).body.principal.roles).toEqual(["keyUser"]);
    expect((await call("POST", "/v1/random", { numberOfBytes: 4 }, token)).status).toBe(200);
    expect((await call("GET", "/v1/principals")).body.principals.map((p: any) => p.principalId).sort()).toEqual(["billing", "root"]);
    expect((await call("DELETE", "/v1/principals/billing")).status).toBe(200);
    expect((await call("POST", "/v1/random", { numberOfBytes: 4 }, token)).status).toBe(401);
    expect((await call("GET", "/v1/api-keys")).body.apiKeys.map((k: any) => k.principalId)).toEqual(["root"]);
    expect((await call("DELETE", "/v1/principals/root")).body.__type).toBe("ValidationException");
  });

  it("only tenant admins; another tenant's principals do not exist; bad input is a 400", async () => {
    const { t, call } = await setup();
    const keyAdmin = await apiKeyFor(t.identity, ["keyAdmin"]);
    expect((await call("POST", "/v1/principals", { principalId: "x", kind: "user", roles: [] }, keyAdmin)).status).toBe(403);
    const other = await apiKeyFor(t.identity, ["tenantAdmin"], "999988887777");
    expect((await call("GET", "/v1/principals/root", undefined, other)).status).toBe(404);
    expect((await call("POST", "/v1/api-keys", { principalId: "root" }, other)).status).toBe(404);
    expect((await call("POST", "/v1/principals", { principalId: "bad id", kind: "user", roles: [] })).status).toBe(400);
    expect((await call("POST", "/v1/principals", { principalId: "x", kind: "robot", roles: [] })).status).toBe(400);
    expect((await call("POST", "/v1/principals", { principalId: "x", kind: "user", roles: ["god"] })).status).toBe(400);
  });
});

describe("API keys of a tenant", () => {
  it("a tenant admin creates a key (secret shown once), lists it without secrets, and revokes it", async () => {
    const { app, admin, call } = await setup();
    await call("POST", "/v1/principals", { principalId: "billing-service", kind: "service", roles: ["keyUser"] });
    const created = await app.request("/v1/api-keys", jsonInit({ principalId: "billing-service" }, admin));
    expect(created.status).toBe(201);
    const body = (await created.json()) as { apiKey: { id: string; principalId: string }; token: string };
    expect(body.apiKey.principalId).toBe("billing-service");
    expect((await app.request("/v1/random", jsonInit({ numberOfBytes: 4 }, body.token))).status).toBe(200);
    const text = await (await app.request("/v1/api-keys", { headers: { authorization: `Bearer ${admin}` } })).text();
    expect(text).toContain("billing-service");
    // The whole secret (base64url, so it may itself hold "_"), not a piece of it.
    expect(text).not.toContain(parseApiKey(body.token)?.secret);
    expect(text).not.toMatch(/"hash"|"salt"/);
    expect((await app.request(`/v1/api-keys/${body.apiKey.id}`, { method: "DELETE", headers: { authorization: `Bearer ${admin}` } })).status).toBe(200);
    expect((await app.request("/v1/random", jsonInit({ numberOfBytes: 4 }, body.token))).status).toBe(401);
  });
});

describe("API key verification under load", () => {
  it("a burst of requests with a key not yet verified reads it and runs scrypt once; a wrong secret is never cached", async () => {
    const { t, app } = await setup({ TETHER_AUTH_FAILURES_PER_CREDENTIAL: "1000" });
    const token = await apiKeyFor(t.identity, ["keyUser"]);
    const keyReads = vi.spyOn(t.identity, "getApiKey");
    const principalReads = vi.spyOn(t.identity, "getPrincipal");
    const burst = async (bearer: string, n: number) => Promise.all(Array.from({ length: n }, async () => (await app.request("/v1/random", jsonInit({ numberOfBytes: 8 }, bearer))).status));
    expect(await burst(token, 30)).toEqual(Array(30).fill(200));
    expect(keyReads).toHaveBeenCalledTimes(1);
    expect(principalReads).toHaveBeenCalledTimes(1);
    const { id } = parseApiKey(token) as { id: string };
    const wrong = `tth_${id}_${"A".repeat(43)}`;
    expect(await burst(wrong, 10)).toEqual(Array(10).fill(401));
    expect(keyReads).toHaveBeenCalledTimes(2);
    expect(await burst(wrong, 1)).toEqual([401]);
    expect(keyReads).toHaveBeenCalledTimes(3);
    expect(await burst(token, 1)).toEqual([200]);
    expect(keyReads).toHaveBeenCalledTimes(3);
  });
});

describe("SigV4 access keys", () => {
  const signed = async (o: { accessKeyId: string; secret: string; region?: string; date?: Date; body?: string; path?: string; drop?: string }) => {
    const body = o.body ?? JSON.stringify({ numberOfBytes: 8 });
    const request = new HttpRequest({ method: "POST", protocol: "http:", hostname: "kms.local", path: o.path ?? "/v1/random", headers: { host: "kms.local", "content-type": "application/json" }, body });
    const signer = new SignatureV4({ credentials: { accessKeyId: o.accessKeyId, secretAccessKey: o.secret }, region: o.region ?? "us-east-1", service: "kms", sha256: Hash.bind(null, "sha256") });
    const s = await signer.sign(request, { signingDate: o.date ?? new Date() });
    const headers = { ...s.headers } as Record<string, string>;
    if (o.drop) delete headers[o.drop];
    return { url: `http://kms.local${s.path}`, init: { method: "POST", headers, body: o.body === undefined ? body : o.body } };
  };

  it("verifies AWS signatures by the AWS algorithm; refuses a wrong secret, wrong region, stale or future date, replay, tampered body, unsigned host", async () => {
    const { app, call } = await setup({ TETHER_AUTH_FAILURES_PER_CREDENTIAL: "1000" });
    await call("POST", "/v1/principals", { principalId: "svc", kind: "service", roles: ["keyUser"] });
    const created = await call("POST", "/v1/access-keys", { principalId: "svc" });
    expect(created.status).toBe(201);
    const { accessKeyId, secretAccessKey } = created.body.accessKey as { accessKeyId: string; secretAccessKey: string };
    expect(accessKeyId).toMatch(/^TTHA[A-Z2-7]{16}$/);
    // 33 random bytes in base64: 44 characters, as an XKS credential's secret must be (43–64).
    expect(secretAccessKey).toMatch(/^[A-Za-z0-9]{44}$/);
    expect(JSON.stringify((await call("GET", "/v1/access-keys")).body)).not.toContain(secretAccessKey);
    const send = async (o: Parameters<typeof signed>[0]) => {
      const r = await signed(o);
      const res = await app.request(r.url, r.init);
      return { status: res.status, body: (await res.json()) as Record<string, any> };
    };
    const good = await signed({ accessKeyId, secret: secretAccessKey });
    const ok = await app.request(good.url, good.init);
    expect(ok.status).toBe(200);
    expect((await app.request(good.url, good.init)).status).toBe(401); // the same signed request again
    const refusals = [
      await send({ accessKeyId, secret: `${secretAccessKey.slice(0, -1)}${secretAccessKey.endsWith("x") ? "y" : "x"}` }), // (1 in 64 secrets ends in x)
      await send({ accessKeyId, secret: secretAccessKey, region: "eu-west-1" }),
      await send({ accessKeyId, secret: secretAccessKey, date: new Date(Date.now() - 6 * 60_000) }),
      await send({ accessKeyId, secret: secretAccessKey, date: new Date(Date.now() + 6 * 60_000) }),
      await send({ accessKeyId: "TTHAAAAAAAAAAAAAAAAA", secret: secretAccessKey }),
    ];
    expect(refusals.map((r) => r.status)).toEqual([401, 401, 401, 401, 401]);
    expect(refusals.map((r) => r.body.message)).toEqual([
      "the request signature does not match",
      "the credential scope must be us-east-1/kms",
      "the request was signed more than 5 minutes from now",
      "the request was signed more than 5 minutes from now",
      "the access key id is not known",
    ]);
    const tampered = await signed({ accessKeyId, secret: secretAccessKey });
    expect((await app.request(tampered.url, { ...tampered.init, body: JSON.stringify({ numberOfBytes: 9 }) })).status).toBe(401);
    const noDate = await signed({ accessKeyId, secret: secretAccessKey, drop: "x-amz-date" });
    expect((await app.request(noDate.url, noDate.init)).status).toBe(401);
    expect((await call("DELETE", `/v1/access-keys/${accessKeyId}`)).status).toBe(200);
    expect((await send({ accessKeyId, secret: secretAccessKey })).status).toBe(401);
  });

  it("a burst of requests with a key whose secret is not cached unwraps the secret once (no unwrap storm)", async () => {
    const { t, app, call } = await setup();
    await call("POST", "/v1/principals", { principalId: "svc", kind: "service", roles: ["keyUser"] });
    const { accessKeyId, secretAccessKey } = (await call("POST", "/v1/access-keys", { principalId: "svc" })).body.accessKey as { accessKeyId: string; secretAccessKey: string };
    const unwrapsBefore = t.hsm.calls.unwrap;
    // Distinct bodies: each request has its own signature (a repeated one is a replay).
    const burst = await Promise.all(Array.from({ length: 20 }, (_, i) => signed({ accessKeyId, secret: secretAccessKey, body: JSON.stringify({ numberOfBytes: i + 1 }) })));
    const statuses = await Promise.all(burst.map(async (r) => (await app.request(r.url, r.init)).status));
    expect(statuses).toEqual(Array(20).fill(200));
    expect(t.hsm.calls.unwrap - unwrapsBefore).toBe(1);
  });

  it("keeps only the HSM-wrapped secret", async () => {
    const { t, call } = await setup();
    const created = await call("POST", "/v1/access-keys", { principalId: "root" });
    const secret = created.body.accessKey.secretAccessKey as string;
    const stored = JSON.stringify([...t.identity.accessKeys.values()]);
    for (const form of [secret, Buffer.from(secret).toString("base64"), Buffer.from(secret).toString("hex")]) expect(stored).not.toContain(form);
    expect(stored).toContain("wrappedSecret");
  });
});

describe("session tokens", () => {
  it("a credential is exchanged for a 15-minute token that authenticates as its principal; a token cannot mint another", async () => {
    const { call } = await setup();
    const issued = await call("POST", "/v1/tokens");
    expect(issued.status).toBe(201);
    expect(issued.body.token).toMatch(/^tts_ey/);
    expect(Date.parse(issued.body.expiresAt) - Date.now()).toBeGreaterThan(14 * 60_000);
    expect((await call("GET", "/v1/principals", undefined, issued.body.token)).status).toBe(200);
    expect((await call("POST", "/v1/tokens", undefined, issued.body.token)).body.__type).toBe("AccessDeniedException");
  });

  it("a token stops working at once when the credential it was minted from is revoked", async () => {
    const { call } = await setup();
    expect((await call("POST", "/v1/principals", { principalId: "app", kind: "service", roles: ["keyUser"] })).status).toBe(201);
    const apiKey = (await call("POST", "/v1/api-keys", { principalId: "app" })).body;
    const accessKey = (await call("POST", "/v1/access-keys", { principalId: "app" })).body.accessKey;
    const fromApiKey = (await call("POST", "/v1/tokens", undefined, apiKey.token)).body.token as string;
    expect((await call("POST", "/v1/random", { numberOfBytes: 4 }, fromApiKey)).status).toBe(200);
    expect((await call("DELETE", `/v1/api-keys/${apiKey.apiKey.id}`)).status).toBe(200);
    expect((await call("POST", "/v1/random", { numberOfBytes: 4 }, fromApiKey)).status).toBe(401);
    // Minted from an access key (over SigV4): the same.
    const signer = new SignatureV4({ credentials: accessKey, region: "us-east-1", service: "kms", sha256: Hash.bind(null, "sha256") });
    const signed = await signer.sign(new HttpRequest({ method: "POST", protocol: "http:", hostname: "localhost", path: "/v1/tokens", headers: { host: "localhost" }, body: "" }));
    const minted = await call("POST", "/v1/tokens", undefined, "-", signed.headers as Record<string, string>);
    expect(minted.status).toBe(201);
    expect((await call("DELETE", `/v1/access-keys/${accessKey.accessKeyId}`)).status).toBe(200);
    expect((await call("POST", "/v1/random", { numberOfBytes: 4 }, minted.body.token)).status).toBe(401);
  });

  it("refuses expired, forged, alg-none and tampered tokens", async () => {
    const { t } = await setup();
    let now = Date.now();
    const keys = new SessionTokenKeys(t.identity, t.hsm, () => now);
    const scheme = new SessionTokenScheme(keys, new PrincipalDirectory(t.identity), new MintingCredentials(t.identity), () => now);
    const principal = { tenant: "111122223333", principalId: "root", roles: [], credentialId: "oidc:https://idp.example" } as const;
    const auth = (token: string) => scheme.authenticate({ method: "GET", url: new URL("http://x/"), headers: new Headers({ authorization: `Bearer ${token}` }), body: async () => new Uint8Array(), gate: openGate });
    const { token } = await issueSessionToken(keys, principal, now);
    expect((await auth(token)).principalId).toBe("root");
    const jwt = token.slice(4);
    const [header = "", payload = "", signature = ""] = jwt.split(".");
    const kid = keys.currentKid();
    const forged = await new SignJWT({ tenant: principal.tenant }).setProtectedHeader({ alg: "HS256", kid }).setIssuer("tether").setSubject("root").setJti("j").setExpirationTime("10m").sign(new Uint8Array(32).fill(7));
    const none = `${Buffer.from(JSON.stringify({ alg: "none", kid })).toString("base64url")}.${payload}.`;
    const otherSubject = `${header}.${Buffer.from(JSON.stringify({ ...JSON.parse(Buffer.from(payload, "base64url").toString()), sub: "someone" })).toString("base64url")}.${signature}`;
    for (const bad of [forged, none, otherSubject, "garbage"]) await expect(auth(`tts_${bad}`)).rejects.toMatchObject({ code: "AuthenticationFailedException" });
    now += 16 * 60_000;
    await expect(auth(token)).rejects.toMatchObject({ code: "AuthenticationFailedException" });
  });
});
