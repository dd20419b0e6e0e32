import { generateKeyPairSync } from "node:crypto";
import { chmodSync, existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { CONNECTOR_ENV, loadConnectorConfig } from "../config.js";

const here = (name: string) => join(import.meta.dirname, name);
const unit = readFileSync(here("tether-connector.service"), "utf8");
const settings = (text: string, prefix = "") =>
  Object.fromEntries(
    text
      .split("\n")
      .filter((l) => l.startsWith(prefix) && !l.startsWith("#") && l.includes("="))
      .map((l) => l.slice(prefix.length))
      .map((l) => [l.slice(0, l.indexOf("=")), l.slice(l.indexOf("=") + 1)]),
  ) as Record<string, string>;

describe("the shipped systemd unit and example environment", () => {
  const known = new Set<string>(Object.values(CONNECTOR_ENV));
  const fromUnit = settings(unit, "Environment=");
  const example = settings(readFileSync(here("connector.env.example"), "utf8"));

  it("set only variables the connector reads, and pass no secret through the environment", () => {
    expect(Object.keys({ ...fromUnit, ...example }).filter((name) => !known.has(name))).toEqual([]);
    expect(Object.keys({ ...fromUnit, ...example })).not.toContain(CONNECTOR_ENV.pin);
    expect(fromUnit[CONNECTOR_ENV.pinFile]).toBe("%d/pkcs11-pin");
    expect(unit).toMatch(/^LoadCredential=pkcs11-pin:/m);
  });

  it("start the connector's entry point from the install directory and drain on SIGTERM within the stop timeout", () => {
    const dir = /^WorkingDirectory=(.+)$/m.exec(unit)?.[1];
    const exec = /^ExecStart=\/usr\/bin\/node --import tsx (\S+)$/m.exec(unit)?.[1] ?? "";
    expect(dir).toBe("/opt/tether");
    expect(existsSync(join(import.meta.dirname, "..", "..", exec))).toBe(true);
    expect(unit).toMatch(/^KillSignal=SIGTERM$/m);
    const main = readFileSync(join(import.meta.dirname, "..", "main.ts"), "utf8");
    const drainMs = Number(/DRAIN_TIMEOUT_MS = ([\d_]+)/.exec(main)?.[1]?.replaceAll("_", ""));
    expect(Number(/^TimeoutStopSec=(\d+)$/m.exec(unit)?.[1]) * 1000).toBeGreaterThan(drainMs);
  });

  it("make a valid connector configuration once the credentials exist", () => {
    const creds = mkdtempSync(join(tmpdir(), "tether-credentials-"));
    try {
      for (const [name, content] of [
        ["pkcs11-pin", "123456\n"],
        ["connector-key.pem", "not read at config time"],
      ] as const) {
        writeFileSync(join(creds, name), content);
        chmodSync(join(creds, name), 0o400);
      }
      // The functions' public key, from the deployment, where the example expects it (here, the temporary directory).
      writeFileSync(join(creds, "functions-identity.pub.pem"), generateKeyPairSync("ed25519").publicKey.export({ type: "spki", format: "pem" }).toString());
      const env = Object.fromEntries(Object.entries({ ...example, ...fromUnit }).map(([k, v]) => [k, v.replace("%d", creds).replace("%S", "/var/lib").replace("/etc/tether", creds)]));
      const config = loadConnectorConfig(env);
      expect(config).toMatchObject({ connectorId: "site-a-1", tokenLabel: "tether", auditFile: "/var/lib/tether-connector/audit.jsonl", maxInFlight: 64 });
      expect(config.slots[0]?.sessions).toBe(2);
    } finally {
      rmSync(creds, { recursive: true, force: true });
    }
  });
});
