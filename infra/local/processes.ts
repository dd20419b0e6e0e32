import { spawn, type ChildProcess } from "node:child_process";
import { createServer } from "node:net";
import { fileURLToPath } from "node:url";

export const ROOT = fileURLToPath(new URL("../..", import.meta.url));

// The AWS SDK warns on Node 20 about its releases after January 2027; this project pins its SDK.
process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= "true";

/** A free TCP port on 127.0.0.1. */
export const freePort = (): Promise<number> =>
  new Promise((resolve, reject) => {
    const srv = createServer();
    srv.once("error", reject);
    srv.listen(0, "127.0.0.1", () => {
      const addr = srv.address();
      srv.close(() => (typeof addr === "object" && addr ? resolve(addr.port) : reject(new Error("no port"))));
    });
  });

/** Retries `probe` until it resolves or the time runs out; the last error explains the failure. */
export async function waitFor(probe: () => Promise<void>, o: { timeoutMs: number; what: string; intervalMs?: number }): Promise<void> {
  const until = Date.now() + o.timeoutMs;
  let last: unknown;
  while (Date.now() < until) {
    try {
      await probe();
      return;
    } catch (err) {
      last = err;
      await new Promise((r) => setTimeout(r, o.intervalMs ?? 100));
    }
  }
  throw new Error(`${o.what} did not become ready within ${o.timeoutMs} ms: ${last instanceof Error ? last.message : String(last)}`);
}

/** Kills the child if this process exits first, even on a crash: nothing it started outlives it. */
export function killOnExit(child: ChildProcess): ChildProcess {
  const kill = () => child.kill("SIGKILL");
  process.once("exit", kill);
  child.once("exit", () => process.removeListener("exit", kill));
  return child;
}

/** Stops a child by PID: SIGTERM, then SIGKILL after `graceMs`. Resolves once it has exited. */
export function stopProcess(child: ChildProcess, graceMs = 5_000): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null || child.pid === undefined) return Promise.resolve();
  return new Promise((resolve) => {
    const kill = setTimeout(() => child.kill("SIGKILL"), graceMs);
    child.once("exit", () => {
      clearTimeout(kill);
      resolve();
    });
    child.kill("SIGTERM");
  });
}

/**
 * Starts one of Tether's TypeScript entry points (relative to the repo root) under Node with tsx,
 * or a JavaScript bundle as it is (`.mjs`: no loader, as in production).
 * With TETHER_CPU_PROF_DIR set, each child writes a CPU profile there when it exits.
 */
export function startNodeProcess(entry: string, env: Record<string, string>, o: { stdio?: "inherit" | "pipe"; args?: string[] } = {}): ChildProcess {
  const profile = process.env.TETHER_CPU_PROF_DIR ? ["--cpu-prof", `--cpu-prof-dir=${process.env.TETHER_CPU_PROF_DIR}`] : [];
  const loader = entry.endsWith(".mjs") ? [] : ["--import", "tsx"];
  return killOnExit(
    spawn(process.execPath, [...profile, ...loader, entry, ...(o.args ?? [])], {
      cwd: ROOT,
      env: { ...process.env, ...env },
      stdio: ["ignore", o.stdio ?? "inherit", o.stdio ?? "inherit"],
    }),
  );
}
