import { chmodSync, mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import * as z from "zod";
import { ConfigError, loadConfig, readSecretFile } from "./config.js";

const Schema = z.object({ port: z.coerce.number().int().max(65_535), name: z.string().min(1), level: z.enum(["info", "debug"]).default("info") });
const envNames = { port: "X_PORT", name: "X_NAME", level: "X_LEVEL" };
const dir = mkdtempSync(join(tmpdir(), "tether-config-"));

describe("loadConfig", () => {
  it("reads the environment and returns a frozen object", () => {
    const c = loadConfig(Schema, { env: { X_PORT: "80", X_NAME: "a" }, envNames, fileVar: "X_FILE" });
    expect(c).toEqual({ port: 80, name: "a", level: "info" });
    expect(Object.isFrozen(c)).toBe(true);
  });

  it("lets the environment override the file", () => {
    const file = join(dir, "c.json");
    writeFileSync(file, JSON.stringify({ port: 1, name: "file", level: "debug" }));
    const c = loadConfig(Schema, { env: { X_FILE: file, X_NAME: "env" }, envNames, fileVar: "X_FILE" });
    expect(c).toEqual({ port: 1, name: "env", level: "debug" });
  });

  it("names the bad setting and its variable, never the value", () => {
    const run = () => loadConfig(Schema, { env: { X_PORT: "99999999", X_NAME: "n", X_LEVEL: "hunter2-secret" }, envNames, fileVar: "X_FILE" });
    expect(run).toThrow(ConfigError);
    try {
      run();
    } catch (err) {
      const msg = (err as Error).message;
      expect(msg).toContain("port (X_PORT)");
      expect(msg).toContain("level (X_LEVEL)");
      expect(msg).not.toContain("99999999");
      expect(msg).not.toContain("hunter2-secret");
    }
  });

  it("refuses a config file that is not a JSON object", () => {
    const file = join(dir, "bad.json");
    writeFileSync(file, "[1,2]");
    expect(() => loadConfig(Schema, { env: { X_FILE: file }, envNames, fileVar: "X_FILE" })).toThrow(/X_FILE: the config file is not a JSON object/);
  });
});

describe("readSecretFile", () => {
  it("reads a 0600 file and refuses a group-readable one", () => {
    const file = join(dir, "pin");
    writeFileSync(file, "1234\n", { mode: 0o600 });
    expect(readSecretFile(file, "pinFile")).toBe("1234");
    chmodSync(file, 0o640);
    expect(() => readSecretFile(file, "pinFile")).toThrow(/pinFile: the secret file must not be readable by group or others/);
  });
});
