import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { createApp } from "./app.js";
import { apiKeyFor, testDeps } from "./testing.js";

/**
 * Arbitrary bodies, headers, paths and sizes against every endpoint: never a 5xx, never a hang,
 * always a JSON error with a stable code.
 */
describe("every endpoint under arbitrary input", async () => {
  const t = testDeps();
  const app = createApp(t.deps);
  const token = await apiKeyFor(t.identity, ["tenantAdmin", "keyUser"]);
  const created = await app.request("/v1/keys", { method: "POST", headers: { authorization: `Bearer ${token}`, "content-type": "application/json" }, body: "{}" });
  const keyId = ((await created.json()) as { keyMetadata: { keyId: string } }).keyMetadata.keyId;
  // Every route the app serves, read from the app itself (a new route is fuzzed without anyone listing it), its parameters filled in.
  // An XKS key store at /x, so that the XKS door is fuzzed past its path into authentication.
  await app.request("/v1/xks-key-stores", { method: "POST", headers: { authorization: `Bearer ${token}`, "content-type": "application/json" }, body: JSON.stringify({ name: "fuzz", uriPathPrefix: "x" }) });
  const fill = (path: string) => path.replace(/:(\w+)(\{[^}]*\})?/g, (_, name: string) => (name !== "keyId" ? "x" : path.startsWith("/v1/hsm-keys/") ? "hsm::0::k" : keyId));
  const routes = [...new Map(app.routes.filter((r) => r.method !== "ALL").map((r) => [`${r.method} ${r.path}`, [r.method, fill(r.path)] as [string, string]])).values()];

  const body = fc.oneof(
    fc.json(),
    fc.string({ maxLength: 2000 }),
    fc.jsonValue().map((v) => JSON.stringify({ plaintext: v, ciphertextBlob: v, encryptionContext: v, numberOfBytes: v, keySpec: v, destinationKeyId: v, pendingWindowInDays: v })),
    fc.record({ keyPairSpec: fc.constantFrom("RSA_2048", "ECC_NIST_P256", "DSA"), encryptionContext: fc.dictionary(fc.string(), fc.string()) }).map((b) => JSON.stringify(b)),
    fc.record({ items: fc.array(fc.record({ keyId: fc.constantFrom(keyId, "alias/x", "nope"), plaintext: fc.base64String({ maxLength: 40 }), ciphertextBlob: fc.base64String({ maxLength: 80 }) }), { maxLength: 120 }) }).map((b) => JSON.stringify(b)),
    fc.record({ aliasName: fc.string({ maxLength: 30 }).map((s) => `alias/${s}`), targetKeyId: fc.constantFrom(keyId, "x") }).map((b) => JSON.stringify(b)),
    fc.record({ label: fc.string({ maxLength: 70 }), keySpec: fc.constantFrom("AES_256", "RSA_2048", "ECC_NIST_P256", "X"), slot: fc.string({ maxLength: 40 }) }).map((b) => JSON.stringify(b)),
    fc.record({ message: fc.base64String({ maxLength: 200 }), signature: fc.base64String({ maxLength: 200 }), signingAlgorithm: fc.constantFrom("ECDSA_SHA_256", "RSASSA_PSS_SHA_512", "nope"), messageType: fc.constantFrom("RAW", "DIGEST") }).map((b) => JSON.stringify(b)),
    fc.base64String({ maxLength: 8000 }).map((b) => JSON.stringify({ plaintext: b, ciphertextBlob: b })),
    fc.constant("x".repeat(300_000)),
    fc.record({ policy: fc.oneof(fc.jsonValue(), fc.record({ Version: fc.constant("2012-10-17"), Statement: fc.array(fc.record({ Effect: fc.constantFrom("Allow", "Deny", "Maybe"), Principal: fc.oneof(fc.constant("*"), fc.record({ Tether: fc.string() }), fc.record({ AWS: fc.string() })), Action: fc.oneof(fc.string(), fc.constant("kms:*")), Condition: fc.dictionary(fc.constantFrom("IpAddress", "StringLike", "ForAllValues:StringEquals", "DateLessThan", "Null", "Bogus"), fc.dictionary(fc.constantFrom("aws:SourceIp", "kms:EncryptionContext:a", "aws:CurrentTime", "kms:EncryptionContextKeys"), fc.oneof(fc.string(), fc.array(fc.string())))) }), { maxLength: 3 }) })), version: fc.integer(), bypassPolicyLockoutSafetyCheck: fc.boolean() }).map((b) => JSON.stringify(b)),
    fc.record({ granteePrincipal: fc.string(), operations: fc.array(fc.constantFrom("Encrypt", "Decrypt", "Nope")), constraints: fc.jsonValue(), grantToken: fc.string(), keyId: fc.constantFrom(keyId, "x"), grantId: fc.string() }).map((b) => JSON.stringify(b)),
    fc.record({ requestMetadata: fc.oneof(fc.jsonValue(), fc.record({ kmsRequestId: fc.string(), kmsOperation: fc.string(), awsPrincipalArn: fc.string(), kmsKeyArn: fc.string() })), plaintext: fc.base64String({ maxLength: 12_000 }), encryptionAlgorithm: fc.constantFrom("AES_GCM", "x"), additionalAuthenticatedData: fc.string(), initializationVector: fc.base64String({ maxLength: 40 }), authenticationTag: fc.base64String({ maxLength: 40 }), ciphertextMetadata: fc.base64String({ maxLength: 60 }) }).map((b) => JSON.stringify(b)),
    fc.record({ KeyId: fc.constantFrom(keyId, "alias/x", "nope"), Plaintext: fc.base64String({ maxLength: 100 }), EncryptionContext: fc.jsonValue(), GranteePrincipal: fc.string(), Operations: fc.array(fc.string()), Policy: fc.string(), ImportToken: fc.base64String(), Tags: fc.jsonValue() }).map((b) => JSON.stringify(b)),
    fc.record({ principalId: fc.string(), kind: fc.constantFrom("user", "role", "x"), roles: fc.array(fc.constantFrom("keyUser", "god")), issuer: fc.string(), jwksUri: fc.webUrl(), audience: fc.string(), name: fc.string(), action: fc.constantFrom("kms:Encrypt", "x"), sourceIp: fc.string(), time: fc.string() }).map((b) => JSON.stringify(b)),
  );
  const headers = fc.record({
    authorization: fc.oneof(
      fc.constant(`Bearer ${token}`),
      fc.string({ maxLength: 200 }).map((s) => s.replace(/[\r\n]/g, "")),
      fc.string({ maxLength: 200 }).map((s) => `AWS4-HMAC-SHA256 Credential=TTHAAAAAAAAAAAAAAAAA/20261122/us-east-1/kms/aws4_request, SignedHeaders=host;x-amz-date, Signature=${s.replace(/[^0-9a-f]/g, "")}`),
      fc.string({ maxLength: 300 }).map((s) => `Bearer eyJ${Buffer.from(s).toString("base64url")}.eyJ${Buffer.from(s).toString("base64url")}.x`),
      fc.string({ maxLength: 300 }).map((s) => `Bearer tts_${s.replace(/\s/g, "")}`),
    ),
    "content-type": fc.constantFrom("application/json", "text/plain", "application/x-amz-json-1.1", ""),
    "x-request-id": fc.string({ maxLength: 100 }).map((s) => s.replace(/[^\x20-\x7e]/g, "")),
    "x-amz-target": fc.constantFrom("TrentService.Encrypt", "TrentService.CreateKey", "TrentService.CreateGrant", "TrentService.PutKeyPolicy", "TrentService.ImportKeyMaterial", "TrentService.Nope", "x"),
  });

  it("covers every route: the native API, the AWS protocol, health and the docs", () => {
    expect(routes.length).toBeGreaterThan(75);
    const listed = new Set(routes.map(([method, path]) => `${method} ${path}`));
    for (const route of ["POST /", "GET /health", "GET /v1/health", "GET /docs", `POST /v1/keys/${keyId}/encrypt`, "POST /v1/hsm-keys/hsm::0::k/sign"]) expect(listed, route).toContain(route);
  });

  it("never answers 5xx", async () => {
    await fc.assert(
      fc.asyncProperty(fc.constantFrom(...routes), body, headers, fc.option(fc.string({ maxLength: 40 })), async ([method, path], payload, hdrs, suffix) => {
        const url = suffix ? `${path}/${encodeURIComponent(suffix)}` : path;
        const res = await app.request(url, { method, headers: hdrs, ...(method === "GET" || method === "DELETE" ? {} : { body: payload }) });
        expect(res.status).toBeLessThan(500);
        const text = await res.text();
        // Each door its own error shape: the XKS API's {errorName, errorMessage}, the others' {__type, message}.
        const shape = path.includes("/kms/xks/v1") ? { errorName: expect.any(String), errorMessage: expect.any(String) } : { __type: expect.any(String), message: expect.any(String) };
        if (res.status >= 400) expect(JSON.parse(text)).toMatchObject(shape);
      }),
      { numRuns: 800 },
    );
  }, 120_000);
});
