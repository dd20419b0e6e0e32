import { execFile } from "node:child_process";
import { constants, createPublicKey, generateKeyPairSync, publicEncrypt, randomBytes, randomUUID, sign } from "node:crypto";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import { UpdateItemCommand } from "@aws-sdk/client-dynamodb";
import { marshall } from "@aws-sdk/util-dynamodb";
import { DecryptCommand, DescribeKeyCommand, EncryptCommand, GenerateDataKeyCommand, KMSClient } from "@aws-sdk/client-kms";
import WebSocket from "ws";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { loadFunctionsConfig, type FunctionsConfig } from "../../functions/config.js";
import { createDynamoClient } from "../../functions/db/dynamo-store.js";
import { buildHubEvents } from "../../functions/deps.js";
import { createHubHandler } from "../../functions/tunnel/apigw-events.js";
import { DynamoIdentityStore } from "../../functions/identity/dynamo-store.js";
import { DynamoHubStore } from "../../functions/tunnel/dynamo-hub-store.js";
import { bundleForNode, LAMBDA_ENTRIES, type LambdaName } from "../../infra/aws/bundle.js";
import { TABLE_ACTIONS } from "../../infra/aws/iam-actions.js";
import { runAdmin } from "../../infra/admin.js";
import { randomTenantId } from "../../infra/local/bootstrap.js";
import { waitFor } from "../../infra/local/processes.js";
import { decodeHeader } from "../../shared/crypto/envelope.js";
import { createLogger } from "../../shared/log.js";
import { challengeMessage, PROTOCOL_VERSION } from "../../shared/protocol/frames.js";
import { startHttpApi, startWebSocketApi, type HttpHandler, type WebSocketApi } from "../support/apigw-emulator.js";
import { recordDynamo, type DynamoRecorder } from "../support/dynamo-recorder.js";
import { rememberOutput, rememberSecrets } from "../support/leak-ledger.js";
import { accessKeyFor, backends, freshTables, startConnector, type ConnectorProcess } from "../support/stack.js";

type Json = Record<string, unknown> & { keyMetadata?: { keyId: string; keyState: string }; ciphertextBlob?: string; plaintext?: string; __type?: string };
type Caller = (method: string, path: string, body?: unknown) => Promise<{ status: number; body: Json }>;

const b64 = (s: string) => Buffer.from(s).toString("base64");
const text = (b: unknown) => Buffer.from(b as string, "base64").toString();

const METADATA_TTL_MS = 500;
const REQUEST_TIMEOUT_MS = 5_000;

