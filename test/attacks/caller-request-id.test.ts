import { describe, expect, it } from "vitest";
import { createApp } from "../../functions/app.js";
import { apiKeyFor, requester, testDeps } from "../../functions/testing.js";

/**
 * Guarantee attacked: every request has an id of Tether's own — in its audit record and in the
 * context its sealed HSM payloads are bound to. A caller's X-Request-Id is kept as what it is
 * (the caller's label), so a caller cannot make two requests share an id, pass one request off
 * as another in the audit trail, or line up seal contexts.
 */
describe("attack: choosing the request id", () => {
  it("a caller's X-Request-Id is recorded as the client's, never as the request id", async () => {
    const t = testDeps();
    const token = await apiKeyFor(t.identity, ["tenantAdmin", "keyUser"]);
    const app = createApp(t.deps);
    const call = requester(app, token);
    const keyId = (await call("POST", "/v1/keys", {})).body.keyMetadata.keyId as string;
    const sent = await Promise.all([1, 2].map(() => app.request(`/v1/keys/${keyId}/encrypt`, { method: "POST", headers: { authorization: `Bearer ${token}`, "content-type": "application/json", "x-request-id": "same-id" }, body: JSON.stringify({ plaintext: "aGk=" }) })));
    const ids = sent.map((r) => r.headers.get("x-request-id"));
    expect(new Set(ids).size).toBe(2);
    expect(ids).not.toContain("same-id");
    const records = t.audit.records.filter((r) => r.action === "kms:Encrypt");
    expect(records.map((r) => r.requestId).sort()).toEqual([...ids].sort());
    expect(records.map((r) => r.clientRequestId)).toEqual(["same-id", "same-id"]);
  });
});
