import { ScanCommand } from "@aws-sdk/client-dynamodb";
import { Hash } from "@smithy/hash-node";
import { HttpRequest } from "@smithy/protocol-http";
import { SignatureV4 } from "@smithy/signature-v4";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { localClient } from "../../infra/local/dynamodb.js";
import { rememberSecrets } from "../support/leak-ledger.js";
import { backends, startConnector, startFunctions, waitForHealth, type ConnectorProcess, type TestStack } from "../support/stack.js";

describe("credentials against the real stack (DynamoDB Local, SoftHSM through the connector)", () => {
  let stack: TestStack;
  let second: TestStack;
  let connectors: ConnectorProcess[] = [];

  beforeAll(async () => {
    stack = await startFunctions();
    second = await startFunctions({ tableName: stack.tableName });
    connectors = [await startConnector(stack, "cred-1"), await startConnector({ ...second, identity: stack.identity }, "cred-2")];
    await waitForHealth(stack, (h) => h.status === "ok");
    await waitForHealth(second, (h) => h.status === "ok");
  });
  afterAll(async () => {
    await stack?.close();
    await second?.close();
    await Promise.all(connectors.map((c) => c.stop()));
  });

  const admin = (path: string, body?: unknown, url = stack.url, token = stack.adminToken) =>
    fetch(`${url}${path}`, { method: body === undefined ? "GET" : "POST", headers: { authorization: `Bearer ${token}`, "content-type": "application/json" }, ...(body === undefined ? {} : { body: JSON.stringify(body) }) });

  it("a SigV4 access key: the secret is stored only wrapped by the HSM, and a signed request to the real server is accepted; a wrong one is not", async () => {
    expect((await admin("/v1/principals", { principalId: "sdk-app", kind: "service", roles: ["keyUser"] })).status).toBe(201);
    const created = (await (await admin("/v1/access-keys", { principalId: "sdk-app" })).json()) as { accessKey: { accessKeyId: string; secretAccessKey: string } };
    const { accessKeyId, secretAccessKey } = created.accessKey;
    rememberSecrets(secretAccessKey);

    const client = localClient(backends().dynamoEndpoint);
    const items = JSON.stringify((await client.send(new ScanCommand({ TableName: stack.tableName }))).Items);
    client.destroy();
    expect(items).toContain(`ACCESSKEY#${accessKeyId}`);
    for (const form of [secretAccessKey, Buffer.from(secretAccessKey).toString("base64"), Buffer.from(secretAccessKey).toString("hex")]) expect(items).not.toContain(form);

    const url = new URL(`${stack.url}/v1/random`);
    const send = async (secret: string) => {
      const request = new HttpRequest({ method: "POST", protocol: "http:", hostname: url.hostname, port: Number(url.port), path: url.pathname, headers: { host: url.host, "content-type": "application/json" }, body: '{"numberOfBytes":16}' });
      const signed = await new SignatureV4({ credentials: { accessKeyId, secretAccessKey: secret }, region: "us-east-1", service: "kms", sha256: Hash.bind(null, "sha256") }).sign(request);
      return fetch(url, { method: "POST", headers: signed.headers, body: '{"numberOfBytes":16}' });
    };
    const ok = await send(secretAccessKey);
    expect(ok.status).toBe(200);
    expect(Buffer.from(((await ok.json()) as { plaintext: string }).plaintext, "base64")).toHaveLength(16);
    const bad = await send(secretAccessKey.replace(/.$/, (c) => (c === "A" ? "B" : "A")));
    expect(bad.status).toBe(401);
    expect(await bad.json()).toEqual({ __type: "AuthenticationFailedException", message: "the request signature does not match" });
  });

  it("a session token minted by one functions process is accepted by another sharing the table", async () => {
    const issued = (await (await admin("/v1/tokens", {})).json()) as { token: string; expiresAt: string };
    rememberSecrets(issued.token);
    expect((await admin("/v1/principals", undefined, second.url, issued.token)).status).toBe(200);
    expect((await admin("/v1/principals", undefined, second.url, `${issued.token.slice(0, -3)}AAA`)).status).toBe(401);
  });
});
