import { spawnSync } from "node:child_process";
import { randomBytes } from "node:crypto";
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import pkcs11js from "pkcs11js";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { buildFaultHsm, faultControl, type FaultControl } from "../support/fault-hsm.js";

/**
 * The fault-injecting PKCS#11 shim (test/support/fault-hsm) over SoftHSM2, driven through
 * pkcs11js directly: the connector is not involved, and the token is this file's own, so the
 * faults cannot leak into the run's shared token.
 */

const LABEL = "faulttest";
const PIN = "1234";

/** The CK_RV of the pkcs11js.Pkcs11Error `call` throws; anything else fails the test. */
async function ckrOf(call: () => unknown): Promise<number> {
  try {
    await call();
  } catch (err) {
    if (err instanceof pkcs11js.Pkcs11Error) return err.code;
    throw err;
  }
  throw new Error("the call succeeded; a Pkcs11Error was expected");
}

/** The mechanism connector/pkcs11/mechanisms.ts `encryptionMechanism("AES_GCM", ...)` builds. */
const aesGcm = (iv: Buffer, aad: Buffer): pkcs11js.Mechanism => {
  const parameter: pkcs11js.AesGCM = { type: pkcs11js.CK_PARAMS_AES_GCM, iv, aad, ivBits: 96, tagBits: 128 };
  return { mechanism: pkcs11js.CKM_AES_GCM, parameter };
};
const TAG_BYTES = 16;

