import { describe, expect, it } from "vitest";
import { createApp } from "../../functions/app.js";
import { apiKeyFor, requester, testDeps } from "../../functions/testing.js";

/**
 * Guarantee attacked: a key policy that denies kms:DescribeKey hides the key's metadata
 * (description, tags, state) from that principal. The native listing returns the same metadata
 * as DescribeKey, so it must apply the same decision per key.
 */
describe("attack: reading a key's metadata through the listing", () => {
  it("GET /v1/keys leaves out the keys the caller may not describe", async () => {
    const t = testDeps();
    const admin = await apiKeyFor(t.identity, ["tenantAdmin"]);
    const auditor = await apiKeyFor(t.identity, ["auditor"], undefined, "nosy");
    const call = requester(createApp(t.deps), admin);
    const secretive = {
      Version: "2012-10-17",
      Statement: [
        { Sid: "Admins", Effect: "Allow", Principal: { Tether: "role:tenantAdmin" }, Action: "kms:*", Resource: "*" },
        { Sid: "Not nosy", Effect: "Deny", Principal: { Tether: "nosy" }, Action: "kms:DescribeKey", Resource: "*" },
      ],
    };
    const hidden = (await call("POST", "/v1/keys", { description: "merger plans", policy: secretive })).body.keyMetadata.keyId as string;
    const visible = (await call("POST", "/v1/keys", { description: "ordinary" })).body.keyMetadata.keyId as string;

    expect((await call("GET", `/v1/keys/${hidden}`, undefined, auditor)).body.__type).toBe("AccessDeniedException");
    const listed = (await call("GET", "/v1/keys", undefined, auditor)).body.keys.map((k: { keyId: string }) => k.keyId);
    expect(listed).toContain(visible);
    expect(listed).not.toContain(hidden);
    expect((await call("GET", "/v1/keys")).body.keys.map((k: { keyId: string }) => k.keyId)).toEqual(expect.arrayContaining([hidden, visible]));
  });

  it("a listing reads one page of at most `limit` keys and decides a bounded number of them at once", async () => {
    const t = testDeps();
    const call = requester(createApp(t.deps), await apiKeyFor(t.identity, ["tenantAdmin", "keyAdmin"]));
    const policy = { Version: "2012-10-17", Statement: [{ Sid: "Admins", Effect: "Allow", Principal: { Tether: "role:tenantAdmin" }, Action: "kms:*", Resource: "*" }] };
    for (let i = 0; i < 40; i++) expect((await call("POST", "/v1/keys", { policy })).status).toBe(201);
    for (const label of ["h1", "h2", "h3"]) expect((await call("POST", "/v1/hsm-keys", { label, keySpec: "AES_256" })).status).toBe(201);

    const pages: number[] = [];
    const list = t.keyStore.list.bind(t.keyStore);
    t.keyStore.list = (tenant, limit, cursor) => (pages.push(limit), list(tenant, limit, cursor));
    const deciding = { now: 0, peak: 0 };
    const getPolicy = t.keyStore.getPolicy.bind(t.keyStore);
    t.keyStore.getPolicy = async (tenant, keyId, version) => {
      deciding.peak = Math.max(deciding.peak, ++deciding.now);
      await new Promise((r) => setImmediate(r));
      deciding.now--;
      return getPolicy(tenant, keyId, version);
    };

    // HSM keys a page at a time: the first 10 of the tenant's keys hold none of them; the cursor goes on.
    const first = await call("GET", "/v1/hsm-keys?limit=10");
    expect(first).toMatchObject({ status: 200, body: { keys: [], nextCursor: expect.any(String) } });
    expect(pages).toEqual([10]);
    const labels: string[] = [];
    for (let cursor: string | undefined = first.body.nextCursor; cursor; ) {
      const page = await call("GET", `/v1/hsm-keys?limit=10&cursor=${encodeURIComponent(cursor)}`);
      labels.push(...page.body.keys.map((k: { label: string }) => k.label));
      cursor = page.body.nextCursor;
    }
    expect(labels.sort()).toEqual(["h1", "h2", "h3"]);
    expect(Math.max(...pages)).toBe(10);

    expect((await call("GET", "/v1/keys?limit=1000")).body.keys).toHaveLength(43);
    expect(deciding.peak).toBeGreaterThan(1);
    expect(deciding.peak).toBeLessThanOrEqual(16);
  });
});
