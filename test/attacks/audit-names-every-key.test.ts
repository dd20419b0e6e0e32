import { Hash } from "@smithy/hash-node";
import { HttpRequest } from "@smithy/protocol-http";
import { SignatureV4 } from "@smithy/signature-v4";
import { describe, expect, it } from "vitest";
import { createApp } from "../../functions/app.js";
import { apiKeyFor, requester, testDeps } from "../../functions/testing.js";

/**
 * Guarantee attacked: the audit trail answers "who used this key". A request that uses a key
 * without naming it — a batch, a re-encryption, an AWS Decrypt without KeyId, an alias — must
 * still leave the key's id in its record, or an auditor filtering by key misses it.
 */
describe("attack: using a key without the audit trail naming it", () => {
  const setup = async () => {
    const t = testDeps();
    const app = createApp(t.deps);
    const call = requester(app, await apiKeyFor(t.identity, ["tenantAdmin", "keyUser"], undefined, "root"));
    const [a, b, c] = await Promise.all([1, 2, 3].map(async () => (await call("POST", "/v1/keys", {})).body.keyMetadata.keyId as string));
    const blob = async (keyId: string) => (await call("POST", `/v1/keys/${keyId}/encrypt`, { plaintext: "aGk=" })).body.ciphertextBlob as string;
    return { t, app, call, a: a as string, b: b as string, c: c as string, blob };
  };
  const keysIn = (r: { keyId?: string; keys?: string[] } | undefined) => [...(r?.keys ?? []), ...(r?.keyId ? [r.keyId] : [])].join(" ");

  it("batch decrypt names every key its items used", async () => {
    const { app, a, b, blob, t } = await setup();
    const items = [{ ciphertextBlob: await blob(a) }, { ciphertextBlob: await blob(b) }];
    const token = await apiKeyFor(t.identity, ["keyUser"]);
    const res = await app.request("/v1/batch/decrypt", { method: "POST", headers: { authorization: `Bearer ${token}`, "content-type": "application/json" }, body: JSON.stringify({ items }) });
    expect(res.status).toBe(200);
    const record = t.audit.records.find((r) => r.requestId === res.headers.get("x-request-id"));
    expect(keysIn(record)).toContain(a);
    expect(keysIn(record)).toContain(b);
  });

  it("re-encrypt names its source and its destination", async () => {
    const { app, a, c, blob, t } = await setup();
    const token = await apiKeyFor(t.identity, ["keyUser"]);
    const res = await app.request("/v1/re-encrypt", { method: "POST", headers: { authorization: `Bearer ${token}`, "content-type": "application/json" }, body: JSON.stringify({ ciphertextBlob: await blob(a), destinationKeyId: c }) });
    expect(res.status).toBe(200);
    const record = t.audit.records.find((r) => r.requestId === res.headers.get("x-request-id"));
    expect(keysIn(record)).toContain(a);
    expect(keysIn(record)).toContain(c);
  });

  it("an AWS Decrypt without KeyId, and a request by alias, name the key resolved", async () => {
    const { app, call, a, blob, t } = await setup();
    const { accessKey } = (await call("POST", "/v1/access-keys", { principalId: "root" })).body;
    const signer = new SignatureV4({ credentials: accessKey, region: "us-east-1", service: "kms", sha256: Hash.bind(null, "sha256") });
    const body = JSON.stringify({ CiphertextBlob: await blob(a) });
    const signed = await signer.sign(new HttpRequest({ method: "POST", protocol: "http:", hostname: "localhost", path: "/", headers: { host: "localhost", "content-type": "application/x-amz-json-1.1", "x-amz-target": "TrentService.Decrypt" }, body }));
    const res = await app.request("/", { method: "POST", headers: signed.headers, body });
    expect(res.status).toBe(200);
    expect(keysIn(t.audit.records.find((r) => r.requestId === res.headers.get("x-request-id")))).toContain(a);

    expect((await call("POST", "/v1/aliases", { aliasName: "alias/orders", targetKeyId: a })).status).toBe(201);
    const byAlias = await app.request("/v1/keys/alias%2Forders/encrypt", { method: "POST", headers: { authorization: `Bearer ${await apiKeyFor(t.identity, ["keyUser"])}`, "content-type": "application/json" }, body: JSON.stringify({ plaintext: "aGk=" }) });
    expect(byAlias.status).toBe(200);
    expect(keysIn(t.audit.records.find((r) => r.requestId === byAlias.headers.get("x-request-id")))).toContain(a);
  });

  it("a refused use still names the key it tried", async () => {
    const { app, call, a, t } = await setup();
    await call("POST", `/v1/keys/${a}/disable`);
    expect((await call("POST", "/v1/aliases", { aliasName: "alias/off", targetKeyId: a })).status).toBe(201);
    const res = await app.request("/v1/keys/alias%2Foff/encrypt", { method: "POST", headers: { authorization: `Bearer ${await apiKeyFor(t.identity, ["keyUser"])}`, "content-type": "application/json" }, body: JSON.stringify({ plaintext: "aGk=" }) });
    expect(res.status).toBe(400);
    expect(keysIn(t.audit.records.find((r) => r.requestId === res.headers.get("x-request-id")))).toContain(a);
  });
});
