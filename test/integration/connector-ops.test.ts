import { createHash, createPublicKey, publicEncrypt, constants, verify as nodeVerify } from "node:crypto";
import { readFileSync } from "node:fs";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { RemoteHsm } from "../../functions/tunnel/remote-hsm.js";
import { waitFor } from "../../infra/local/processes.js";
import { isKmsError } from "../../shared/errors.js";
import type { HsmKeyRef, SigningAlg } from "../../shared/hsm/port.js";
import { startConnector, startFunctions, waitForHealth, type ConnectorProcess, type TestStack } from "../support/stack.js";
import { rememberSecrets } from "../support/leak-ledger.js";

const call = (requestId = `r-${Math.random().toString(36).slice(2)}`) => ({ requestId, deadline: Date.now() + 10_000 });
const binding = (keyId: string, version = 1) => Buffer.from(JSON.stringify({ tenant: "111122223333", keyId, version }));
const code = async (p: Promise<unknown>) => p.then(() => "resolved", (err: unknown) => (isKmsError(err) ? err.code : String(err)));

describe("every connector operation, through the link, on SoftHSM2", () => {
  let stack: TestStack;
  let connector: ConnectorProcess & { auditFile: string };
  let hsm: RemoteHsm;

  beforeAll(async () => {
    stack = await startFunctions();
    connector = await startConnector(stack);
    await waitForHealth(stack, (h) => h.status === "ok");
    hsm = new RemoteHsm(stack.server.hub);
  });
  afterAll(async () => {
    await connector?.stop();
    await stack?.close();
  });

  it("generates a data key, wrapped under the root key and bound to its binding", async () => {
    const out = await hsm.generateDataKey(32, binding("k1"), { ...call(), returnPlaintext: true });
    expect(out.plaintext).toHaveLength(32);
    expect(out.wrapped).toMatchObject({ rootKeyLabel: "tether-root", hsmIdentity: expect.stringMatching(/^SoftHSM project\/SoftHSM v2\//) });
    expect(await hsm.unwrap(out.wrapped, binding("k1"), call())).toEqual(out.plaintext);
    expect(await code(hsm.unwrap(out.wrapped, binding("k2"), call()))).toBe("InvalidCiphertextException");
    expect(await code(hsm.unwrap(out.wrapped, binding("k1", 2), call()))).toBe("InvalidCiphertextException");
    const tampered = { ...out.wrapped, ciphertext: Uint8Array.from(out.wrapped.ciphertext, (b, i) => (i === 3 ? b ^ 1 : b)) };
    expect(await code(hsm.unwrap(tampered, binding("k1"), call()))).toBe("InvalidCiphertextException");
    const withoutPlaintext = await hsm.generateDataKey(16, binding("k3"), { ...call(), returnPlaintext: false });
    expect(withoutPlaintext.plaintext).toBeUndefined();
    expect(await hsm.unwrap(withoutPlaintext.wrapped, binding("k3"), call())).toHaveLength(16);
  });

  it("wraps caller material and unwraps it back", async () => {
    const material = new Uint8Array(Buffer.from("an imported key, 32 bytes long!!"));
    rememberSecrets(material);
    const wrapped = await hsm.wrap(material, binding("byok"), call());
    expect(await hsm.unwrap(wrapped, binding("byok"), call())).toEqual(material);
  });

  it("returns random bytes from the HSM", async () => {
    const [a, b] = await Promise.all([hsm.random(32, call()), hsm.random(32, call())]);
    expect(a).toHaveLength(32);
    expect(Buffer.from(a).equals(Buffer.from(b))).toBe(false);
  });

  it("creates, lists, uses and destroys an HSM-resident AES key", async () => {
    const ref: HsmKeyRef = { slot: "0", label: "app-aes" };
    expect(await hsm.createKey(ref, "AES_256", { sensitive: true }, call())).toMatchObject({ ...ref, spec: "AES_256", sensitive: true, extractable: false });
    expect(await code(hsm.createKey(ref, "AES_256", { sensitive: true }, call()))).toBe("AlreadyExistsException");
    expect(await hsm.listKeys("0", call())).toContainEqual({ ...ref, spec: "AES_256", sensitive: true, extractable: false });
    const aad = Buffer.from("context");
    const ct = await hsm.encrypt(ref, "AES_GCM", Buffer.from("hello hsm"), aad, call());
    expect(Buffer.from(await hsm.decrypt(ref, "AES_GCM", ct, aad, call())).toString()).toBe("hello hsm");
    expect(await code(hsm.decrypt(ref, "AES_GCM", ct, Buffer.from("other"), call()))).toBe("InvalidCiphertextException");
    await hsm.destroyKey(ref, call());
    expect((await hsm.listKeys("0", call())).map((k) => k.label)).not.toContain("app-aes");
    expect(await code(hsm.encrypt(ref, "AES_GCM", Buffer.from("x"), aad, call()))).toBe("NotFoundException");
    expect(await code(hsm.destroyKey(ref, call()))).toBe("NotFoundException");
  });

  it("RSA: public key, OAEP and PKCS#1 v1.5 encryption, PKCS#1 and PSS signatures", async () => {
    const ref: HsmKeyRef = { slot: "0", label: "app-rsa" };
    await hsm.createKey(ref, "RSA_2048", { sensitive: true }, call());
    const spki = createPublicKey({ key: Buffer.from(await hsm.getPublicKey(ref, call())), format: "der", type: "spki" });
    expect(spki.asymmetricKeyDetails?.modulusLength).toBe(2048);

    const msg = Buffer.from("sixteen byte key");
    for (const alg of ["RSAES_OAEP_SHA_256", "RSAES_PKCS1_V1_5"] as const) {
      const ct = await hsm.encrypt(ref, alg, msg, new Uint8Array(), call());
      expect(Buffer.from(await hsm.decrypt(ref, alg, ct, new Uint8Array(), call()))).toEqual(msg);
    }
    const softwareCt = publicEncrypt({ key: spki, padding: constants.RSA_PKCS1_OAEP_PADDING, oaepHash: "sha256" }, msg);
    expect(Buffer.from(await hsm.decrypt(ref, "RSAES_OAEP_SHA_256", softwareCt, new Uint8Array(), call()))).toEqual(msg);

    const message = Buffer.from("sign me");
    for (const alg of ["RSASSA_PKCS1_V1_5_SHA_256", "RSASSA_PKCS1_V1_5_SHA_384", "RSASSA_PKCS1_V1_5_SHA_512", "RSASSA_PSS_SHA_256", "RSASSA_PSS_SHA_384", "RSASSA_PSS_SHA_512"] as SigningAlg[]) {
      const hash = `sha${alg.slice(-3)}`;
      const pss = alg.startsWith("RSASSA_PSS") ? { padding: constants.RSA_PKCS1_PSS_PADDING, saltLength: createHash(hash).digest().length } : {};
      const sig = await hsm.sign(ref, alg, message, "RAW", call());
      expect(nodeVerify(hash, message, { key: spki, ...pss }, sig)).toBe(true);
      expect(await hsm.verify(ref, alg, message, "RAW", sig, call())).toBe(true);
      const digest = createHash(hash).update(message).digest();
      const sigOfDigest = await hsm.sign(ref, alg, digest, "DIGEST", call());
      expect(nodeVerify(hash, message, { key: spki, ...pss }, sigOfDigest)).toBe(true);
      expect(await hsm.verify(ref, alg, Buffer.from("other message"), "RAW", sig, call())).toBe(false);
    }
    expect(await code(hsm.sign(ref, "RSASSA_PSS_SHA_256", Buffer.alloc(5), "DIGEST", call()))).toBe("ValidationException");
    await hsm.destroyKey(ref, call());
  });

  it.each([
    ["ECC_NIST_P256", "ECDSA_SHA_256"],
    ["ECC_NIST_P384", "ECDSA_SHA_384"],
  ] as const)("%s: public key and DER-encoded ECDSA signatures", async (spec, alg) => {
    const ref: HsmKeyRef = { slot: "0", label: `app-${spec.toLowerCase()}` };
    await hsm.createKey(ref, spec, { sensitive: true }, call());
    const spki = createPublicKey({ key: Buffer.from(await hsm.getPublicKey(ref, call())), format: "der", type: "spki" });
    expect(spki.asymmetricKeyType).toBe("ec");
    const message = Buffer.from("sign me too");
    const sig = await hsm.sign(ref, alg, message, "RAW", call());
    expect(nodeVerify(`sha${alg.slice(-3)}`, message, { key: spki, dsaEncoding: "der" }, sig)).toBe(true);
    expect(await hsm.verify(ref, alg, message, "RAW", sig, call())).toBe(true);
    expect(await hsm.verify(ref, alg, message, "RAW", Buffer.from("not DER"), call())).toBe(false);
    expect(await hsm.verify(ref, alg, Buffer.from("other"), "RAW", sig, call())).toBe(false);
    await hsm.destroyKey(ref, call());
  });

  it("never lets the root key be used as a resident key", async () => {
    for (const label of ["tether-root", "tether-root_pk"]) {
      expect(await code(hsm.encrypt({ slot: "0", label }, "AES_GCM", Buffer.from("x"), new Uint8Array(), call()))).toBe("AccessDeniedException");
      expect(await code(hsm.destroyKey({ slot: "0", label }, call()))).toBe("AccessDeniedException");
    }
    expect((await hsm.listKeys("0", call())).map((k) => k.label)).not.toContain("tether-root");
  });

  it("refuses unknown slots and malformed parameters cleanly", async () => {
    expect(await code(hsm.listKeys("9", call()))).toBe("NotFoundException");
    expect(await code(hsm.createKey({ slot: "0", label: "bad label!" }, "AES_256", { sensitive: true }, call()))).toBe("ValidationException");
  });

  it("keeps an append-only local audit of its HSM calls, without key material", async () => {
    const requestId = "audit-probe-1";
    const dk = await hsm.generateDataKey(32, binding("audited"), { ...call(requestId), returnPlaintext: true });
    const lines = () => readFileSync(connector.auditFile, "utf8").trim().split("\n").map((l) => JSON.parse(l) as Record<string, unknown>);
    await waitFor(async () => expect(lines().some((l) => l.requestId === requestId)).toBe(true), { timeoutMs: 5_000, what: "the connector's audit record of the call" });
    expect(lines().find((l) => l.requestId === requestId)).toMatchObject({ op: "generateDataKey", result: "ok", durationMs: expect.any(Number) });
    expect(lines().some((l) => l.op === "decrypt" && l.result === "InvalidCiphertextException" && l.label === "app-aes")).toBe(true);
    const text = readFileSync(connector.auditFile, "utf8");
    expect(text).not.toContain(Buffer.from(dk.plaintext as Uint8Array).toString("base64"));
  });
});
