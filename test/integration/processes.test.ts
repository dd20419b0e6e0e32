import { spawnSync } from "node:child_process";
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { ROOT } from "../../infra/local/processes.js";
import { backends } from "../support/stack.js";

const run = (entry: string, env: Record<string, string>) => {
  const r = spawnSync(process.execPath, ["--import", "tsx", entry], {
    cwd: ROOT,
    env: { PATH: process.env.PATH ?? "", HOME: process.env.HOME ?? "", ...env },
    encoding: "utf8",
    timeout: 30_000,
  });
  return { status: r.status, stderr: r.stderr, lines: r.stderr.trim().split("\n") };
};

const connectorBase = () => {
  const b = backends();
  return {
    SOFTHSM2_CONF: b.softhsmConf,
    TETHER_HUB_URL: "ws://127.0.0.1:9/connector",
    TETHER_CONNECTOR_ID: "cfg-test",
    TETHER_CONNECTOR_CREDENTIAL_FILE: join(b.stateDir, "no-such-credential.pem"),
    TETHER_FUNCTIONS_PUBLIC_KEY_FILE: b.functionsIdentity.publicKeyFile,
    TETHER_PKCS11_MODULE: b.modulePath,
    TETHER_TOKEN_LABEL: b.tokenLabel,
  };
};

describe("start-up with bad configuration: one clear line, non-zero exit, no stack trace", () => {
  it.each([
    [{ TETHER_TABLE: "t-main", TETHER_PORT: "eighty-eighty" }, "port (TETHER_PORT)", "eighty-eighty"],
    [{ TETHER_TABLE: "t-main", TETHER_STAGE: "production-secret" }, "stage (TETHER_STAGE)", "production-secret"],
    [{}, "tableName (TETHER_TABLE)", undefined],
    [{ TETHER_TABLE: "t-main", TETHER_DYNAMO_ENDPOINT: "ftp://sneaky:pw@host" }, "dynamoEndpoint (TETHER_DYNAMO_ENDPOINT)", "sneaky:pw"],
  ])("functions %j", (env, names, value) => {
    const r = run("functions/node.ts", env as Record<string, string>);
    expect(r.status).toBe(2);
    expect(r.lines).toHaveLength(1);
    expect(r.stderr).toContain(names);
    expect(r.stderr).not.toMatch(/\n\s+at /);
    if (value) expect(r.stderr).not.toContain(value);
  });

  it("connector: a PIN neither in the environment nor in a file", () => {
    const r = run("connector/main.ts", connectorBase());
    expect(r.status).toBe(2);
    expect(r.lines).toEqual(["tether-connector: invalid configuration: pin (TETHER_PKCS11_PIN) or pinFile (TETHER_PKCS11_PIN_FILE) is required"]);
  });

  it("connector: no trusted functions identity, or a hub in clear off this machine, is refused", () => {
    const { TETHER_FUNCTIONS_PUBLIC_KEY_FILE: _omitted, ...withoutIdentity } = connectorBase();
    const noIdentity = run("connector/main.ts", { ...withoutIdentity, TETHER_PKCS11_PIN: "123456" });
    expect(noIdentity.status).toBe(2);
    expect(noIdentity.lines).toEqual([expect.stringContaining("functionsPublicKeyFile (TETHER_FUNCTIONS_PUBLIC_KEY_FILE) is required")]);
    const inClear = run("connector/main.ts", { ...connectorBase(), TETHER_PKCS11_PIN: "123456", TETHER_HUB_URL: "ws://hub.example.com/connector" });
    expect(inClear.status).toBe(2);
    expect(inClear.lines).toEqual([expect.stringContaining("hubUrl (TETHER_HUB_URL): a wss:// URL")]);
  });

  it("connector: a PIN file readable by others is refused", () => {
    const file = join(backends().stateDir, "loose-pin");
    writeFileSync(file, "123456", { mode: 0o644 });
    const r = run("connector/main.ts", { ...connectorBase(), TETHER_PKCS11_PIN_FILE: file });
    expect(r.status).toBe(2);
    expect(r.stderr).toContain("pinFile (TETHER_PKCS11_PIN_FILE): the secret file must not be readable by group or others");
  });

  it("connector: a wrong PIN is a clear start-up error that does not echo the PIN", async () => {
    const { generateKeyPairSync } = await import("node:crypto");
    const credential = join(backends().stateDir, "cfg-test.pem");
    writeFileSync(credential, generateKeyPairSync("ed25519").privateKey.export({ type: "pkcs8", format: "pem" }), { mode: 0o600 });
    const r = run("connector/main.ts", { ...connectorBase(), TETHER_CONNECTOR_CREDENTIAL_FILE: credential, TETHER_PKCS11_PIN: "wrong-pin-9876" });
    expect(r.status).toBe(1);
    expect(r.stderr).toContain('login to slot "0" failed: wrong PIN');
    expect(r.stderr).not.toContain("wrong-pin-9876");
    expect(r.stderr).not.toMatch(/\n\s+at /);
  });
});
