import { createPublicKey, verify as nodeVerify } from "node:crypto";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startRelayMitm, type Attack, type RelayMitm } from "../support/relay-mitm.js";
import { rememberSecrets } from "../support/leak-ledger.js";
import { type Answer, apiOf, type ConnectorProcess, startConnector, startFunctions, type TestStack, waitForHealth } from "../support/stack.js";



/**
 * Guarantee attacked: the relay between the functions and the connector (API Gateway, a load
 * balancer, an egress proxy that terminates TLS) never sees key material or HSM plaintexts, and
 * cannot make Tether use wrong material or a wrong answer — even an *active* relay that rewrites
 * frames. Each attack below runs a real connector through a frame-rewriting relay: the relay must
 * read nothing, and every request must either get the right answer or fail cleanly (503).
 */
describe("attack: an active relay between the connector and the hub (SoftHSM2, DynamoDB Local)", () => {
  let stack: TestStack;
  let mitm: RelayMitm;
  let connector: ConnectorProcess;
  const api = (method: string, path: string, body?: unknown) => apiOf(stack)(method, path, body);
  /** Restarts the connector behind a relay that attacks as told (a fresh link, a fresh handshake). */
  const relayWith = async (attack: Attack) => {
    await connector?.stop();
    await mitm?.close();
    mitm = await startRelayMitm(stack.hubUrl, attack);
    connector = await startConnector({ ...stack, hubUrl: mitm.url }, `relayed-${attack}`);
  };
  const cleanFailure = (r: Answer) => r.status === 503 && ["HsmUnavailableException", "DependencyTimeoutException"].includes(String(r.body.__type));

  beforeAll(async () => {
    stack = await startFunctions({ requestTimeoutMs: 2_000 });
    await relayWith("none");
    await waitForHealth(stack, (h) => h.status === "ok");
    // Keys made through an honest relay, used under attack below.
    expect((await api("POST", "/v1/hsm-keys", { label: "relay-aes", keySpec: "AES_256" })).status).toBe(201);
    expect((await api("POST", "/v1/hsm-keys", { label: "relay-signer", keySpec: "ECC_NIST_P256" })).status).toBe(201);
    expect((await api("POST", "/v1/hsm-keys", { label: "relay-target", keySpec: "AES_256" })).status).toBe(201);
  });
  afterAll(async () => {
    await connector?.stop();
    await mitm?.close();
    await stack?.close();
  });

  it("swapping the connector's sealing key: the relay reads nothing; requests fail cleanly", async () => {
    await relayWith("swap-connector-key");
    // Whatever the hub decides about this connector, let it decide before the request.
    if ((await mitm.handshake) === "welcome") await waitForHealth(stack, (h) => h.hsm.connectors === 1);
    const secret = Buffer.from("plaintext only the HSM may see");
    rememberSecrets(secret);
    const res = await api("POST", "/v1/hsm-keys/hsm::0::relay-aes/encrypt", { plaintext: secret.toString("base64") });
    expect(res.status === 200 || cleanFailure(res), JSON.stringify(res)).toBe(true);
    expect(mitm.opened).toEqual([]);
  });

  it("swapping a request's requester key: the relay reads nothing the connector returns; requests fail cleanly", async () => {
    await relayWith("none");
    await waitForHealth(stack, (h) => h.status === "ok");
    const secret = Buffer.from("a plaintext sealed back to the function");
    rememberSecrets(secret);
    const ct = (await api("POST", "/v1/hsm-keys/hsm::0::relay-aes/encrypt", { plaintext: secret.toString("base64") })).body.ciphertextBlob;
    const keyId = ((await api("POST", "/v1/keys", {})).body.keyMetadata as { keyId: string }).keyId;
    const blob = (await api("POST", `/v1/keys/${keyId}/encrypt`, { plaintext: secret.toString("base64") })).body.ciphertextBlob;
    await relayWith("swap-requester-key");
    await waitForHealth(stack, (h) => h.hsm.connectors === 1);
    stack.server.deps.keyCache.clear();
    for (const res of [await api("POST", "/v1/hsm-keys/hsm::0::relay-aes/decrypt", { ciphertextBlob: ct }), await api("POST", "/v1/decrypt", { ciphertextBlob: blob })]) {
      expect(cleanFailure(res), JSON.stringify(res)).toBe(true);
    }
    expect(mitm.opened).toEqual([]);
  });

  it("rewriting an answer (a signature that does not verify, reported valid): never a wrong answer", async () => {
    await relayWith("flip-verify");
    await waitForHealth(stack, (h) => h.hsm.connectors === 1);
    const message = Buffer.from("release v9").toString("base64");
    const res = await api("POST", "/v1/hsm-keys/hsm::0::relay-signer/verify", { message, signature: Buffer.alloc(71, 1).toString("base64"), signingAlgorithm: "ECDSA_SHA_256" });
    expect(res.body.signatureValid === false || cleanFailure(res), JSON.stringify(res)).toBe(true);
    expect(res.body.signatureValid).not.toBe(true);
  });

  it("injecting a request of its own (destroy an HSM key): the connector refuses it", async () => {
    await relayWith("inject-request");
    await waitForHealth(stack, (h) => h.hsm.connectors === 1);
    mitm.injectTarget = `${stack.tenant}.relay-target`;
    await api("POST", "/v1/random", { numberOfBytes: 8 });
    await expect.poll(() => mitm.injectedAnswers.length, { timeout: 5_000 }).toBe(1);
    expect(mitm.injectedAnswers[0]?.ok).toBe(false);
    // The key is still in the HSM: once an honest relay is back, it works.
    await relayWith("none");
    await waitForHealth(stack, (h) => h.hsm.connectors === 1);
    const signer = (await api("GET", "/v1/hsm-keys/hsm::0::relay-signer/public-key")).body.publicKey;
    expect(createPublicKey({ key: Buffer.from(String(signer), "base64"), format: "der", type: "spki" }).asymmetricKeyType).toBe("ec");
    expect((await api("POST", "/v1/hsm-keys/hsm::0::relay-target/encrypt", { plaintext: "aGk=" })).status).toBe(200);
    void nodeVerify;
  });
});
