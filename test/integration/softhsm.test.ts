import { readFileSync } from "node:fs";
import pkcs11js from "pkcs11js";
import { beforeAll, describe, expect, it } from "vitest";
import { Pkcs11Module, findOne } from "../../connector/pkcs11/module.js";
import { Pkcs11Hsm } from "../../connector/pkcs11/pkcs11-hsm.js";
import { provisionToken } from "../../connector/pkcs11/provision.js";
import { silentLogger } from "../../shared/log.js";
import { isKmsError } from "../../shared/errors.js";
import { startNodeProcess } from "../../infra/local/processes.js";
import { backends } from "../support/stack.js";

const pin = () => readFileSync(backends().userPinFile, "utf8").trim();
const call = () => ({ requestId: "t", deadline: Date.now() + 5_000 });
const hsmConfig = (userPin: string) => ({
  modulePath: backends().modulePath,
  slots: [{ name: "0", tokenLabel: backends().tokenLabel, pin: userPin, sessions: 2 }],
  rootKeyLabel: backends().rootKeyLabel,
  healthTtlMs: 0,
});

describe("SoftHSM2 through pkcs11js", () => {
  beforeAll(() => {
    process.env.SOFTHSM2_CONF = backends().softhsmConf;
  });

  it("provisioning is idempotent", () => {
    const b = backends();
    const again = provisionToken({ modulePath: b.modulePath, tokenLabel: b.tokenLabel, soPin: readFileSync(b.soPinFile, "utf8").trim(), userPin: pin(), rootKeyLabel: b.rootKeyLabel });
    expect(again).toEqual({ tokenCreated: false, rootKeyCreated: false, auditKeyCreated: false });
  });

  it("npm run provision, with the connector's settings: idempotent on a provisioned token; a missing token without the SO PIN stops with a clear message", async () => {
    const b = backends();
    const run = async (tokenLabel: string) => {
      const child = startNodeProcess(
        "connector/provision-main.ts",
        { SOFTHSM2_CONF: b.softhsmConf, TETHER_HUB_URL: "ws://127.0.0.1:9/connector", TETHER_CONNECTOR_ID: "provisioner", TETHER_CONNECTOR_CREDENTIAL_FILE: "/nonexistent", TETHER_PKCS11_MODULE: b.modulePath, TETHER_TOKEN_LABEL: tokenLabel, TETHER_PKCS11_PIN_FILE: b.userPinFile, TETHER_ROOT_KEY_LABEL: b.rootKeyLabel },
        { stdio: "pipe" },
      );
      let output = "";
      child.stdout?.on("data", (d: Buffer) => (output += d.toString()));
      child.stderr?.on("data", (d: Buffer) => (output += d.toString()));
      const code = await new Promise<number | null>((resolve) => child.once("exit", resolve));
      return { code, output };
    };
    const again = await run(b.tokenLabel);
    expect(again.code).toBe(0);
    expect(JSON.parse(again.output)).toEqual({ token: b.tokenLabel, rootKey: b.rootKeyLabel, tokenCreated: false, rootKeyCreated: false, auditKeyCreated: false });
    const missing = await run("no-such-token");
    expect(missing.code).toBe(1);
    expect(missing.output).toContain('no token is labelled "no-such-token"; initialising one needs the SO PIN');
    expect(missing.output).not.toContain(pin());
  });

  it("the root key is a sensitive, non-extractable AES-256 token key whose value cannot be read", () => {
    const mod = new Pkcs11Module(backends().modulePath);
    const { slot } = mod.findSlot(backends().tokenLabel);
    const s = mod.p11.C_OpenSession(slot, pkcs11js.CKF_SERIAL_SESSION);
    try {
      mod.p11.C_Login(s, pkcs11js.CKU_USER, pin());
      const key = findOne(mod.p11, s, [{ type: pkcs11js.CKA_LABEL, value: backends().rootKeyLabel }]);
      expect(key).toBeDefined();
      const attrs = mod.p11.C_GetAttributeValue(s, key as Buffer, [
        { type: pkcs11js.CKA_SENSITIVE },
        { type: pkcs11js.CKA_EXTRACTABLE },
        { type: pkcs11js.CKA_TOKEN },
        { type: pkcs11js.CKA_VALUE_LEN },
        { type: pkcs11js.CKA_WRAP },
        { type: pkcs11js.CKA_UNWRAP },
      ]);
      const bool = (i: number) => (attrs[i]?.value as Buffer)[0] === 1;
      expect([bool(0), bool(1), bool(2), bool(4), bool(5)]).toEqual([true, false, true, true, true]);
      expect((attrs[3]?.value as Buffer).readUInt32LE(0)).toBe(32);
      expect(() => mod.p11.C_GetAttributeValue(s, key as Buffer, [{ type: pkcs11js.CKA_VALUE }])).toThrow(/CKR_ATTRIBUTE_SENSITIVE/);
    } finally {
      mod.p11.C_CloseSession(s);
      mod.close();
    }
  });

  it("Pkcs11Hsm: random bytes and a deep health check under the root key", async () => {
    const hsm = new Pkcs11Hsm(hsmConfig(pin()), silentLogger);
    try {
      const [a, b] = await Promise.all([hsm.wrapping.random(64, call()), hsm.wrapping.random(64, call())]);
      expect(a).toHaveLength(64);
      expect(Buffer.from(a).equals(Buffer.from(b))).toBe(false);
      const health = await hsm.wrapping.health(call());
      expect(health).toMatchObject({ rootKeyOk: true, identity: expect.stringMatching(/^SoftHSM project\/SoftHSM v2\/[0-9a-f]+$/) });
      await expect(hsm.wrapping.random(8, { requestId: "late", deadline: Date.now() - 1 })).rejects.toMatchObject({ code: "DependencyTimeoutException" });
    } finally {
      expect(await hsm.close()).toBe(true);
    }
  });

  it("Pkcs11Hsm: a wrong PIN fails at start with AuthenticationFailedException", () => {
    let caught: unknown;
    try {
      void new Pkcs11Hsm(hsmConfig("not-the-pin"), silentLogger).close();
    } catch (err) {
      caught = err;
    }
    expect(isKmsError(caught, "AuthenticationFailedException")).toBe(true);
    expect((caught as Error).message).not.toContain("not-the-pin");
  });
});
