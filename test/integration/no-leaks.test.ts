import { readFileSync } from "node:fs";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { backends, capturedLogs, startConnector, startFunctions, waitForHealth, type ConnectorProcess, type TestStack } from "../support/stack.js";
import { waitFor } from "../../infra/local/processes.js";
import { rememberSecrets } from "../support/leak-ledger.js";
import { formsOf, leaksIn, storedItems } from "../leaks/scan.js";

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
    await stack.server.deps.keyUsage.flush();
    // The connector appends its audit records as it goes: wait for the last call's.
    await waitFor(async () => expect(readFileSync(connector.auditFile, "utf8").split(".leaky").length - 1).toBeGreaterThanOrEqual(2), { timeoutMs: 5_000, what: "the connector's audit of the HSM key's use" });

    rememberSecrets(...secrets);
    const pins = [readFileSync(backends().userPinFile, "utf8").trim(), readFileSync(backends().soPinFile, "utf8").trim()];
    const apiKeySecret = stack.adminToken.split("_").slice(2).join("_");
    const needles = [...secrets.flatMap(formsOf), ...pins, apiKeySecret, ...formsOf(apiKeySecret)];
    const items = await storedItems(backends().dynamoEndpoint, [stack.tableName]);

    const haystacks = { logs: capturedLogs.join("\n"), items: items.join("\n"), audit: readFileSync(connector.auditFile, "utf8"), connector: connector.output() };
    expect(capturedLogs.length).toBeGreaterThan(10);
    expect(haystacks.logs).toContain("InvalidCiphertextException");
    // The search itself works: what is not secret (key ids, labels) is found where it belongs.
    expect(haystacks.logs).toContain(keyId);
    expect(haystacks.audit).toContain(".leaky");
    expect(items.length).toBeGreaterThan(5);
    expect(haystacks.items).toContain("AUDIT#");
    expect(leaksIn(Object.entries(haystacks), needles)).toEqual([]);
  });
});
