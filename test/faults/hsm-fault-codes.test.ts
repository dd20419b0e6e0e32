import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { buildFaultHsm, faultControl, type CkrName, type FaultControl } from "../support/fault-hsm.js";
import { apiOf, backends, expectWholeAudit, type ConnectorProcess, startConnector, startFunctions, type TestStack, waitForHealth } from "../support/stack.js";



/**
 * An HSM that faults is a dependency that failed (503), never a caller's bad ciphertext (400):
 * a caller told "invalid ciphertext" may throw its data away. And a caller's bad ciphertext is
 * never an HSM fault: SoftHSM reports an AES-GCM tag that does not verify as CKR_GENERAL_ERROR,
 * which must not make the connector re-initialise the module for everyone. Faults are injected by
 * a PKCS#11 shim in front of SoftHSM2 (test/support/fault-hsm).
 */
describe("HSM faults and their error codes (fault-injecting PKCS#11 module over SoftHSM2)", () => {
  let stack: TestStack;
  let connector: ConnectorProcess;
  let control: FaultControl;
  const api = (method: string, path: string, body?: unknown) => apiOf(stack)(method, path, body);

  beforeAll(async () => {
    const dir = `${backends().stateDir}/fault-codes`;
    control = faultControl(`${dir}-control`);
    stack = await startFunctions();
    connector = await startConnector(stack, "faulty-1", { TETHER_PKCS11_MODULE: buildFaultHsm(dir), ...control.env });
    await waitForHealth(stack, (h) => h.status === "ok");
  });
  afterAll(async () => {
    control?.clear();
    await connector?.stop();
    await stack?.close();
  });

  it("a device or session fault during decryption is 503, never InvalidCiphertextException; recovery is automatic", async () => {
    expect((await api("POST", "/v1/hsm-keys", { label: "faulty", keySpec: "AES_256" })).status).toBe(201);
    const hsmCiphertext = (await api("POST", "/v1/hsm-keys/hsm::0::faulty/encrypt", { plaintext: "aGk=" })).body.ciphertextBlob;
    const keyId = ((await api("POST", "/v1/keys", {})).body.keyMetadata as { keyId: string }).keyId;
    const kmsCiphertext = (await api("POST", `/v1/keys/${keyId}/encrypt`, { plaintext: "aGk=" })).body.ciphertextBlob;

    const faults: CkrName[] = ["CKR_DEVICE_ERROR", "CKR_DEVICE_REMOVED", "CKR_TOKEN_NOT_PRESENT", "CKR_SESSION_HANDLE_INVALID", "CKR_SESSION_CLOSED", "CKR_FUNCTION_FAILED", "CKR_DEVICE_MEMORY"];
    for (const fault of faults) {
      control.fail("C_Decrypt", fault, -1);
      const hsmKey = await api("POST", "/v1/hsm-keys/hsm::0::faulty/decrypt", { ciphertextBlob: hsmCiphertext });
      // A cold KMS key: its material is unwrapped by the HSM (C_Decrypt under the root key).
      stack.server.deps.keyCache.clear();
      const coldKey = await api("POST", "/v1/decrypt", { ciphertextBlob: kmsCiphertext });
      control.clear();
      for (const [what, res] of [["HSM-resident key", hsmKey], ["cold KMS key", coldKey]] as const) {
        expect(res.body.__type, `${fault} on ${what}`).not.toBe("InvalidCiphertextException");
        expect(res.status, `${fault} on ${what}: ${JSON.stringify(res.body)}`).toBe(503);
      }
      const hsmRecovered = await api("POST", "/v1/hsm-keys/hsm::0::faulty/decrypt", { ciphertextBlob: hsmCiphertext });
      expect(hsmRecovered.status, `after ${fault}: ${JSON.stringify(hsmRecovered.body)}`).toBe(200);
      const recovered = await api("POST", "/v1/decrypt", { ciphertextBlob: kmsCiphertext });
      expect(recovered.status, `after ${fault}: ${JSON.stringify(recovered.body)}`).toBe(200);
    }
  });

  it("a login the device refuses just after a re-initialisation is recovered from within the request", async () => {
    expect((await api("POST", "/v1/hsm-keys", { label: "login-fault", keySpec: "AES_256" })).status).toBe(201);
    const ciphertext = (await api("POST", "/v1/hsm-keys/hsm::0::login-fault/encrypt", { plaintext: "aGk=" })).body.ciphertextBlob;
    // Both tries of one request meet a device fault: the module is re-initialised, the request answers 503.
    control.fail("C_Decrypt", "CKR_DEVICE_ERROR", 2);
    expect((await api("POST", "/v1/hsm-keys/hsm::0::login-fault/decrypt", { ciphertextBlob: ciphertext })).status).toBe(503);
    // The next request's login, on the fresh module, is refused once (as SoftHSM may, just after C_Initialize).
    control.fail("C_Login", "CKR_GENERAL_ERROR", 1);
    const recovered = await api("POST", "/v1/hsm-keys/hsm::0::login-fault/decrypt", { ciphertextBlob: ciphertext });
    expect(recovered.status, JSON.stringify(recovered.body)).toBe(200);
    expect(control.injected("C_Login")).toBe(1);
    control.clear();
  });

  it("a tampered ciphertext is InvalidCiphertextException and does not re-initialise the HSM module", async () => {
    const ciphertext = Buffer.from(String((await api("POST", "/v1/hsm-keys/hsm::0::faulty/encrypt", { plaintext: "aGk=" })).body.ciphertextBlob), "base64");
    ciphertext.writeUInt8((ciphertext.at(-1) ?? 0) ^ 1, ciphertext.length - 1);
    const initsBefore = control.calls("C_Initialize");
    const res = await api("POST", "/v1/hsm-keys/hsm::0::faulty/decrypt", { ciphertextBlob: ciphertext.toString("base64") });
    expect(res).toMatchObject({ status: 400, body: { __type: "InvalidCiphertextException" } });
    expect(control.calls("C_Initialize")).toBe(initsBefore);
  });

  it("a bad RSA ciphertext is InvalidCiphertextException and does not re-initialise the module either", async () => {
    expect((await api("POST", "/v1/hsm-keys", { label: "faulty-rsa", keySpec: "RSA_2048" })).status).toBe(201);
    const initsBefore = control.calls("C_Initialize");
    for (const [algorithm, ciphertext] of [
      ["RSAES_PKCS1_V1_5", Buffer.alloc(256, 7)],
      ["RSAES_OAEP_SHA_256", Buffer.alloc(256, 0xff)],
      ["RSAES_OAEP_SHA_256", Buffer.alloc(256, 7)],
    ] as const) {
      const res = await api("POST", "/v1/hsm-keys/hsm::0::faulty-rsa/decrypt", { ciphertextBlob: ciphertext.toString("base64"), algorithm });
      expect(res, algorithm).toMatchObject({ status: 400, body: { __type: "InvalidCiphertextException" } });
    }
    expect(control.calls("C_Initialize")).toBe(initsBefore);
  });

  it("many callers' bad ciphertexts and device faults amid real work: the connector survives and every answer is right or a 503", async () => {
    const keyId = ((await api("POST", "/v1/keys", {})).body.keyMetadata as { keyId: string }).keyId;
    const blob = (await api("POST", `/v1/keys/${keyId}/encrypt`, { plaintext: "aGk=" })).body.ciphertextBlob;
    // Device faults on a few of the HSM's decryptions while the rest run.
    control.fail("C_Decrypt", "CKR_DEVICE_ERROR", 3);
    const results = await Promise.all([
      ...Array.from({ length: 30 }, () => api("POST", "/v1/hsm-keys/hsm::0::faulty-rsa/decrypt", { ciphertextBlob: Buffer.alloc(256, 7).toString("base64"), algorithm: "RSAES_PKCS1_V1_5" })),
      ...Array.from({ length: 20 }, async () => {
        stack.server.deps.keyCache.clear();
        return api("POST", "/v1/decrypt", { ciphertextBlob: blob });
      }),
      ...Array.from({ length: 10 }, () => api("POST", "/v1/keys", {})),
    ]);
    control.clear();
    expect(connector.child.exitCode).toBeNull();
    expect(connector.child.signalCode).toBeNull();
    for (const [i, r] of results.entries()) {
      const expected = i < 30 ? [400, 503] : [200, 201, 503];
      expect(expected, JSON.stringify(r)).toContain(r.status);
      if (i >= 30 && i < 50 && r.status === 200) expect(r.body.plaintext).toBe("aGk=");
    }
    expect((await api("POST", "/v1/decrypt", { ciphertextBlob: blob })).status).toBe(200);
  });
});

