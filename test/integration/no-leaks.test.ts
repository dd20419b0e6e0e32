import { readFileSync } from "node:fs";
import { ScanCommand } from "@aws-sdk/client-dynamodb";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { localClient } from "../../infra/local/dynamodb.js";
import { backends, capturedLogs, startConnector, startFunctions, waitForHealth, type ConnectorProcess, type TestStack } from "../support/stack.js";
import { rememberSecrets } from "../support/leak-ledger.js";

/** Every encoding in which a secret could show up in a log line or a stored item. */
const forms = (secret: Buffer | string): string[] => {
  const b = Buffer.isBuffer(secret) ? secret : Buffer.from(secret);
  return [b.toString("utf8"), b.toString("base64"), b.toString("base64url"), b.toString("hex")].filter((f) => f.length >= 8);
};

describe("secrets never leak into logs, stored items or the connector's audit", () => {
  let stack: TestStack;
  let connector: ConnectorProcess & { auditFile: string };
  const secrets: Buffer[] = [];

  beforeAll(async () => {
    stack = await startFunctions();
    connector = await startConnector(stack, "leak-check", { TETHER_LOG_LEVEL: "debug" });
    await waitForHealth(stack, (h) => h.status === "ok");
  });
  afterAll(async () => {
    await connector?.stop();
    await stack?.close();
  });

  it("after a workload of every kind, no plaintext, key material, PIN or API-key secret is found anywhere", async () => {
    const call = async (path: string, body: unknown, token = stack.adminToken) => {
      const res = await fetch(`${stack.url}${path}`, { method: "POST", headers: { authorization: `Bearer ${token}`, "content-type": "application/json" }, body: JSON.stringify(body) });
      return (await res.json()) as Record<string, string & { keyId: string }>;
    };
    const plaintext = Buffer.from("the customer's most secret plaintext");
    secrets.push(plaintext);
    const keyId = (await call("/v1/keys", { exportable: true })).keyMetadata?.keyId as string;
    const blob = (await call(`/v1/keys/${keyId}/encrypt`, { plaintext: plaintext.toString("base64"), encryptionContext: { tenant: "acme" } })).ciphertextBlob;
    secrets.push(Buffer.from((await call("/v1/decrypt", { ciphertextBlob: blob, encryptionContext: { tenant: "acme" } })).plaintext as string, "base64"));
    secrets.push(Buffer.from((await call(`/v1/keys/${keyId}/generate-data-key`, { keySpec: "AES_256" })).plaintext as string, "base64"));
    const exported = (await (await fetch(`${stack.url}/v1/keys/${keyId}/export`, { headers: { authorization: `Bearer ${stack.adminToken}` } })).json()) as { versions: { material: string }[] };
    for (const v of exported.versions) secrets.push(Buffer.from(v.material, "base64"));
    await call("/v1/decrypt", { ciphertextBlob: blob, encryptionContext: { tenant: "wrong" } });
    await call(`/v1/keys/${keyId}/encrypt`, { plaintext: plaintext.toString("base64") }, `${stack.adminToken.slice(0, -4)}AAAA`);
    const signer = (await call("/v1/keys", { keySpec: "ECC_NIST_P256", keyUsage: "SIGN_VERIFY" })).keyMetadata?.keyId as string;
    await call(`/v1/keys/${signer}/sign`, { message: plaintext.toString("base64"), signingAlgorithm: "ECDSA_SHA_256" });
    await call("/v1/hsm-keys", { label: "leaky", keySpec: "AES_256" });
    await call("/v1/hsm-keys/hsm::0::leaky/encrypt", { plaintext: plaintext.toString("base64") });
    await stack.server.deps.keys.usageRecorder.flush();
    await new Promise((r) => setTimeout(r, 300));

    rememberSecrets(...secrets);
    const pins = [readFileSync(backends().userPinFile, "utf8").trim(), readFileSync(backends().soPinFile, "utf8").trim()];
    const apiKeySecret = stack.adminToken.split("_").slice(2).join("_");
    const needles = [...secrets.flatMap(forms), ...pins, apiKeySecret, ...forms(Buffer.from(apiKeySecret))];

    const client = localClient(backends().dynamoEndpoint);
    const items: string[] = [];
    let start: Record<string, unknown> | undefined;
    do {
      const page = await client.send(new ScanCommand({ TableName: stack.tableName, ...(start ? { ExclusiveStartKey: start as never } : {}) }));
      items.push(...(page.Items ?? []).map((i) => JSON.stringify(i)));
      start = page.LastEvaluatedKey;
    } while (start);
    client.destroy();

    const haystacks = { logs: capturedLogs.join("\n"), items: items.join("\n"), audit: readFileSync(connector.auditFile, "utf8"), connector: connector.output() };
    expect(capturedLogs.length).toBeGreaterThan(10);
    expect(haystacks.logs).toContain("InvalidCiphertextException");
    // The search itself works: what is not secret (key ids, labels) is found where it belongs.
    expect(haystacks.logs).toContain(keyId);
    expect(haystacks.audit).toContain(".leaky");
    expect(items.length).toBeGreaterThan(5);
    expect(haystacks.items).toContain("AUDIT#");
    for (const [where, text] of Object.entries(haystacks)) {
      for (const needle of needles) expect({ where, found: text.includes(needle) }).toEqual({ where, found: false });
    }
  });
});
