import { readFileSync, statSync } from "node:fs";
import type { z } from "zod";

/** A configuration problem. Its message names the settings at fault, never their values. */
export class ConfigError extends Error {
  override readonly name = "ConfigError";
}

type Env = Record<string, string | undefined>;

/**
 * Builds one frozen config from an optional JSON file and environment variables (env wins).
 * `envNames` maps each config key to the variable that may set it; `fileVar` names the
 * variable holding the optional file's path.
 */
export function loadConfig<S extends z.ZodObject>(
  schema: S,
  opts: { env: Env; envNames: Partial<Record<keyof z.input<S> & string, string>>; fileVar: string },
): Readonly<z.output<S>> {
  const fromFile = readConfigFile(opts.env[opts.fileVar], opts.fileVar);
  const fromEnv: Record<string, unknown> = {};
  for (const [key, envName] of Object.entries(opts.envNames) as [string, string][]) {
    const value = opts.env[envName];
    if (value !== undefined && value !== "") fromEnv[key] = value;
  }
  const result = schema.safeParse({ ...fromFile, ...fromEnv });
  if (!result.success) {
    const problems = result.error.issues.map((issue) => {
      const key = issue.path.join(".") || "(root)";
      const envName = (opts.envNames as Record<string, string | undefined>)[String(issue.path[0])];
      return `${key}${envName ? ` (${envName})` : ""}: ${issue.message}`;
    });
    throw new ConfigError(`invalid configuration: ${problems.join("; ")}`);
  }
  return Object.freeze(result.data);
}

function readConfigFile(path: string | undefined, fileVar: string): Record<string, unknown> {
  if (!path) return {};
  let text: string;
  try {
    text = readFileSync(path, "utf8");
  } catch {
    throw new ConfigError(`${fileVar}: cannot read the config file it names`);
  }
  try {
    const parsed: unknown = JSON.parse(text);
    if (typeof parsed !== "object" || parsed === null || Array.isArray(parsed)) throw new Error();
    return parsed as Record<string, unknown>;
  } catch {
    throw new ConfigError(`${fileVar}: the config file is not a JSON object`);
  }
}

/** Reads a secret from a file readable by its owner only (mode 0600 or stricter). */
export function readSecretFile(path: string, setting: string): string {
  let mode: number;
  try {
    mode = statSync(path).mode;
  } catch {
    throw new ConfigError(`${setting}: cannot read the secret file it names`);
  }
  if ((mode & 0o077) !== 0) {
    throw new ConfigError(`${setting}: the secret file must not be readable by group or others (chmod 600)`);
  }
  return readFileSync(path, "utf8").trim();
}

/** Runs a process entry point: a ConfigError prints one line and exits 2, with no stack trace. */
export async function runMain(name: string, main: () => Promise<unknown>): Promise<void> {
  try {
    await main();
  } catch (err) {
    if (err instanceof ConfigError) {
      process.stderr.write(`${name}: ${err.message}\n`);
      process.exit(2);
    }
    process.stderr.write(`${name}: failed to start: ${err instanceof Error ? err.message : String(err)}\n`);
    process.exit(1);
  }
}