describe("serverless: the Lambda handlers behind emulated API Gateway HTTP and WebSocket APIs (apigw transport)", () => {
  let tableName: string;
  let tenant: string;
  let config: FunctionsConfig;
  let wsApi: WebSocketApi;
  const httpApis: { url: string; close(): Promise<void> }[] = [];
  let connector: ConnectorProcess;
  let adminToken: string;
  const db = () => createDynamoClient({ region: "us-east-1", endpoint: backends().dynamoEndpoint });
  const callerFor = (url: string): Caller => async (method, path, body) => {
    const res = await fetch(`${url}${path}`, {
      method,
      headers: { authorization: `Bearer ${adminToken}`, "content-type": "application/json" },
      ...(method === "GET" ? {} : { body: JSON.stringify(body ?? {}) }),
    });
    return { status: res.status, body: (await res.json()) as Json };
  };
  let a: Caller;
  let b: Caller;
  /** Each function's DynamoDB traffic goes through its own recorder: what it calls must be what infra/aws grants it. */
  const recorders = {} as Record<LambdaName, DynamoRecorder>;

  beforeAll(async () => {
    for (const fn of Object.keys(LAMBDA_ENTRIES) as LambdaName[]) recorders[fn] = await recordDynamo(backends().dynamoEndpoint);
    tableName = await freshTables();
    tenant = randomTenantId();
    let hub: (event: Record<string, unknown>) => Promise<{ statusCode: number }> = async () => ({ statusCode: 503 });
    wsApi = await startWebSocketApi((event) => hub(event));
    // What SST sets on the functions, and the credentials of the function's role.
    Object.assign(process.env, {
      TETHER_TABLE: tableName,
      TETHER_FUNCTIONS_IDENTITY_KEY_FILE: backends().functionsIdentity.keyFile,
      TETHER_DYNAMO_ENDPOINT: backends().dynamoEndpoint,
      TETHER_HUB_ENDPOINT: wsApi.managementEndpoint,
      TETHER_METADATA_TTL_MS: String(METADATA_TTL_MS),
      TETHER_REQUEST_TIMEOUT_MS: String(REQUEST_TIMEOUT_MS),
      TETHER_OPERATOR_TENANT: tenant,
      TETHER_LOG_LEVEL: "warn",
      AWS_ACCESS_KEY_ID: "ASIAFUNCTIONROLE",
      AWS_SECRET_ACCESS_KEY: "function-role-secret",
    });
    config = loadFunctionsConfig();
    const through = (fn: LambdaName) => loadFunctionsConfig({ ...process.env, TETHER_DYNAMO_ENDPOINT: recorders[fn].endpoint });
    const log = createLogger({ name: "lambda", level: "debug", destination: { write: (line) => rememberOutput("lambda", line) } });
    hub = createHubHandler(buildHubEvents(through("hub"), log));
    const { createHttpHandler } = await import("../../functions/lambda.js");
    // Two instances of the HTTP function, each with its own caches, as Lambda runs them.
    for (let i = 0; i < 2; i++) {
      const handle = createHttpHandler(through("http"), log);
      httpApis.push(await startHttpApi((event) => handle(event as never) as ReturnType<HttpHandler>));
    }
    a = callerFor(httpApis[0]?.url as string);
    b = callerFor(httpApis[1]?.url as string);
    // The operator bootstraps the stage's first admin with the admin CLI, as on AWS.
    const printed: string[] = [];
    await runAdmin(["bootstrap", "--table", tableName, "--tenant", tenant, "--endpoint", backends().dynamoEndpoint], (line) => printed.push(line));
    adminToken = printed.at(-1) as string;
    rememberSecrets(adminToken);
    const identity = new DynamoIdentityStore(db(), tableName);
    connector = await startConnector({ identity, hubUrl: wsApi.wsUrl, tableName }, "apigw-1", { TETHER_MAX_IN_FLIGHT: "512" });
    await waitFor(async () => expect(((await a("GET", "/v1/health")).body as { hsm?: { status?: string } }).hsm?.status).toBe("up"), { timeoutMs: 30_000, what: "the connector through the emulated API Gateway", intervalMs: 100 });
  });
  afterAll(async () => {
    await connector?.stop();
    for (const api of httpApis) await api.close();
    await wsApi?.close();
    for (const r of Object.values(recorders)) await r.close();
  });

  it("a connector authenticates through the WebSocket API and is registered ready in DynamoDB", async () => {
    const client = db();
    const connections = await new DynamoHubStore(client, tableName).listConnections();
    expect(connections.map((c) => [c.connectorId, c.state])).toEqual([["apigw-1", "ready"]]);
    expect(connections[0]?.connectionId).toBe(wsApi.connectionIds()[0]);
    const health = (await a("GET", "/v1/health")).body as { status: string; hsm: { connectors: number; rootKeyOk: boolean } };
    expect(health).toMatchObject({ status: "ok", hsm: { connectors: 1, rootKeyOk: true } });
    expect(wsApi.unsigned()).toBe(0);
    client.destroy();
  });

  it("every crypto path works end to end through the apigw transport", async () => {
    // Symmetric: a cold key on instance B unwraps through API Gateway.
    const keyId = (await a("POST", "/v1/keys", { description: "apigw" })).body.keyMetadata?.keyId as string;
    rememberSecrets("through the relay");
    const blob = (await a("POST", `/v1/keys/${keyId}/encrypt`, { plaintext: b64("through the relay"), encryptionContext: { app: "x" } })).body.ciphertextBlob;
    expect(text((await b("POST", "/v1/decrypt", { ciphertextBlob: blob, encryptionContext: { app: "x" } })).body.plaintext)).toBe("through the relay");
    expect((await b("POST", "/v1/decrypt", { ciphertextBlob: blob, encryptionContext: { app: "y" } })).body.__type).toBe("InvalidCiphertextException");

    const dataKey = (await a("POST", `/v1/keys/${keyId}/generate-data-key`, { keySpec: "AES_256" })).body;
    rememberSecrets(dataKey.plaintext as string);
    expect(Buffer.from(dataKey.plaintext as string, "base64")).toHaveLength(32);
    expect((await b("POST", "/v1/decrypt", { ciphertextBlob: dataKey.ciphertextBlob })).body.plaintext).toBe(dataKey.plaintext);
    expect((await a("POST", `/v1/keys/${keyId}/generate-data-key-without-plaintext`, { keySpec: "AES_256" })).body.plaintext).toBeUndefined();
    const pair = await a("POST", `/v1/keys/${keyId}/generate-data-key-pair`, { keyPairSpec: "ECC_NIST_P256" });
    expect(pair.status).toBe(200);
    rememberSecrets(pair.body.privateKeyPlaintext as string);

    const rotated = await a("POST", `/v1/keys/${keyId}/rotate`);
    expect(rotated.status).toBe(200);
    const other = (await a("POST", "/v1/keys")).body.keyMetadata?.keyId as string;
    const re = await a("POST", "/v1/re-encrypt", { ciphertextBlob: blob, sourceEncryptionContext: { app: "x" }, destinationKeyId: other });
    expect(re.status).toBe(200);
    expect(text((await b("POST", "/v1/decrypt", { ciphertextBlob: re.body.ciphertextBlob })).body.plaintext)).toBe("through the relay");

    // Asymmetric and HMAC keys: private material generated in software, wrapped by the HSM through the relay.
    const signer = (await a("POST", "/v1/keys", { keySpec: "ECC_NIST_P256", keyUsage: "SIGN_VERIFY" })).body.keyMetadata?.keyId as string;
    const sig = await b("POST", `/v1/keys/${signer}/sign`, { message: b64("m"), signingAlgorithm: "ECDSA_SHA_256" });
    expect((await a("POST", `/v1/keys/${signer}/verify`, { message: b64("m"), signature: sig.body.signature, signingAlgorithm: "ECDSA_SHA_256" })).body.signatureValid).toBe(true);
    const mac = (await a("POST", "/v1/keys", { keySpec: "HMAC_256" })).body.keyMetadata?.keyId as string;
    const tag = await b("POST", `/v1/keys/${mac}/generate-mac`, { message: b64("m"), macAlgorithm: "HMAC_SHA_256" });
    expect((await a("POST", `/v1/keys/${mac}/verify-mac`, { message: b64("m"), mac: tag.body.mac, macAlgorithm: "HMAC_SHA_256" })).body.macValid).toBe(true);

    // BYOK: the import token's private key is wrapped and unwrapped by the HSM through the relay.
    const imported = (await a("POST", "/v1/keys", { origin: "EXTERNAL" })).body.keyMetadata?.keyId as string;
    const params = (await a("POST", `/v1/keys/${imported}/import-parameters`)).body as { publicKey: string; importToken: string };
    const material = randomBytes(32);
    rememberSecrets(material.toString("base64"));
    const wrapKey = createPublicKey({ key: Buffer.from(params.publicKey, "base64"), format: "der", type: "spki" });
    const encryptedKeyMaterial = publicEncrypt({ key: wrapKey, padding: constants.RSA_PKCS1_OAEP_PADDING, oaepHash: "sha256" }, material).toString("base64");
    expect((await b("POST", `/v1/keys/${imported}/import`, { importToken: params.importToken, encryptedKeyMaterial })).body.keyMetadata?.keyState).toBe("Enabled");

    // HSM-resident keys: every operation proxied to the connector.
    const label = `apigw-${randomBytes(3).toString("hex")}`;
    expect((await a("POST", "/v1/hsm-keys", { label, keySpec: "AES_256" })).status).toBe(201);
    const hsmBlob = (await a("POST", `/v1/hsm-keys/hsm::0::${label}/encrypt`, { plaintext: b64("inside"), encryptionContext: { a: "1" } })).body.ciphertextBlob;
    expect(text((await b("POST", `/v1/hsm-keys/hsm::0::${label}/decrypt`, { ciphertextBlob: hsmBlob, encryptionContext: { a: "1" } })).body.plaintext)).toBe("inside");
    expect((await a("DELETE", `/v1/hsm-keys/hsm::0::${label}`)).status).toBe(200);
    const random = await b("POST", "/v1/random", { numberOfBytes: 64 });
    expect(Buffer.from(random.body.plaintext as string, "base64")).toHaveLength(64);
  });

  it("AWS KMS protocol: @aws-sdk/client-kms with SigV4 against the HTTP API's Lambda", async () => {
    const credentials = await accessKeyFor({ url: httpApis[0]?.url as string, adminToken });
    const kms = new KMSClient({ region: config.region, endpoint: httpApis[1]?.url as string, credentials });
    const keyId = (await a("POST", "/v1/keys")).body.keyMetadata?.keyId as string;
    expect((await kms.send(new DescribeKeyCommand({ KeyId: keyId }))).KeyMetadata?.KeyState).toBe("Enabled");
    rememberSecrets("sdk through lambda");
    const enc = await kms.send(new EncryptCommand({ KeyId: keyId, Plaintext: Buffer.from("sdk through lambda"), EncryptionContext: { k: "v" } }));
    const dec = await kms.send(new DecryptCommand({ CiphertextBlob: enc.CiphertextBlob, EncryptionContext: { k: "v" } }));
    expect(Buffer.from(dec.Plaintext as Uint8Array).toString()).toBe("sdk through lambda");
    const dk = await kms.send(new GenerateDataKeyCommand({ KeyId: keyId, KeySpec: "AES_256" }));
    rememberSecrets(Buffer.from(dk.Plaintext as Uint8Array).toString("base64"));
    expect(dk.Plaintext).toHaveLength(32);
    kms.destroy();
  });

  it("XKS proxy API through the HTTP API's Lambda: encrypt on one instance, decrypt on the other (curl --aws-sigv4, as AWS's test client signs)", async () => {
    const store = await a("POST", "/v1/xks-key-stores", { name: "lambda", uriPathPrefix: "lambda/xks" });
    expect(store.status).toBe(201);
    const cred = store.body.credential as { accessKeyId: string; secretAccessKey: string };
    rememberSecrets(cred.secretAccessKey);
    const policy = { Version: "2012-10-17", Statement: [{ Effect: "Allow", Principal: { Tether: "role:tenantAdmin" }, Action: "kms:*", Resource: "*" }, { Effect: "Allow", Principal: { Tether: "xks-key-store.lambda" }, Action: ["kms:Encrypt", "kms:Decrypt"], Resource: "*" }] };
    const keyId = (await a("POST", "/v1/keys", { policy })).body.keyMetadata?.keyId as string;
    const run = promisify(execFile);
    const xks = async (url: string, op: string, body: Record<string, unknown>) => {
      const requestMetadata = { kmsRequestId: randomUUID(), kmsOperation: op, awsPrincipalArn: "arn:aws:iam::123456789012:user/Alice", kmsKeyArn: "arn:aws:kms:us-east-2:123456789012:key/x" };
      const { stdout } = await run("curl", ["--silent", "-H", "Content-Type:application/json", "--aws-sigv4", "aws:amz:us-east-2:kms-xks-proxy", "--user", `${cred.accessKeyId}:${cred.secretAccessKey}`, "--data-binary", JSON.stringify({ requestMetadata, ...body }), `${url}/lambda/xks/kms/xks/v1/keys/${keyId}/${op.toLowerCase()}`]);
      return JSON.parse(stdout) as Record<string, string>;
    };
    const enc = await xks(httpApis[1]?.url as string, "Encrypt", { plaintext: Buffer.from("xks through lambda").toString("base64"), encryptionAlgorithm: "AES_GCM", ciphertextDataIntegrityValueAlgorithm: "SHA_256" });
    expect(enc.ciphertextDataIntegrityValue).toBeDefined();
    const dec = await xks(httpApis[0]?.url as string, "Decrypt", { encryptionAlgorithm: "AES_GCM", ciphertext: enc.ciphertext, ciphertextMetadata: enc.ciphertextMetadata, initializationVector: enc.initializationVector, authenticationTag: enc.authenticationTag });
    expect(Buffer.from(dec.plaintext ?? "", "base64").toString()).toBe("xks through lambda");
  });

  it("a second instance sees a Disable and a rotation within the metadata TTL (no process-local state decides)", async () => {
    const keyId = (await a("POST", "/v1/keys")).body.keyMetadata?.keyId as string;
    const versionOf = (r: { body: Json }) => decodeHeader(Buffer.from(r.body.ciphertextBlob as string, "base64")).version;
    expect(versionOf(await b("POST", `/v1/keys/${keyId}/encrypt`, { plaintext: b64("x") }))).toBe(1);
    // Each change is seen by the other instance within the metadata TTL (and a margin for 2 busy cores).
    const withinTtl = async (seen: () => Promise<void>, what: string) => {
      const changedAt = Date.now();
      await waitFor(seen, { timeoutMs: 10 * METADATA_TTL_MS, what, intervalMs: 20 });
      expect(Date.now() - changedAt).toBeLessThan(METADATA_TTL_MS + 1_000);
    };
    expect((await a("POST", `/v1/keys/${keyId}/rotate`)).status).toBe(200);
    await withinTtl(async () => expect(versionOf(await b("POST", `/v1/keys/${keyId}/encrypt`, { plaintext: b64("x") }))).toBe(2), "the rotation on the other instance");
    expect((await a("POST", `/v1/keys/${keyId}/disable`)).status).toBe(200);
    await withinTtl(async () => expect((await b("POST", `/v1/keys/${keyId}/encrypt`, { plaintext: b64("x") })).body.__type).toBe("DisabledException"), "the Disable on the other instance");
  });

  it("peers that do not prove who they are never become ready; malformed events get a 400", async () => {
    const open = async () => {
      const ws = new WebSocket(wsApi.wsUrl);
      const frames: Record<string, unknown>[] = [];
      const closed = new Promise<number>((resolve) => ws.once("close", resolve));
      ws.on("message", (d) => frames.push(JSON.parse(d.toString()) as Record<string, unknown>));
      await new Promise((resolve) => ws.once("open", resolve));
      return { ws, frames, closed };
    };
    const garbage = await open();
    garbage.ws.send("{not json");
    expect(await garbage.closed).toBeGreaterThan(0);
    expect(garbage.frames[0]).toMatchObject({ type: "protocolError", code: "MalformedFrame" });

    const forger = await open();
    forger.ws.send(JSON.stringify({ type: "greet", v: PROTOCOL_VERSION }));
    await waitFor(async () => expect(forger.frames.some((f) => f.type === "challenge")).toBe(true), { timeoutMs: 5_000, what: "the hub's challenge", intervalMs: 10 });
    const nonce = forger.frames.find((f) => f.type === "challenge")?.nonce as string;
    const { privateKey } = generateKeyPairSync("ed25519");
    const sealingKey = randomBytes(32).toString("base64");
    forger.ws.send(JSON.stringify({ type: "auth", v: PROTOCOL_VERSION, connectorId: "apigw-1", sealingKey, signature: sign(null, challengeMessage(nonce, "apigw-1", sealingKey), privateKey).toString("base64") }));
    await forger.closed;
    expect(forger.frames.at(-1)).toMatchObject({ type: "protocolError", code: "Unauthorized" });

    const client = db();
    // The forgers' $disconnect removes their records: only the real connector stays, ready.
    await waitFor(async () => expect((await new DynamoHubStore(client, tableName).listConnections()).map((c) => [c.connectorId, c.state])).toEqual([["apigw-1", "ready"]]), { timeoutMs: 5_000, what: "the forgers' records to go" });
    client.destroy();
    const { handler } = await import("../../functions/lambda-hub.js");
    expect(await handler({ requestContext: { eventType: "MESSAGE" } })).toMatchObject({ statusCode: 400 });

    // Registering a connector takes an Ed25519 public key and nothing else.
    const dir = mkdtempSync(join(tmpdir(), "tether-admin-"));
    writeFileSync(join(dir, "rsa.pub.pem"), generateKeyPairSync("rsa", { modulusLength: 2048 }).publicKey.export({ type: "spki", format: "pem" }));
    const register = (file: string) => runAdmin(["register-connector", "--table", tableName, "--endpoint", backends().dynamoEndpoint, "--id", "intruder", "--public-key", file], () => undefined);
    await expect(register(join(dir, "rsa.pub.pem"))).rejects.toThrow("connectors authenticate with Ed25519 keys");
    await expect(register(join(dir, "missing.pem"))).rejects.toThrow("cannot read the file");
    rmSync(dir, { recursive: true, force: true });
  });

  it("the sweeper destroys a key past its deletion window, rotates one whose period is due, and removes a destroyed key's grants", async () => {
    const doomed = (await a("POST", "/v1/keys")).body.keyMetadata?.keyId as string;
    expect((await a("POST", `/v1/keys/${doomed}/grants`, { granteePrincipal: "batch", operations: ["Encrypt"] })).status).toBe(201);
    expect((await a("POST", `/v1/keys/${doomed}/schedule-deletion`, { pendingWindowInDays: 7 })).status).toBe(200);
    const rotating = (await a("POST", "/v1/keys", { rotationPeriodDays: 90 })).body.keyMetadata?.keyId as string;
    // Time passes: move both dates into the past, as DynamoDB would hold them days later.
    const client = db();
    const past = new Date(Date.now() - 1000).toISOString();
    for (const [keyId, field] of [
      [doomed, "deletionDate"],
      [rotating, "nextRotationAt"],
    ] as const) {
      await client.send(
        new UpdateItemCommand({
          TableName: tableName,
          Key: marshall({ pk: `KEY#${tenant}#${keyId}`, sk: "META" }),
          UpdateExpression: "SET #f = :past",
          ConditionExpression: "attribute_exists(pk)",
          ExpressionAttributeNames: { "#f": field },
          ExpressionAttributeValues: marshall({ ":past": past }),
        }),
      );
    }
    client.destroy();
    // The sweeper's module reads its configuration from the environment when it loads.
    const shared = process.env.TETHER_DYNAMO_ENDPOINT;
    process.env.TETHER_DYNAMO_ENDPOINT = recorders.sweeper.endpoint;
    const { handler } = await import("../../functions/lambda-sweeper.js");
    process.env.TETHER_DYNAMO_ENDPOINT = shared;
    const report = await handler();
    expect(report.destroyed).toContain(doomed);
    expect(report.rotated).toContain(rotating);
    expect(report.grantsRemoved).toBeGreaterThanOrEqual(1);
    expect(report.failed).toEqual([]);
    expect((await a("GET", `/v1/keys/${doomed}`)).body.keyMetadata?.keyState).toBe("Destroyed");
    expect(((await a("GET", `/v1/keys/${rotating}/versions`)).body.versions as { version: number }[]).map((v) => v.version)).toEqual([1, 2]);
    // A second run finds nothing more to do.
    const again = await handler();
    expect([again.destroyed, again.rotated, again.grantsRemoved]).toEqual([[], [], 0]);
  });

  it("the deployable bundles (esbuild, as SST ships them) load in a fresh Node process and serve", async () => {
    const dir = mkdtempSync(join(tmpdir(), "tether-bundle-"));
    try {
      // What the Lambda runtime does: import the module, then call its handler with an event.
      const invoke = async (entry: string, event: unknown) => {
        const { file } = await bundleForNode(entry, dir);
        const script = `const { handler } = await import(${JSON.stringify(file)}); process.stdout.write(JSON.stringify(await handler(${JSON.stringify(event)})));`;
        const { stdout } = await promisify(execFile)(process.execPath, ["--input-type=module", "-e", script], { env: { ...process.env, TETHER_LOG_LEVEL: "error" }, timeout: 30_000 });
        return JSON.parse(stdout) as { statusCode: number; body?: string };
      };
      const health = await invoke(LAMBDA_ENTRIES.http, {
        version: "2.0",
        routeKey: "$default",
        rawPath: "/health",
        rawQueryString: "",
        headers: { host: "api.example.com" },
        requestContext: { http: { method: "GET", path: "/health", protocol: "HTTP/1.1", sourceIp: "192.0.2.1", userAgent: "test" }, requestId: "r1", routeKey: "$default", stage: "$default", timeEpoch: Date.now() },
        isBase64Encoded: false,
      });
      expect(health.statusCode).toBe(200);
      expect(JSON.parse(health.body ?? "{}")).toEqual({ status: "ok", dynamodb: { status: "up" }, hsm: { status: "up" } });
      expect(await invoke(LAMBDA_ENTRIES.hub, { requestContext: { eventType: "MESSAGE" } })).toMatchObject({ statusCode: 400 });
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it("killing the connector mid-request fails the requests in flight with HsmUnavailable within their deadline", async () => {
    const label = `kill-${randomBytes(3).toString("hex")}`;
    expect((await a("POST", "/v1/hsm-keys", { label, keySpec: "RSA_3072", keyUsage: "SIGN_VERIFY" })).status).toBe(201);
    let answered = 0;
    // Each request timed from its own start: its deadline runs from there, not from the first one's.
    const inFlight = Array.from({ length: 150 }, (_, i) => {
      const sent = Date.now();
      return (i % 2 ? a : b)("POST", `/v1/hsm-keys/hsm::0::${label}/sign`, { message: b64(`m${i}`), signingAlgorithm: "RSASSA_PSS_SHA_256" }).then((r) => {
        answered += 1;
        return { ...r, ms: Date.now() - sent };
      });
    });
    // Mid-request: once the first answers are back, most are still in flight.
    await waitFor(async () => expect(answered).toBeGreaterThan(0), { timeoutMs: REQUEST_TIMEOUT_MS, what: "the first answers", intervalMs: 5 });
    connector.child.kill("SIGKILL");
    const results = await Promise.all(inFlight);
    const failed = results.filter((r) => r.status !== 200);
    expect(failed.length).toBeGreaterThan(0);
    expect(new Set(failed.map((r) => r.body.__type))).toEqual(new Set(["HsmUnavailableException"]));
    // Ended by their deadline, give or take the answer's way back through the emulated API Gateway on 2 busy cores (as in test/faults).
    expect(Math.max(...results.map((r) => r.ms))).toBeLessThan(REQUEST_TIMEOUT_MS + 1_000);
    // With no connector left, a new HSM call fails fast.
    const t0 = Date.now();
    expect((await a("POST", "/v1/random", { numberOfBytes: 8 })).body.__type).toBe("HsmUnavailableException");
    expect(Date.now() - t0).toBeLessThan(1_000);
  });

  // Last: by now every function has served its part of the suite above.
  it("every DynamoDB action each function called is granted to it in infra/aws (least privilege holds in practice)", () => {
    for (const fn of Object.keys(LAMBDA_ENTRIES) as LambdaName[]) {
      const called = [...recorders[fn].actions()].sort();
      expect(called.length, `${fn} made no DynamoDB call through its recorder`).toBeGreaterThan(0);
      expect(called.filter((action) => !TABLE_ACTIONS[fn].includes(action)), `${fn} calls actions it is not granted`).toEqual([]);
    }
    expect([...recorders.http.actions()]).toContain("dynamodb:BatchWriteItem");
  });
});
