import { readFileSync } from "node:fs";
import pkcs11js from "pkcs11js";
import { beforeAll, describe, expect, it } from "vitest";
import { Pkcs11Module, findOne } from "../../connector/pkcs11/module.js";
import { SessionPool } from "../../connector/pkcs11/session-pool.js";
import { Pkcs11Hsm } from "../../connector/pkcs11/pkcs11-hsm.js";
import { silentLogger } from "../../shared/log.js";
import { backends } from "../support/stack.js";

const pin = () => readFileSync(backends().userPinFile, "utf8").trim();
const randomVia = (mod: Pkcs11Module, pool: SessionPool) => pool.use("random", (s) => mod.p11.C_GenerateRandom(s, Buffer.alloc(8)));

/** A module and a started two-session pool on the test token, closed afterwards. */
async function withPool(fn: (mod: Pkcs11Module, pool: SessionPool) => Promise<void>): Promise<void> {
  const mod = new Pkcs11Module(backends().modulePath);
  const pool = new SessionPool(mod, { name: "0", tokenLabel: backends().tokenLabel, pin: pin(), sessions: 2 }, silentLogger);
  try {
    pool.start();
    await fn(mod, pool);
  } finally {
    pool.close();
    mod.close();
  }
}

describe("PKCS#11 session pool on SoftHSM2: recovery without a restart", () => {
  beforeAll(() => {
    process.env.SOFTHSM2_CONF = backends().softhsmConf;
  });

  it("replaces sessions closed under it (CKR_SESSION_HANDLE_INVALID)", () =>
    withPool(async (mod, pool) => {
      expect(await randomVia(mod, pool)).toHaveLength(8);
      mod.p11.C_CloseAllSessions(mod.findSlot(backends().tokenLabel).slot);
      expect(await randomVia(mod, pool)).toHaveLength(8);
      expect(mod.generation).toBe(0);
    }));

  it("re-initialises the module after it was finalized under it (CKR_CRYPTOKI_NOT_INITIALIZED)", () =>
    withPool(async (mod, pool) => {
      expect(await randomVia(mod, pool)).toHaveLength(8);
      mod.p11.C_Finalize();
      expect(await randomVia(mod, pool)).toHaveLength(8);
      expect(mod.generation).toBe(1);
    }));

  it("bounds concurrency to the configured sessions and serves every waiter", () =>
    withPool(async (mod, pool) => {
      let running = 0;
      let peak = 0;
      await Promise.all(
        Array.from({ length: 50 }, () =>
          pool.use("random", async (s) => {
            running += 1;
            peak = Math.max(peak, running);
            await new Promise((r) => setTimeout(r, 2));
            const out = mod.p11.C_GenerateRandom(s, Buffer.alloc(4));
            running -= 1;
            return out;
          }),
        ),
      );
      expect(peak).toBe(2);
    }));

  it("a sensitive HSM key cannot be exported: no value read, no wrap out", async () => {
    const hsm = new Pkcs11Hsm({ modulePath: backends().modulePath, slots: [{ name: "0", tokenLabel: backends().tokenLabel, pin: pin(), sessions: 1 }], rootKeyLabel: backends().rootKeyLabel, healthTtlMs: 0 }, silentLogger);
    const call = { requestId: "export", deadline: Date.now() + 5_000 };
    await hsm.resident.createKey({ slot: "0", label: "sensitive-export" }, "AES_256", { sensitive: true }, call);
    await hsm.close();
    const mod = new Pkcs11Module(backends().modulePath);
    const s = mod.p11.C_OpenSession(mod.findSlot(backends().tokenLabel).slot, pkcs11js.CKF_SERIAL_SESSION | pkcs11js.CKF_RW_SESSION);
    try {
      mod.p11.C_Login(s, pkcs11js.CKU_USER, pin());
      const key = findOne(mod.p11, s, [{ type: pkcs11js.CKA_LABEL, value: "sensitive-export" }]) as Buffer;
      expect(() => mod.p11.C_GetAttributeValue(s, key, [{ type: pkcs11js.CKA_VALUE }])).toThrow(/CKR_ATTRIBUTE_SENSITIVE/);
      const wrappingKey = mod.p11.C_GenerateKey(s, { mechanism: pkcs11js.CKM_AES_KEY_GEN }, [
        { type: pkcs11js.CKA_VALUE_LEN, value: 32 },
        { type: pkcs11js.CKA_WRAP, value: true },
        { type: pkcs11js.CKA_TOKEN, value: false },
      ]);
      expect(() => mod.p11.C_WrapKey(s, { mechanism: pkcs11js.CKM_AES_KEY_WRAP_PAD }, wrappingKey, key, Buffer.alloc(64))).toThrow(/CKR_KEY_UNEXTRACTABLE/);
      mod.p11.C_DestroyObject(s, key);
    } finally {
      mod.p11.C_CloseSession(s);
      mod.close();
    }
  });
});