/**
 * With two connectors, one whose HSM faults: an idempotent operation (decrypt, unwrap) that meets
 * the fault is retried on the other connector, so callers never see it; nothing else is retried.
 */
describe("an HSM fault on one of two connectors (fault-injecting PKCS#11 module over SoftHSM2)", () => {
  let stack: TestStack;
  const connectors: ConnectorProcess[] = [];
  let faulty: FaultControl;
  const api = (method: string, path: string, body?: unknown) => apiOf(stack)(method, path, body);

  beforeAll(async () => {
    const dir = `${backends().stateDir}/fault-failover`;
    faulty = faultControl(`${dir}-faulty-control`);
    const healthy = faultControl(`${dir}-healthy-control`);
    stack = await startFunctions();
    connectors.push(await startConnector(stack, "faulty-a", { TETHER_PKCS11_MODULE: buildFaultHsm(dir), ...faulty.env }));
    connectors.push(await startConnector(stack, "healthy-b", { TETHER_PKCS11_MODULE: buildFaultHsm(dir), ...healthy.env }));
    await waitForHealth(stack, (h) => h.status === "ok" && h.hsm.connectors === 2);
  });
  afterAll(async () => {
    faulty?.clear();
    for (const c of connectors) await c.stop();
    await stack?.close();
  });

  it("decryptions and unwraps that meet CKR_DEVICE_ERROR on one connector are answered by the other: none fails, every answer is right", async () => {
    expect((await api("POST", "/v1/hsm-keys", { label: "failover", keySpec: "AES_256" })).status).toBe(201);
    const hsmCiphertext = (await api("POST", "/v1/hsm-keys/hsm::0::failover/encrypt", { plaintext: "aGk=" })).body.ciphertextBlob;
    const keyId = ((await api("POST", "/v1/keys", {})).body.keyMetadata as { keyId: string }).keyId;
    const kmsCiphertext = (await api("POST", `/v1/keys/${keyId}/encrypt`, { plaintext: "aGk=" })).body.ciphertextBlob;
    faulty.fail("C_Decrypt", "CKR_DEVICE_ERROR", -1);
    const decryptsBefore = faulty.calls("C_Decrypt");
    const results = await Promise.all([
      ...Array.from({ length: 20 }, () => api("POST", "/v1/hsm-keys/hsm::0::failover/decrypt", { ciphertextBlob: hsmCiphertext })),
      ...Array.from({ length: 20 }, async () => {
        stack.server.deps.keyCache.clear(); // cold: the key's material is unwrapped by the HSM
        return api("POST", "/v1/decrypt", { ciphertextBlob: kmsCiphertext });
      }),
    ]);
    faulty.clear();
    // The faulty connector was asked, and faulted; its callers never saw it.
    expect(faulty.calls("C_Decrypt")).toBeGreaterThan(decryptsBefore);
    expect(results.map((r) => `${r.status} ${r.body.plaintext ?? r.body.__type}`)).toEqual(Array(40).fill("200 aGk="));
    await expectWholeAudit(stack);
  });
});
