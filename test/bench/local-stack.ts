import type { ChildProcess } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { CONNECTOR_PATH } from "../../shared/protocol/frames.js";
import { freePort, startNodeProcess, stopProcess, waitFor } from "../../infra/local/processes.js";
import { bootstrapCredentials, connectorEnv, functionsEnv, stackState, startBackends } from "../../infra/local/stack.js";
import type { LoadArgs } from "./load.js";
import type { Summary } from "./stats.js";

export type BenchStack = { url: string; adminToken: string; stop(): Promise<void> };

/** The whole local stack in production-like mode (auth, policy, audit on), each part its own process, in a temp dir. */
export async function startBenchStack(): Promise<BenchStack> {
  const stateDir = mkdtempSync(join(tmpdir(), "tether-bench-"));
  const backends = await startBackends({ stateDir, persistent: false });
  const children: ChildProcess[] = [];
  const stop = async () => {
    await Promise.all(children.map((c) => stopProcess(c)));
    await backends.stop();
    rmSync(stateDir, { recursive: true, force: true });
  };
  try {
    const state = stackState(stateDir);
    const { admin, credentialFile } = await bootstrapCredentials(backends, state);
    const port = await freePort();
    const url = `http://127.0.0.1:${port}`;
    children.push(startNodeProcess("functions/node.ts", functionsEnv(backends, { host: "127.0.0.1", port, logLevel: "warn" })));
    await waitFor(async () => void (await fetch(`${url}/health`)), { timeoutMs: 30_000, what: "the functions" });
    const hubUrl = `ws://127.0.0.1:${port}${CONNECTOR_PATH}`;
    children.push(startNodeProcess("connector/main.ts", { ...connectorEnv(backends, { hubUrl, connectorId: state.connectorId, credentialFile, logLevel: "warn" }), TETHER_MAX_IN_FLIGHT: "512" }));
    await waitFor(
      async () => {
        const health = (await (await fetch(`${url}/health`)).json()) as { status: string };
        if (health.status !== "ok") throw new Error(`health is ${health.status}`);
      },
      { timeoutMs: 30_000, what: "the connector" },
    );
    return { url, adminToken: admin.token, stop };
  } catch (err) {
    await stop();
    throw err;
  }
}

/** Case A's server (raw node:http + AES-GCM), in its own process. */
export async function startCeilingServer(): Promise<{ url: string; stop(): Promise<void> }> {
  const port = await freePort();
  const server = startNodeProcess("test/bench/ceiling-server.ts", {}, { args: [String(port)] });
  const url = `http://127.0.0.1:${port}`;
  await waitFor(async () => void (await fetch(url, { method: "POST", body: JSON.stringify({ plaintext: "" }) })), { timeoutMs: 10_000, what: "the ceiling server" });
  return { url, stop: () => stopProcess(server) };
}

export type LoadResult = Summary & { statuses: Record<string, number>; serverTiming: Record<string, number> };

/** Runs the load generator in its own process and returns what it measured. */
export function runLoad(args: LoadArgs): Promise<LoadResult> {
  return new Promise((resolve, reject) => {
    const child = startNodeProcess("test/bench/load.ts", {}, { args: [JSON.stringify(args)], stdio: "pipe" });
    child.stderr?.pipe(process.stderr);
    let out = "";
    child.stdout?.on("data", (c: Buffer) => (out += c.toString()));
    child.once("exit", (code) => (code === 0 ? resolve(JSON.parse(out) as LoadResult) : reject(new Error(`load generator exited ${code}`))));
  });
}
