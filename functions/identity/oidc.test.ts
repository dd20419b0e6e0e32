import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { exportJWK, generateKeyPair, SignJWT, type JWTPayload } from "jose";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createApp } from "../app.js";
import { apiKeyFor, requester, testDeps } from "../testing.js";
import { rolesFrom } from "./oidc.js";

/** A tiny identity provider on 127.0.0.1: serves its JWKS; signs tokens with its key. */
let server: Server;
let base = "";
let signingKey: CryptoKey;
let otherKey: CryptoKey;

beforeAll(async () => {
  const pair = await generateKeyPair("RS256", { extractable: true });
  signingKey = pair.privateKey;
  otherKey = (await generateKeyPair("RS256")).privateKey;
  const jwks = JSON.stringify({ keys: [{ ...(await exportJWK(pair.publicKey)), kid: "idp-1", alg: "RS256", use: "sig" }] });
  server = createServer((req, res) => {
    if (req.url === "/jwks-hang") return; // an identity provider that accepts and never answers
    res.writeHead(req.url === "/jwks" ? 200 : 404, { "content-type": "application/json" }).end(req.url === "/jwks" ? jwks : "{}");
  });
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
afterAll(
  () =>
    new Promise<void>((r) => {
      server.closeAllConnections();
      server.close(() => r());
    }),
);

const token = (claims: JWTPayload, o: { key?: CryptoKey; kid?: string; exp?: string | number; iss?: string; aud?: string } = {}) =>
  new SignJWT(claims)
    .setProtectedHeader({ alg: "RS256", kid: o.kid ?? "idp-1" })
    .setIssuer(o.iss ?? base)
    .setAudience(o.aud ?? "tether")
    .setSubject("alice@example.com")
    .setIssuedAt()
    .setExpirationTime(o.exp ?? "5m")
    .sign(o.key ?? signingKey);

const setup = async () => {
  const t = testDeps({ env: { TETHER_AUTH_FAILURES_PER_CREDENTIAL: "1000" } });
  const app = createApp(t.deps);
  const admin = await apiKeyFor(t.identity, ["tenantAdmin"], undefined, "root");
  const request = requester(app, "");
  const call = (method: string, path: string, body: unknown, bearer: string) => request(method, path, body, bearer);
  const configured = await call("PUT", "/v1/tenant/oidc", { issuer: base, jwksUri: `${base}/jwks`, audience: "tether", roleMap: { "kms-admins": "keyAdmin", "kms-users": "keyUser" }, rolesClaim: "groups" }, admin);
  expect(configured.status).toBe(200);
  return { t, call, admin };
};

describe("OIDC identity tokens (a local JWKS server on 127.0.0.1)", () => {
  it("a valid token authenticates as oidc:<sub> with the roles its groups map to", async () => {
    const { call } = await setup();
    const user = await token({ groups: ["kms-users", "unrelated"] });
    expect((await call("POST", "/v1/random", { numberOfBytes: 4 }, user)).status).toBe(200);
    const created = await call("POST", "/v1/keys", {}, user);
    expect(created.body.__type).toBe("AccessDeniedException");
    expect(created.body.message).toContain("oidc:alice@example.com");
    const admin = await token({ groups: ["kms-admins"] });
    expect((await call("POST", "/v1/keys", {}, admin)).status).toBe(201);
  });

  it.each([
    ["wrong issuer", () => token({ groups: ["kms-users"] }, { iss: "https://evil.example" })],
    ["wrong audience", () => token({ groups: ["kms-users"] }, { aud: "someone-else" })],
    ["expired", () => token({ groups: ["kms-users"] }, { exp: Math.floor(Date.now() / 1000) - 120 })],
    ["forged (a key not in the JWKS)", () => token({ groups: ["kms-users"] }, { key: otherKey })],
    ["unknown kid", () => token({ groups: ["kms-users"] }, { kid: "idp-9" })],
    ["alg none", async () => `${Buffer.from(JSON.stringify({ alg: "none", kid: "idp-1" })).toString("base64url")}.${(await token({ groups: ["kms-users"] })).split(".")[1]}.`],
    [
      "HS256 signed with the public key (algorithm confusion)",
      async () => {
        const jwk = (await (await fetch(`${base}/jwks`)).json()) as { keys: { n: string }[] };
        return new SignJWT({ groups: ["kms-users"] }).setProtectedHeader({ alg: "HS256", kid: "idp-1" }).setIssuer(base).setAudience("tether").setSubject("alice@example.com").setExpirationTime("5m").sign(Buffer.from(jwk.keys[0]?.n ?? ""));
      },
    ],
    [
      "tampered payload",
      async () => {
        const [h, p, s] = (await token({ groups: ["kms-users"] })).split(".");
        const claims = { ...JSON.parse(Buffer.from(p ?? "", "base64url").toString()), groups: ["kms-admins"] };
        return `${h}.${Buffer.from(JSON.stringify(claims)).toString("base64url")}.${s}`;
      },
    ],
  ])("refuses a token with %s: 401", async (_, make) => {
    const { call } = await setup();
    const res = await call("POST", "/v1/random", { numberOfBytes: 4 }, await make());
    expect(res).toEqual({ status: 401, body: { __type: "AuthenticationFailedException", message: expect.any(String) } });
  });

  it("an issuer whose JWKS endpoint hangs or refuses: 503 at the request's deadline, never 401 (the token was not judged)", async () => {
    const t = testDeps({ env: { TETHER_AUTH_FAILURES_PER_CREDENTIAL: "1000", TETHER_REQUEST_TIMEOUT_MS: "1000" } });
    const app = createApp(t.deps);
    const request = requester(app, "");
    const admin = await apiKeyFor(t.identity, ["tenantAdmin"], undefined, "root");
    const closed = createServer();
    await new Promise<void>((r) => closed.listen(0, "127.0.0.1", r));
    const refusing = `http://127.0.0.1:${(closed.address() as AddressInfo).port}`;
    await new Promise<void>((r) => closed.close(() => r()));
    for (const [issuer, jwksUri, code] of [
      [`${base}/hanging`, `${base}/jwks-hang`, "DependencyTimeoutException"],
      [`${base}/refusing`, `${refusing}/jwks`, "DependencyUnavailableException"],
    ] as const) {
      expect((await request("PUT", "/v1/tenant/oidc", { issuer, jwksUri, audience: "tether", roleMap: { "kms-users": "keyUser" }, rolesClaim: "groups" }, admin)).status).toBe(200);
      const started = Date.now();
      const res = await request("POST", "/v1/random", { numberOfBytes: 4 }, await token({ groups: ["kms-users"] }, { iss: issuer }));
      expect({ status: res.status, type: res.body.__type }).toEqual({ status: 503, type: code });
      expect(Date.now() - started).toBeLessThan(2_500);
    }
  });

  it("a token without any known role authenticates but may do nothing", async () => {
    const { call } = await setup();
    expect((await call("POST", "/v1/random", { numberOfBytes: 4 }, await token({ groups: ["nothing"] }))).body.__type).toBe("AccessDeniedException");
  });

  it("an issuer belongs to one tenant; hostile or non-https configs are refused", async () => {
    const { t, call } = await setup();
    const other = await apiKeyFor(t.identity, ["tenantAdmin"], "999988887777");
    expect((await call("PUT", "/v1/tenant/oidc", { issuer: base, jwksUri: `${base}/jwks`, audience: "x" }, other)).body.__type).toBe("AlreadyExistsException");
    for (const bad of [{ issuer: "http://idp.example.com", jwksUri: "https://idp.example.com/jwks", audience: "x" }, { issuer: base, jwksUri: `${base}/jwks`, audience: "x", algorithms: ["HS256"] }, { issuer: "x".repeat(5000), jwksUri: `${base}/jwks`, audience: "x" }]) {
      expect((await call("PUT", "/v1/tenant/oidc", bad, other)).status).toBe(400);
    }
  });
});

describe("rolesFrom", () => {
  it("takes arrays or space-separated strings, maps or names, ignores the unknown", () => {
    expect(rolesFrom(["keyUser", "x", "keyUser"], undefined)).toEqual(["keyUser"]);
    expect(rolesFrom("auditor keyAdmin", undefined)).toEqual(["auditor", "keyAdmin"]);
    expect(rolesFrom(["g1"], { g1: "tenantAdmin" })).toEqual(["tenantAdmin"]);
    expect(rolesFrom(42, undefined)).toEqual([]);
  });
});
