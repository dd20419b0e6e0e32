import { describe, expect, it } from "vitest";
import { createApp } from "../../functions/app.js";
import { parseApiKey, verifyApiKeySecret } from "../../functions/identity/api-keys.js";
import { AuthThrottle } from "../../functions/identity/auth-throttle.js";
import { ApiKeyScheme, SchemeAuthenticator } from "../../functions/identity/authenticator.js";
import { PrincipalDirectory } from "../../functions/identity/principals.js";
import { apiKeyFor, jsonInit, testDeps } from "../../functions/testing.js";

/** The functions with an API-key scheme whose slow hash is counted (how many run, how many at once). */
async function setup() {
  const t = testDeps({ env: { TETHER_AUTH_FAILURES_PER_SOURCE: "20", TETHER_AUTH_FAILURES_PER_CREDENTIAL: "5" } });
  const hashing = { running: 0, peak: 0, total: 0 };
  const apiKeys = new ApiKeyScheme(t.identity, new PrincipalDirectory(t.identity), {
    verifiedTtlMs: 60_000,
    maxVerified: 10_000,
    verify: async (secret, stored) => {
      hashing.total += 1;
      hashing.peak = Math.max(hashing.peak, ++hashing.running);
      try {
        return await verifyApiKeySecret(secret, stored);
      } finally {
        hashing.running -= 1;
      }
    },
  });
  const deps = { ...t.deps, authenticator: new SchemeAuthenticator([apiKeys]), authThrottle: new AuthThrottle({ windowMs: 60_000, maxPerSource: 20, maxPerCredentialAndSource: 5 }) };
  const app = createApp(deps, (c) => c.req.header("x-test-source"));
  const from = async (source: string, bearer: string): Promise<Response> => {
    const init = jsonInit({ numberOfBytes: 8 }, bearer);
    return app.request("/v1/random", { ...init, headers: { ...(init.headers as Record<string, string>), "x-test-source": source } });
  };
  return { t, apiKeys, hashing, from };
}

/** A different wrong secret each time (the same token would share one verification). */
const wrongSecret = (token: string, i = 0) => `${token.slice(0, -6)}${i.toString(36).padStart(6, "A")}`;
const unknownKey = (i: number) => `tth_${i.toString(16).padStart(16, "0")}_${"B".repeat(43)}`;

/**
 * Guarantees attacked: failed-authentication throttling cannot be turned against valid callers,
 * and cannot be outrun. One bad client behind a NAT or a load balancer must not lock out every
 * valid caller sharing its address; a flood of wrong secrets must not run the slow hash
 * (scrypt, ~50 ms of CPU each) without bound.
 */
describe("attack: locking out a shared address, and flooding the slow hash", () => {
  it("a source blocked by one client's failures still admits credentials that verify", async () => {
    const { t, apiKeys, from } = await setup();
    const nat = "198.51.100.20";
    const cached = await apiKeyFor(t.identity, ["keyUser"]);
    const expired = await apiKeyFor(t.identity, ["keyUser"]);
    const victim = await apiKeyFor(t.identity, ["keyUser"]);
    expect((await from(nat, cached)).status).toBe(200);
    expect((await from(nat, expired)).status).toBe(200);
    // Its cached verification ends (as after 60 s): it must verify again, from a throttled address.
    apiKeys.forget(parseApiKey(expired)?.id ?? "");

    // One bad client behind the same address: wrong secrets for a real key, and made-up keys.
    for (let i = 0; i < 6; i++) await from(nat, wrongSecret(victim, i));
    for (let i = 0; i < 30; i++) await from(nat, unknownKey(i));
    expect((await from(nat, unknownKey(99))).status).toBe(429);

    expect((await from(nat, cached)).status).toBe(200);
    expect((await from(nat, expired)).status).toBe(200);
  });

  it("1,000 parallel wrong secrets run the slow hash a bounded number of times, a few at once", async () => {
    const { t, hashing, from } = await setup();
    const victim = await apiKeyFor(t.identity, ["keyUser"]);
    const answers = await Promise.all(Array.from({ length: 1_000 }, (_, i) => from("203.0.113.66", wrongSecret(victim, i)).then((r) => r.status)));
    expect(answers.filter((s) => s === 401).length).toBeGreaterThan(0);
    expect(answers.every((s) => s === 401 || s === 429)).toBe(true);
    // Refused attempts cost no hash: only those admitted before the pair was blocked ran one.
    expect(hashing.total).toBeGreaterThan(0);
    expect(hashing.total).toBeLessThanOrEqual(8);
    expect(hashing.peak).toBeLessThanOrEqual(2);

    // From many addresses at once: still a bounded number in flight.
    const spread = await Promise.all(Array.from({ length: 100 }, (_, i) => from(`10.9.0.${i}`, wrongSecret(victim, 1_000 + i)).then((r) => r.status)));
    expect(spread.every((s) => s === 401 || s === 429)).toBe(true);
    expect(hashing.peak).toBeLessThanOrEqual(8);
  });
});