describe("fault-injecting PKCS#11 shim over SoftHSM2", () => {
  const saved = { SOFTHSM2_CONF: process.env.SOFTHSM2_CONF, TETHER_FAULT_CONTROL: process.env.TETHER_FAULT_CONTROL };
  let dir: string;
  let control: FaultControl;
  let p11: pkcs11js.PKCS11;
  let initialised = false;
  let slot: pkcs11js.Handle;
  let session: pkcs11js.Handle;
  let key: pkcs11js.Handle;

  const openSession = () => {
    session = p11.C_OpenSession(slot, pkcs11js.CKF_SERIAL_SESSION | pkcs11js.CKF_RW_SESSION);
    p11.C_Login(session, pkcs11js.CKU_USER, PIN);
  };
  const encrypt = (plaintext: Buffer, aad: Buffer) => {
    const iv = randomBytes(12);
    p11.C_EncryptInit(session, aesGcm(iv, aad), key);
    return { iv, ciphertext: Buffer.from(p11.C_Encrypt(session, plaintext, Buffer.alloc(plaintext.length + TAG_BYTES))) };
  };

  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), "tether-fault-hsm-"));
    mkdirSync(join(dir, "tokens"), { mode: 0o700 });
    const conf = join(dir, "softhsm2.conf");
    writeFileSync(conf, `directories.tokendir = ${join(dir, "tokens")}\nobjectstore.backend = file\nlog.level = ERROR\n`);
    // SoftHSM2 reads SOFTHSM2_CONF when initialised; the shim reads TETHER_FAULT_CONTROL when loaded.
    process.env.SOFTHSM2_CONF = conf;
    const init = spawnSync("softhsm2-util", ["--init-token", "--free", "--label", LABEL, "--so-pin", PIN, "--pin", PIN], {
      env: { ...process.env, SOFTHSM2_CONF: conf },
      encoding: "utf8",
    });
    if (init.status !== 0) throw new Error(`softhsm2-util --init-token failed: ${init.error?.message ?? init.stderr}`);

    control = faultControl(join(dir, "control"));
    Object.assign(process.env, control.env);
    const module = buildFaultHsm(join(dir, "build"));
    p11 = new pkcs11js.PKCS11();
    p11.load(module);
    p11.C_Initialize();
    initialised = true;
    const found = p11.C_GetSlotList(true).find((s) => p11.C_GetTokenInfo(s).label.trim() === LABEL);
    if (!found) throw new Error(`no token labelled ${LABEL}`);
    slot = found;
    openSession();
    key = p11.C_GenerateKey(session, { mechanism: pkcs11js.CKM_AES_KEY_GEN }, [
      { type: pkcs11js.CKA_CLASS, value: pkcs11js.CKO_SECRET_KEY },
      { type: pkcs11js.CKA_KEY_TYPE, value: pkcs11js.CKK_AES },
      { type: pkcs11js.CKA_VALUE_LEN, value: 32 },
      { type: pkcs11js.CKA_TOKEN, value: false },
      { type: pkcs11js.CKA_ENCRYPT, value: true },
      { type: pkcs11js.CKA_DECRYPT, value: true },
    ]);
  });

  afterAll(() => {
    try {
      control?.clear();
      if (initialised) {
        p11?.C_CloseAllSessions(slot);
        p11?.C_Finalize();
      }
      p11?.close();
    } finally {
      for (const [name, value] of Object.entries(saved)) {
        if (value === undefined) delete process.env[name];
        else process.env[name] = value;
      }
      if (dir) rmSync(dir, { recursive: true, force: true });
    }
  });

  it("passes calls through to SoftHSM2 when no rule applies", () => {
    const random = p11.C_GenerateRandom(session, Buffer.alloc(32));
    expect(random).toHaveLength(32);
    expect(random.equals(Buffer.alloc(32))).toBe(false);
  });

  it("fails the next `count` calls of a function with the CK_RV asked for, then passes them again", async () => {
    const calls = control.calls("C_GenerateRandom");
    const injected = control.injected("C_GenerateRandom");
    control.fail("C_GenerateRandom", "CKR_DEVICE_ERROR", 1);
    expect(await ckrOf(() => p11.C_GenerateRandom(session, Buffer.alloc(16)))).toBe(pkcs11js.CKR_DEVICE_ERROR);
    expect(p11.C_GenerateRandom(session, Buffer.alloc(16))).toHaveLength(16);
    expect(control.calls("C_GenerateRandom")).toBe(calls + 2);
    expect(control.injected("C_GenerateRandom")).toBe(injected + 1);
  });

  it("delays the calls of one function, or of every function", () => {
    const timed = (call: () => unknown) => {
      const started = performance.now();
      call();
      return performance.now() - started;
    };
    control.delay("C_GenerateRandom", 30);
    expect(timed(() => p11.C_GenerateRandom(session, Buffer.alloc(16)))).toBeGreaterThanOrEqual(30);
    control.delay("*", 20);
    expect(timed(() => p11.C_GetSessionInfo(session))).toBeGreaterThanOrEqual(20);
    control.clear();
  });

  it("passes an AES-GCM round trip through; a tag that does not verify comes back as SoftHSM2's own CK_RV", async () => {
    const plaintext = Buffer.from("tether fault-hsm round trip");
    const aad = Buffer.from("binding");
    const { iv, ciphertext } = encrypt(plaintext, aad);
    expect(ciphertext).toHaveLength(plaintext.length + TAG_BYTES);

    p11.C_DecryptInit(session, aesGcm(iv, aad), key);
    expect(p11.C_Decrypt(session, ciphertext, Buffer.alloc(ciphertext.length)).equals(plaintext)).toBe(true);

    const tampered = Buffer.from(ciphertext);
    tampered[tampered.length - 1]! ^= 1;
    const injected = control.injected("C_Decrypt");
    p11.C_DecryptInit(session, aesGcm(iv, aad), key);
    // Measured with SoftHSM 2.6.1: a GCM tag mismatch is CKR_GENERAL_ERROR, not CKR_ENCRYPTED_DATA_INVALID
    // (connector/pkcs11/ckr.ts counts CKR_GENERAL_ERROR among the module faults).
    const code = await ckrOf(() => p11.C_DecryptAsync(session, tampered, Buffer.alloc(tampered.length)));
    expect(code, "SoftHSM2's CK_RV for an AES-GCM tag mismatch changed").toBe(pkcs11js.CKR_GENERAL_ERROR);
    expect(control.injected("C_Decrypt")).toBe(injected);
  });

  it("keeps failing a function with count -1 until clear(); the injected faults never reach SoftHSM2", async () => {
    const plaintext = Buffer.from("persistent fault");
    const aad = Buffer.alloc(0);
    const { iv, ciphertext } = encrypt(plaintext, aad);
    p11.C_DecryptInit(session, aesGcm(iv, aad), key);
    control.fail("C_Decrypt", "CKR_DEVICE_ERROR", -1);
    for (let i = 0; i < 3; i++) {
      expect(await ckrOf(() => p11.C_Decrypt(session, ciphertext, Buffer.alloc(ciphertext.length)))).toBe(pkcs11js.CKR_DEVICE_ERROR);
    }
    // The async path runs on libuv's thread pool.
    expect(await ckrOf(() => p11.C_DecryptAsync(session, ciphertext, Buffer.alloc(ciphertext.length)))).toBe(pkcs11js.CKR_DEVICE_ERROR);
    control.clear();
    // SoftHSM2 never saw the failed calls, so the operation C_DecryptInit started is still active.
    expect(p11.C_Decrypt(session, ciphertext, Buffer.alloc(ciphertext.length)).equals(plaintext)).toBe(true);
  });

  it("a `*` fault spares C_Finalize and C_Initialize, so the module can be initialised again", async () => {
    control.fail("*", "CKR_TOKEN_NOT_PRESENT", -1);
    expect(await ckrOf(() => p11.C_GetSlotList(true))).toBe(pkcs11js.CKR_TOKEN_NOT_PRESENT);
    initialised = false;
    p11.C_Finalize();
    p11.C_Initialize();
    initialised = true;
    expect(await ckrOf(() => p11.C_GetSlotList(true))).toBe(pkcs11js.CKR_TOKEN_NOT_PRESENT);
    control.clear();
    expect(p11.C_GetSlotList(true).some((s) => s.equals(slot))).toBe(true);
    openSession();
    expect(p11.C_GenerateRandom(session, Buffer.alloc(8))).toHaveLength(8);
  });
});
