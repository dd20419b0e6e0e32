import { appendFileSync, mkdirSync } from "node:fs";
import { join } from "node:path";

/**
 * What the whole integration run must never reveal, and where it could: every test file writes
 * here the secrets it used (plaintexts, key bytes, tokens) and every log line its functions and
 * connectors printed; test/leaks/ reads it all back after the run, together with every stored
 * item and every connector audit file, and fails if any secret shows up.
 */
export const ledgerDir = (): string => {
  const stateDir = process.env.TETHER_TEST_STATE_DIR;
  if (!stateDir) throw new Error("TETHER_TEST_STATE_DIR is unset: the integration project's global setup did not run");
  const dir = join(stateDir, "leak-ledger");
  mkdirSync(dir, { recursive: true });
  return dir;
};

/** Records secrets this test file used, in any form (they are searched as utf-8, base64, base64url and hex). */
export function rememberSecrets(...secrets: (string | Uint8Array)[]): void {
  const lines = secrets.map((s) => `${Buffer.from(s).toString("base64")}\n`).join("");
  appendFileSync(join(ledgerDir(), `secrets-${process.pid}.b64`), lines);
}

/** Appends output (log lines) of a process or logger to the ledger. */
export function rememberOutput(source: string, text: string): void {
  appendFileSync(join(ledgerDir(), `${source.replace(/[^\w.-]/g, "_")}-${process.pid}.log`), text);
}
