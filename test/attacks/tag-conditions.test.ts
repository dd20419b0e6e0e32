import { describe, expect, it } from "vitest";
import { createApp } from "../../functions/app.js";
import { apiKeyFor, requester, testDeps } from "../../functions/testing.js";

/**
 * Guarantee attacked: a key policy that protects tags holds. A policy may forbid removing the
 * `owner` tag (UntagResource with `aws:TagKeys`) or setting `env=prod` (TagResource with
 * `aws:RequestTag/env`); if the request's tag keys never reach the policy, a key admin strips
 * the tag anyway — and with it every `aws:ResourceTag` condition that depended on it.
 */
describe("attack: stripping or forging protected tags", () => {
  const setup = async () => {
    const t = testDeps();
    const admin = await apiKeyFor(t.identity, ["tenantAdmin"]);
    const keyAdmin = await apiKeyFor(t.identity, ["keyAdmin"]);
    const call = requester(createApp(t.deps), admin);
    const policy = {
      Version: "2012-10-17",
      Statement: [
        { Sid: "Admins", Effect: "Allow", Principal: { Tether: ["role:tenantAdmin", "role:keyAdmin"] }, Action: "kms:*", Resource: "*" },
        { Sid: "KeepOwner", Effect: "Deny", Principal: { Tether: "role:keyAdmin" }, Action: "kms:UntagResource", Resource: "*", Condition: { "ForAnyValue:StringEquals": { "aws:TagKeys": ["owner"] } } },
        { Sid: "NoProd", Effect: "Deny", Principal: { Tether: "role:keyAdmin" }, Action: "kms:TagResource", Resource: "*", Condition: { StringEquals: { "aws:RequestTag/env": "prod" } } },
      ],
    };
    const keyId = (await call("POST", "/v1/keys", { policy, tags: { owner: "payments", team: "a" } })).body.keyMetadata.keyId as string;
    return { call, keyId, keyAdmin };
  };

  it("UntagResource passes the keys it removes as aws:TagKeys", async () => {
    const { call, keyId, keyAdmin } = await setup();
    expect((await call("POST", `/v1/keys/${keyId}/untag`, { tagKeys: ["owner"] }, keyAdmin)).body.__type).toBe("AccessDeniedException");
    expect((await call("GET", `/v1/keys/${keyId}`)).body.keyMetadata.tags).toEqual({ owner: "payments", team: "a" });
    expect((await call("POST", `/v1/keys/${keyId}/untag`, { tagKeys: ["team"] }, keyAdmin)).status).toBe(200);
  });

  it("TagResource passes aws:RequestTag and aws:TagKeys", async () => {
    const { call, keyId, keyAdmin } = await setup();
    expect((await call("POST", `/v1/keys/${keyId}/tags`, { tags: { env: "prod" } }, keyAdmin)).body.__type).toBe("AccessDeniedException");
    expect((await call("POST", `/v1/keys/${keyId}/tags`, { tags: { env: "dev" } }, keyAdmin)).status).toBe(200);
  });
});
