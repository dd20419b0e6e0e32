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
});
