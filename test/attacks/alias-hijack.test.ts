import { describe, expect, it } from "vitest";
import { createApp } from "../../functions/app.js";
import { apiKeyFor, requester, testDeps } from "../../functions/testing.js";

/**
 * Guarantee attacked: an alias names the key its owner chose. Applications encrypt to
 * `alias/payments`; whoever can re-point it to a key they control reads everything encrypted
 * afterwards. As in AWS, UpdateAlias needs kms:UpdateAlias on the alias's current key AND on the
 * new one; CreateAlias and DeleteAlias need their permission on the key they name.
 */
describe("attack: re-pointing or deleting another key's alias", () => {
  const setup = async () => {
    const t = testDeps();
    const admin = await apiKeyFor(t.identity, ["tenantAdmin"]);
    const attacker = await apiKeyFor(t.identity, ["keyAdmin", "keyUser"]);
    const call = requester(createApp(t.deps), admin);
    const onlyAdmins = { Version: "2012-10-17", Statement: [{ Sid: "Admins only", Effect: "Allow", Principal: { Tether: "role:tenantAdmin" }, Action: "kms:*", Resource: "*" }] };
    const victim = (await call("POST", "/v1/keys", { policy: onlyAdmins })).body.keyMetadata.keyId as string;
    expect((await call("POST", "/v1/aliases", { aliasName: "alias/payments", targetKeyId: victim })).status).toBe(201);
    // A key of the attacker's own: the default policy lets key admins manage it.
    const own = (await call("POST", "/v1/keys", {}, attacker)).body.keyMetadata.keyId as string;
    return { call, victim, own, attacker };
  };

  it("UpdateAlias refuses a caller who may not UpdateAlias on the alias's current key", async () => {
    const { call, victim, own, attacker } = await setup();
    const res = await call("PUT", "/v1/aliases", { aliasName: "alias/payments", targetKeyId: own }, attacker);
    expect(res.body.__type).toBe("AccessDeniedException");
    expect((await call("GET", `/v1/aliases?keyId=${victim}`)).body.aliases.map((a: { aliasName: string }) => a.aliasName)).toEqual(["alias/payments"]);
    // Encrypting to the alias still lands under the victim key.
    expect((await call("POST", "/v1/keys/alias%2Fpayments/encrypt", { plaintext: "aGk=" })).body.keyId).toContain(victim);
  });

  it("DeleteAlias refuses a caller who may not DeleteAlias on the alias's key", async () => {
    const { call, victim, attacker } = await setup();
    expect((await call("DELETE", "/v1/aliases?aliasName=alias%2Fpayments", undefined, attacker)).body.__type).toBe("AccessDeniedException");
    expect((await call("GET", `/v1/aliases?keyId=${victim}`)).body.aliases).toHaveLength(1);
  });

  it("the owner still re-points and deletes it", async () => {
    const { call, own } = await setup();
    expect((await call("PUT", "/v1/aliases", { aliasName: "alias/payments", targetKeyId: own })).status).toBe(200);
    expect((await call("DELETE", "/v1/aliases?aliasName=alias%2Fpayments")).status).toBe(200);
  });
});