/** A JWT with the given header and claims and a signature of nothing (only its form is right). */
const unsignedJwt = (header: object, claims: object) => [header, claims, "c2ln"].map((p) => (typeof p === "string" ? p : Buffer.from(JSON.stringify(p)).toString("base64url"))).join(".");
const day = (offset: number) => new Date(Date.now() + offset * 86_400_000).toISOString().slice(0, 10);

/**
 * The same floods with bearer tokens whose verification reads the database: session tokens name a
 * signing key by date (a key missing, or dated in the future, is a read per attempt), OIDC tokens
 * name an issuer (an unknown one is a read per attempt). These lookups are throttled like the slow hash.
 */
describe("attack: flooding the lookups behind session tokens and OIDC tokens", () => {
  const flood = async (tokenFor: (i: number) => string) => {
    const t = testDeps({ env: { TETHER_AUTH_FAILURES_PER_SOURCE: "20", TETHER_AUTH_FAILURES_PER_CREDENTIAL: "5" } });
    const reads = { tokenKeys: 0, issuers: 0 };
    const getTokenKey = t.identity.getTokenKey.bind(t.identity);
    t.identity.getTokenKey = (kid) => (reads.tokenKeys++, getTokenKey(kid));
    const tenantOfIssuer = t.tenantStore.tenantOfIssuer.bind(t.tenantStore);
    t.tenantStore.tenantOfIssuer = (issuer) => (reads.issuers++, tenantOfIssuer(issuer));
    const app = createApp({ ...t.deps, authThrottle: new AuthThrottle({ windowMs: 60_000, maxPerSource: 20, maxPerCredentialAndSource: 5 }) }, (c) => c.req.header("x-test-source"));
    const attempt = async (i: number) => {
      const init = jsonInit({ numberOfBytes: 8 }, tokenFor(i));
      return (await app.request("/v1/random", { ...init, headers: { ...(init.headers as Record<string, string>), "x-test-source": "203.0.113.77" } })).status;
    };
    const statuses = await Promise.all(Array.from({ length: 500 }, (_, i) => attempt(i)));
    return { reads, statuses, after: await attempt(500) };
  };

  const sessionToken = (kid: string) => (i: number) => `tts_${unsignedJwt({ alg: "HS256", kid, typ: "JWT" }, { iss: "tether", sub: "admin", jti: `j${i}`, exp: 9_999_999_999, tenant: "111122223333", cred: "x" })}`;

  it("session tokens naming a signing key that does not exist (yet)", async () => {
    for (const kid of [`k-${day(-1)}`, `k-${day(0)}`]) {
      const { reads, statuses, after } = await flood(sessionToken(kid));
      expect(statuses.every((s) => s === 401 || s === 429), kid).toBe(true);
      expect(reads.tokenKeys, kid).toBeLessThanOrEqual(30);
      expect(after, kid).toBe(429);
    }
  });

  it("session tokens naming a future day's key, or one older than yesterday, are refused without a lookup", async () => {
    for (const kid of [`k-${day(1)}`, `k-${day(365)}`, `k-${day(-2)}`]) {
      const { reads, statuses } = await flood(sessionToken(kid));
      expect(statuses.every((s) => s === 401), kid).toBe(true);
      expect(reads.tokenKeys, kid).toBe(0);
    }
  });

  it("OIDC tokens naming issuers no tenant registered", async () => {
    const { reads, statuses, after } = await flood((i) => unsignedJwt({ alg: "RS256", kid: "k" }, { iss: `https://idp-${i}.example.com`, sub: "x", exp: 9_999_999_999 }));
    expect(statuses.every((s) => s === 401 || s === 429)).toBe(true);
    expect(reads.issuers).toBeLessThanOrEqual(30);
    expect(after).toBe(429);
  });
});
