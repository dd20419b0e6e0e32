import { execFile } from "node:child_process";
import { createHash, randomBytes, randomUUID } from "node:crypto";
import { promisify } from "node:util";
import { Hash } from "@smithy/hash-node";
import { HttpRequest } from "@smithy/protocol-http";
import { SignatureV4 } from "@smithy/signature-v4";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { rememberSecrets } from "../support/leak-ledger.js";
import { startConnector, startFunctions, waitForHealth, type ConnectorProcess, type TestStack } from "../support/stack.js";

type Json = Record<string, unknown> & { errorName?: string; errorMessage?: string };
type Credential = { accessKeyId: string; secretAccessKey: string };

const meta = (op: string, extra: Record<string, unknown> = {}) => ({
  kmsRequestId: randomUUID(),
  kmsOperation: op,
  awsPrincipalArn: "arn:aws:iam::123456789012:user/Alice",
  kmsKeyArn: "arn:aws:kms:us-east-2:123456789012:key/1234abcd-12ab-34cd-56ef-1234567890ab",
  ...extra,
});
const b64 = (b: Uint8Array | string) => Buffer.from(b).toString("base64");

describe("XKS proxy API (AWS KMS external key stores) on SoftHSM2 and DynamoDB Local", () => {
  let stack: TestStack;
  let connector: ConnectorProcess;
  const keys: Record<"both" | "encryptOnly" | "decryptOnly" | "neither", string> = { both: "", encryptOnly: "", decryptOnly: "", neither: "" };
  let credential: Credential;
  let keyStoreId = "";
  const prefix = "tether/xks-test";

  const api = async (method: string, path: string, body?: unknown, token = stack.adminToken): Promise<{ status: number; body: Json }> => {
    const res = await fetch(`${stack.url}${path}`, { method, headers: { authorization: `Bearer ${token}`, "content-type": "application/json" }, ...(body === undefined ? {} : { body: JSON.stringify(body) }) });
    return { status: res.status, body: (await res.json()) as Json };
  };

  /** A request signed as AWS KMS signs it: SigV4, service kms-xks-proxy, the region it runs in. */
  const xks = async (path: string, body: unknown, o: { cred?: Credential; method?: string; region?: string; date?: Date; pathPrefix?: string } = {}): Promise<{ status: number; body: Json; text: string }> => {
    const url = new URL(`${stack.url}/${o.pathPrefix ?? prefix}/kms/xks/v1/${path}`);
    const text = typeof body === "string" ? body : JSON.stringify(body);
    const cred = o.cred ?? credential;
    const signer = new SignatureV4({ credentials: cred, region: o.region ?? "us-east-2", service: "kms-xks-proxy", sha256: Hash.bind(null, "sha256"), applyChecksum: false });
    const request = new HttpRequest({ method: o.method ?? "POST", protocol: "http:", hostname: url.hostname, port: Number(url.port), path: url.pathname, headers: { host: url.host, "content-type": "application/json" }, body: text });
    const signed = await signer.sign(request, { signingDate: o.date ?? new Date() });
    const res = await fetch(url, { method: o.method ?? "POST", headers: signed.headers as Record<string, string>, ...(o.method === "GET" ? {} : { body: text }) });
    const raw = await res.text();
    return { status: res.status, body: (raw ? JSON.parse(raw) : {}) as Json, text: raw };
  };

  const policyFor = (actions: string[]) => ({
    Version: "2012-10-17",
    Statement: [
      { Sid: "admins", Effect: "Allow", Principal: { Tether: "role:tenantAdmin" }, Action: "kms:*", Resource: "*" },
      ...(actions.length ? [{ Sid: "aws-kms", Effect: "Allow", Principal: { Tether: "xks-key-store.payments" }, Action: actions, Resource: "*" }] : []),
    ],
  });

  beforeAll(async () => {
    stack = await startFunctions({ operator: true });
    connector = await startConnector(stack);
    await waitForHealth(stack, (h) => h.status === "ok");
    const created = await api("POST", "/v1/xks-key-stores", { name: "payments", uriPathPrefix: prefix });
    expect(created.status).toBe(201);
    credential = created.body.credential as Credential;
    rememberSecrets(credential.secretAccessKey);
    keyStoreId = String((created.body.keyStore as Json).keyStoreId);
    for (const [name, actions] of [["both", ["kms:Encrypt", "kms:Decrypt"]], ["encryptOnly", ["kms:Encrypt"]], ["decryptOnly", ["kms:Decrypt"]], ["neither", []]] as const) {
      const key = await api("POST", "/v1/keys", { description: `xks ${name}`, policy: policyFor([...actions]) });
      expect(key.status).toBe(201);
      keys[name] = String((key.body.keyMetadata as Json).keyId);
    }
  });
  afterAll(async () => {
    await connector?.stop();
    await stack?.close();
  });

  it("health: a deep check through a connector, with the HSM behind it ACTIVE", async () => {
    const res = await xks("health", { requestMetadata: { kmsRequestId: randomUUID(), kmsOperation: "KmsHealthCheck" } });
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({ xksProxyFleetSize: 1, xksProxyVendor: "Tether", ekmFleetDetails: [{ healthStatus: "ACTIVE" }] });
    expect(res.text).not.toContain("\n");
  });

  it("metadata reports the usages the key store may make of each key", async () => {
    const usage = async (id: string) => (await xks(`keys/${id}/metadata`, { requestMetadata: meta("CreateKey") })).body;
    expect(await usage(keys.both)).toEqual({ keySpec: "AES_256", keyUsage: ["ENCRYPT", "DECRYPT"], keyStatus: "ENABLED" });
    expect(await usage(keys.encryptOnly)).toMatchObject({ keyUsage: ["ENCRYPT"] });
    expect(await usage(keys.decryptOnly)).toMatchObject({ keyUsage: ["DECRYPT"] });
    expect(await usage(keys.neither)).toMatchObject({ errorName: "AccessDeniedException" });
  });

  it("encrypts with AAD and an integrity value, decrypts; the wrong AAD, metadata or tag is InvalidCiphertextException", async () => {
    const plaintext = randomBytes(4300);
    const aad = randomBytes(8192);
    const enc = await xks(`keys/${keys.both}/encrypt`, { requestMetadata: meta("Encrypt"), plaintext: b64(plaintext), encryptionAlgorithm: "AES_GCM", additionalAuthenticatedData: b64(aad), ciphertextDataIntegrityValueAlgorithm: "SHA_256" });
    expect(enc.status).toBe(200);
    const out = enc.body as Record<string, string>;
    const bytes = (k: string) => Buffer.from(out[k] ?? "", "base64");
    expect(bytes("ciphertext")).toHaveLength(plaintext.length);
    expect(bytes("initializationVector")).toHaveLength(12);
    expect(bytes("authenticationTag")).toHaveLength(16);
    expect(bytes("ciphertextMetadata").length).toBeLessThanOrEqual(20);
    const cdiv = createHash("sha256").update(aad).update(bytes("ciphertextMetadata")).update(bytes("initializationVector")).update(bytes("ciphertext")).update(bytes("authenticationTag")).digest("base64");
    expect(out.ciphertextDataIntegrityValue).toBe(cdiv);
    const decrypt = (o: Record<string, unknown> = {}) =>
      xks(`keys/${keys.both}/decrypt`, { requestMetadata: meta("Decrypt"), encryptionAlgorithm: "AES_GCM", ciphertext: out.ciphertext, ciphertextMetadata: out.ciphertextMetadata, initializationVector: out.initializationVector, authenticationTag: out.authenticationTag, additionalAuthenticatedData: b64(aad), ...o });
    const dec = await decrypt();
    expect(dec.status).toBe(200);
    expect(Buffer.from(String(dec.body.plaintext), "base64").equals(plaintext)).toBe(true);
    const flipped = bytes("authenticationTag");
    flipped[0] = (flipped[0] ?? 0) ^ 1;
    for (const tampered of [{ additionalAuthenticatedData: b64("other") }, { additionalAuthenticatedData: undefined }, { authenticationTag: b64(flipped) }, { ciphertextMetadata: b64(Buffer.from("0100000002", "hex")) }, { ciphertextMetadata: undefined }]) {
      const res = await decrypt(tampered);
      expect(res.status, JSON.stringify(Object.keys(tampered))).toBe(400);
      expect(res.body.errorName).toBe("InvalidCiphertextException");
    }
  });

  it("a rotation between encrypt and decrypt changes nothing for what AWS stored: the metadata names the version", async () => {
    const enc = (await xks(`keys/${keys.both}/encrypt`, { requestMetadata: meta("GenerateDataKey"), plaintext: b64("before rotation"), encryptionAlgorithm: "AES_GCM" })).body as Record<string, string>;
    expect((await api("POST", `/v1/keys/${keys.both}/rotate`)).status).toBe(200);
    const after = (await xks(`keys/${keys.both}/encrypt`, { requestMetadata: meta("Encrypt"), plaintext: b64("after"), encryptionAlgorithm: "AES_GCM" })).body as Record<string, string>;
    expect(after.ciphertextMetadata).not.toBe(enc.ciphertextMetadata);
    const dec = await xks(`keys/${keys.both}/decrypt`, { requestMetadata: meta("Decrypt"), encryptionAlgorithm: "AES_GCM", ciphertext: enc.ciphertext, ciphertextMetadata: enc.ciphertextMetadata, initializationVector: enc.initializationVector, authenticationTag: enc.authenticationTag });
    expect(Buffer.from(String(dec.body.plaintext), "base64").toString()).toBe("before rotation");
  });

  it("a usage the key store does not have is InvalidKeyUsageException; a disabled key is InvalidStateException", async () => {
    const encrypt = (id: string, o: Record<string, unknown> = {}) => xks(`keys/${id}/encrypt`, { requestMetadata: meta("Encrypt"), plaintext: b64("x"), encryptionAlgorithm: "AES_GCM", ...o });
    const onlyEnc = (await encrypt(keys.encryptOnly)).body as Record<string, string>;
    expect(onlyEnc.ciphertext).toBeDefined();
    const dec = await xks(`keys/${keys.encryptOnly}/decrypt`, { requestMetadata: meta("Decrypt"), encryptionAlgorithm: "AES_GCM", ciphertext: onlyEnc.ciphertext, ciphertextMetadata: onlyEnc.ciphertextMetadata, initializationVector: onlyEnc.initializationVector, authenticationTag: onlyEnc.authenticationTag });
    expect([dec.status, dec.body.errorName]).toEqual([400, "InvalidKeyUsageException"]);
    expect((await encrypt(keys.encryptOnly, { ciphertextDataIntegrityValueAlgorithm: "SHA_256" })).body.errorName).toBe("InvalidKeyUsageException");
    expect((await encrypt(keys.decryptOnly)).body.errorName).toBe("InvalidKeyUsageException");
    expect((await encrypt(keys.neither)).body.errorName).toBe("InvalidKeyUsageException");

    expect((await api("POST", `/v1/keys/${keys.decryptOnly}/disable`)).status).toBe(200);
    expect((await xks(`keys/${keys.decryptOnly}/metadata`, { requestMetadata: meta("CreateKey") })).body).toMatchObject({ keyStatus: "DISABLED" });
    const disabled = await xks(`keys/${keys.decryptOnly}/decrypt`, { requestMetadata: meta("Decrypt"), encryptionAlgorithm: "AES_GCM", ciphertext: b64("x"), ciphertextMetadata: b64(Buffer.from("0100000001", "hex")), initializationVector: b64(randomBytes(12)), authenticationTag: b64(randomBytes(16)) });
    expect([disabled.status, disabled.body.errorName]).toEqual([400, "InvalidStateException"]);
  });

  it("secondary authorization: key policies test what AWS KMS says of the call (xks:* conditions); a condition unmet is AccessDeniedException", async () => {
    const policy = {
      Version: "2012-10-17",
      Statement: [
        { Sid: "admins", Effect: "Allow", Principal: { Tether: "role:tenantAdmin" }, Action: "kms:*", Resource: "*" },
        { Sid: "ebs", Effect: "Allow", Principal: { Tether: "xks-key-store.payments" }, Action: ["kms:Encrypt", "kms:Decrypt"], Resource: "*", Condition: { StringEquals: { "xks:KmsViaService": "ebs" } } },
        { Sid: "not-mallory", Effect: "Deny", Principal: { Tether: "xks-key-store.payments" }, Action: "kms:*", Resource: "*", Condition: { StringEquals: { "xks:AwsPrincipalArn": "arn:aws:iam::123456789012:user/Mallory" } } },
      ],
    };
    const id = String(((await api("POST", "/v1/keys", { policy })).body.keyMetadata as Json).keyId);
    const encrypt = (m: Record<string, unknown>) => xks(`keys/${id}/encrypt`, { requestMetadata: meta("Encrypt", m), plaintext: b64("x"), encryptionAlgorithm: "AES_GCM" });
    expect((await encrypt({ kmsViaService: "ebs" })).status).toBe(200);
    const viaS3 = await encrypt({ kmsViaService: "s3" });
    expect([viaS3.status, viaS3.body.errorName]).toEqual([403, "AccessDeniedException"]);
    const mallory = await encrypt({ kmsViaService: "ebs", awsPrincipalArn: "arn:aws:iam::123456789012:user/Mallory" });
    expect([mallory.status, mallory.body.errorName]).toEqual([403, "AccessDeniedException"]);
    // The usage the key has for the store, whatever this call's conditions.
    expect((await xks(`keys/${id}/metadata`, { requestMetadata: meta("CreateKey") })).body).toMatchObject({ keyUsage: ["ENCRYPT", "DECRYPT"] });
  });

  it("answers the spec's errors: unknown prefix or path 404, GET 405, bad signature 401, bad input 400, too large 501; unknown operations and fields pass", async () => {
    const health = { requestMetadata: { kmsRequestId: randomUUID(), kmsOperation: "KmsHealthCheck" } };
    const expectError = (res: { status: number; body: Json }, status: number, name: string) => {
      expect([res.status, res.body.errorName]).toEqual([status, name]);
      expect(res.body.errorMessage).toMatch(/^[\x20-\x7e]{0,511}$/);
    };
    expectError(await xks("health", health, { pathPrefix: "tether/unknown" }), 404, "InvalidUriPathException");
    expectError(await xks("keys", health), 404, "InvalidUriPathException");
    expectError(await xks("health", "", { method: "GET" }), 405, "MethodNotAllowed");
    expectError(await xks("health", health, { cred: { ...credential, secretAccessKey: `Invalid${credential.secretAccessKey}` } }), 401, "AuthenticationFailedException");
    expectError(await xks("health", health, { cred: { ...credential, accessKeyId: "TTHAAAAAAAAAAAAAAAAAAAAA" } }), 401, "AuthenticationFailedException");
    expectError(await xks("health", health, { date: new Date(Date.now() - 10 * 60_000) }), 401, "AuthenticationFailedException");
    expectError(await xks("health", {}), 400, "ValidationException");
    expectError(await xks("health", { requestMetadata: {} }), 400, "ValidationException");
    expectError(await xks("health", "{not json"), 400, "ValidationException");
    expectError(await xks(`keys/${keys.both}/encrypt`, { requestMetadata: meta("Encrypt"), encryptionAlgorithm: "AES_GCM" }), 400, "ValidationException");
    expectError(await xks(`keys/${keys.both}/encrypt`, { requestMetadata: meta("Encrypt"), plaintext: "a-b_", encryptionAlgorithm: "AES_GCM" }), 400, "ValidationException");
    expectError(await xks(`keys/${keys.both}/encrypt`, { requestMetadata: meta("Encrypt"), plaintext: b64(randomBytes(8193)), encryptionAlgorithm: "AES_GCM" }), 501, "UnsupportedOperationException");
    expectError(await xks(`keys/${randomUUID()}/metadata`, { requestMetadata: meta("CreateKey") }), 404, "KeyNotFoundException");
    const tolerant = await xks(`keys/${keys.both}/encrypt`, { requestMetadata: meta("SomeFutureOperation", { kmsViaService: "ebs", newField: { nested: true } }), plaintext: b64("x"), encryptionAlgorithm: "AES_GCM", somethingNew: 1 });
    expect(tolerant.status).toBe(200);
  });

  it("attack: another tenant's key store cannot reach this tenant's keys, nor sign for this store", async () => {
    const tenant = await api("POST", "/v1/tenants", { name: "Co-tenant" });
    const otherAdmin = String(tenant.body.adminToken);
    rememberSecrets(otherAdmin);
    const theirs = await api("POST", "/v1/xks-key-stores", { name: "payments", uriPathPrefix: "other/tenant" }, otherAdmin);
    expect(theirs.status).toBe(201);
    const theirCredential = theirs.body.credential as Credential;
    rememberSecrets(theirCredential.secretAccessKey);
    // Their store, naming our key: not found (the key is looked up in their tenant only).
    expect((await xks(`keys/${keys.both}/metadata`, { requestMetadata: meta("CreateKey") }, { cred: theirCredential, pathPrefix: "other/tenant" })).body.errorName).toBe("KeyNotFoundException");
    // Their credential, on our store's path: not our store's credential.
    expect((await xks("health", { requestMetadata: { kmsRequestId: "r", kmsOperation: "KmsHealthCheck" } }, { cred: theirCredential })).body.errorName).toBe("AuthenticationFailedException");
    // A KMS API access key cannot sign for the XKS door, nor an XKS credential for the KMS API.
    const kmsKey = (await api("POST", "/v1/access-keys", { principalId: "admin" })).body.accessKey as Credential;
    rememberSecrets(kmsKey.secretAccessKey);
    expect((await xks("health", { requestMetadata: { kmsRequestId: "r", kmsOperation: "KmsHealthCheck" } }, { cred: kmsKey })).body.errorName).toBe("AuthenticationFailedException");
  });

  it("attack (review): a long or deep path costs no routing time and is 404; bad percent-encoding is 401; reserved prefixes are refused", async () => {
    const health = { requestMetadata: { kmsRequestId: randomUUID(), kmsOperation: "KmsHealthCheck" } };
    // 8,000 segments before /kms/xks/v1: split once, refused by length (a prefix pattern made routing quadratic in segments).
    const deep = await fetch(`${stack.url}/${"a/".repeat(8000)}kms/xks/v1/health`, { method: "POST", body: JSON.stringify(health) });
    expect([deep.status, ((await deep.json()) as Json).errorName]).toEqual([404, "InvalidUriPathException"]);
    // A prefix longer than any key store's: no lookup (DynamoDB refuses keys over 2 KB: that was a 500).
    const long = await fetch(`${stack.url}/${"a".repeat(2100)}/kms/xks/v1/health`, { method: "POST", body: JSON.stringify(health) });
    expect([long.status, ((await long.json()) as Json).errorName]).toEqual([404, "InvalidUriPathException"]);
    const badEncoding = await xks("keys/%ZZ/metadata", { requestMetadata: meta("CreateKey") });
    expect([badEncoding.status, badEncoding.body.errorName]).toEqual([401, "AuthenticationFailedException"]);
    for (const uriPathPrefix of ["v1", "kms/xks/v1", "team/kms/xks/v1", "", "a//b", "/lead"]) {
      expect((await api("POST", "/v1/xks-key-stores", { name: "reserved", uriPathPrefix })).body.__type, uriPathPrefix).toBe("ValidationException");
    }
    // An XKS credential is its key store's to revoke (the general API would leave the XKS door's cache holding it).
    expect((await api("DELETE", `/v1/access-keys/${credential.accessKeyId}`)).body.__type).toBe("ValidationException");
    expect((await api("DELETE", "/v1/principals/xks-key-store.payments")).body.__type).toBe("ValidationException");
    expect((await xks("health", health)).status).toBe(200);
  });

  it("attack: without a valid signature, a store's prefix and an unknown one answer alike (no probing for prefixes)", async () => {
    const health = JSON.stringify({ requestMetadata: { kmsRequestId: randomUUID(), kmsOperation: "KmsHealthCheck" } });
    const unsigned = async (pathPrefix: string) => {
      const res = await fetch(`${stack.url}/${pathPrefix}/kms/xks/v1/health`, { method: "POST", headers: { "content-type": "application/json" }, body: health });
      return [res.status, ((await res.json()) as Json).errorName];
    };
    const forged = async (pathPrefix: string) => {
      // A made-up key id (a real one would be locked out after five failures, see the throttle tests).
      const res = await xks("health", health, { pathPrefix, cred: { accessKeyId: "TTHPROBEPROBEPROBEPROBE2", secretAccessKey: credential.secretAccessKey } });
      return [res.status, res.body.errorName];
    };
    expect(await unsigned(prefix)).toEqual([401, "AuthenticationFailedException"]);
    expect(await unsigned("tether/nobody-here")).toEqual([401, "AuthenticationFailedException"]);
    expect(await forged(prefix)).toEqual([401, "AuthenticationFailedException"]);
    expect(await forged("tether/nobody-here")).toEqual([401, "AuthenticationFailedException"]);
  });

  it("two credentials: the second works at once, the first stops when deleted; a third is refused", async () => {
    const added = await api("POST", `/v1/xks-key-stores/${keyStoreId}/credentials`);
    expect(added.status).toBe(201);
    const second = added.body.credential as Credential;
    rememberSecrets(second.secretAccessKey);
    const health = () => ({ requestMetadata: { kmsRequestId: randomUUID(), kmsOperation: "KmsHealthCheck" } });
    expect((await xks("health", health(), { cred: second })).status).toBe(200);
    expect((await api("POST", `/v1/xks-key-stores/${keyStoreId}/credentials`)).body.__type).toBe("LimitExceededException");
    expect((await api("DELETE", `/v1/xks-key-stores/${keyStoreId}/credentials/${credential.accessKeyId}`)).status).toBe(200);
    expect((await xks("health", health())).body.errorName).toBe("AuthenticationFailedException");
    expect((await xks("health", health(), { cred: second })).status).toBe(200);
    credential = second;
  });

  it("every call is audited with what AWS KMS said of it", async () => {
    const requestId = randomUUID();
    await xks(`keys/${keys.both}/encrypt`, { requestMetadata: { ...meta("Encrypt"), kmsRequestId: requestId }, plaintext: b64("audited"), encryptionAlgorithm: "AES_GCM" });
    const records = (await api("GET", "/v1/audit/records?action=xks:Encrypt")).body.records as Json[];
    const record = records.find((r) => (r.xks as Json | undefined)?.kmsRequestId === requestId);
    expect(record).toMatchObject({ action: "xks:Encrypt", keyId: keys.both, principalId: "xks-key-store.payments", result: "ok", xks: { kmsOperation: "Encrypt", awsPrincipalArn: "arn:aws:iam::123456789012:user/Alice" } });
    expect(JSON.stringify(record)).not.toContain(b64("audited"));
  });

  it("curl --aws-sigv4 (as the official test client signs: content-type;host;x-amz-date) round-trips", async () => {
    const run = promisify(execFile);
    const curl = async (path: string, body: unknown) => {
      const { stdout } = await run("curl", ["--silent", "-H", "Content-Type:application/json", "--aws-sigv4", "aws:amz:us-east-1:kms-xks-proxy", "--user", `${credential.accessKeyId}:${credential.secretAccessKey}`, "--data-binary", JSON.stringify(body), `${stack.url}/${prefix}/kms/xks/v1/${path}`]);
      return JSON.parse(stdout) as Record<string, string>;
    };
    const enc = await curl(`keys/${keys.both}/encrypt`, { requestMetadata: meta("Encrypt"), plaintext: b64("Hello World!"), encryptionAlgorithm: "AES_GCM" });
    const dec = await curl(`keys/${keys.both}/decrypt`, { requestMetadata: meta("Decrypt"), encryptionAlgorithm: "AES_GCM", ciphertext: enc.ciphertext, ciphertextMetadata: enc.ciphertextMetadata, initializationVector: enc.initializationVector, authenticationTag: enc.authenticationTag });
    expect(Buffer.from(dec.plaintext ?? "", "base64").toString()).toBe("Hello World!");
  });
});
