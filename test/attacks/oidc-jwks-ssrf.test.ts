import { createServer, type Server } from "node:net";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createApp } from "../../functions/app.js";
import { publicOnlyFetch } from "../../functions/identity/public-fetch.js";
import { apiKeyFor, requester, testDeps } from "../../functions/testing.js";

/**
 * Guarantee attacked: a tenant admin cannot make Tether's functions fetch from Tether's own
 * network. The JWKS URL of an OIDC provider is fetched by the functions; pointed at the cloud
 * metadata service (169.254.169.254), loopback or a private address, it would read what only
 * the functions can reach. Outside the dev stage such URLs are refused when configured, and a
 * public-looking name that resolves to a private address is refused when connecting.
 */
describe("attack: server-side request forgery through an OIDC JWKS URL", () => {
  let listener: Server;
  let connections = 0;
  let port = 0;
  beforeAll(async () => {
    listener = createServer((s) => {
      connections += 1;
      s.destroy();
    });
    await new Promise<void>((r) => listener.listen(0, "127.0.0.1", r));
    port = (listener.address() as { port: number }).port;
  });
  afterAll(() => new Promise<void>((r) => listener.close(() => r())));

  it("outside the dev stage, loopback, link-local, private and plain-http JWKS URLs are refused", async () => {
    const t = testDeps({ env: { TETHER_STAGE: "prod" } });
    const call = requester(createApp(t.deps), await apiKeyFor(t.identity, ["tenantAdmin"]));
    const set = (jwksUri: string) => call("PUT", "/v1/tenant/oidc", { issuer: "https://idp.example.com", jwksUri, audience: "tether" });
    for (const jwksUri of [
      `https://127.0.0.1:${port}/jwks`,
      "https://169.254.169.254/latest/meta-data/",
      "https://10.0.0.7/jwks",
      "https://192.168.1.1/jwks",
      "https://[::1]/jwks",
      "https://[fd00::1]/jwks",
      "https://[::ffff:127.0.0.1]/jwks",
      "https://[::ffff:7f00:1]/jwks",
      "https://[::127.0.0.1]/jwks",
      "https://[2002:7f00:1::1]/jwks",
      "https://[2002:a9fe:a9fe::1]/jwks",
      "https://[fec0::1]/jwks",
      "https://localhost/jwks",
      "http://idp.example.com/jwks",
    ]) {
      const res = await set(jwksUri);
      expect(res.body.__type, jwksUri).toBe("ValidationException");
    }
    expect((await set("https://idp.example.com/.well-known/jwks.json")).status).toBe(200);
    expect((await set("https://[2606:4700::1111]/jwks")).status).toBe(200);
    expect((await set("https://[::ffff:93.184.215.14]/jwks")).status).toBe(200);
  });

  it("a public-looking name that resolves to a private address is refused before connecting", async () => {
    const fetchJwks = publicOnlyFetch({ allowPrivate: false, timeoutMs: 2_000, lookup: (_host, _o, cb) => cb(null, [{ address: "127.0.0.1", family: 4 }]) });
    await expect(fetchJwks(`https://idp.example.com:${port}/jwks`, {})).rejects.toThrow(/not public/);
    const mixed = publicOnlyFetch({ allowPrivate: false, timeoutMs: 2_000, lookup: (_host, _o, cb) => cb(null, [{ address: "93.184.215.14", family: 4 }, { address: "10.1.1.1", family: 4 }]) });
    await expect(mixed(`https://idp.example.com:${port}/jwks`, {})).rejects.toThrow(/not public/);
    expect(connections).toBe(0);
  });
});
