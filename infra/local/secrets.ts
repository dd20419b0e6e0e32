import { existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { dirname } from "node:path";
import { randomBytes } from "node:crypto";

/** Writes a secret file readable by its owner only (0600), creating its folder (0700). */
export function writeSecret(path: string, value: string): void {
  mkdirSync(dirname(path), { recursive: true, mode: 0o700 });
  writeFileSync(path, value, { mode: 0o600 });
}

/** The secret in `path`, created with `make` on first use. */
export function secretAt(path: string, make: () => string): string {
  if (existsSync(path)) return readFileSync(path, "utf8").trim();
  const value = make();
  writeSecret(path, `${value}\n`);
  return value;
}

/** A random PIN of digits and letters (SoftHSM accepts 4–255 characters). */
export const randomPin = (): string => randomBytes(12).toString("base64url");
