import type { ChildProcess } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { CONNECTOR_PATH } from "../../shared/protocol/frames.js";
import { freePort, startNodeProcess, stopProcess, waitFor } from "../../infra/local/processes.js";
import { bootstrapCredentials, connectorEnv, functionsEnv, stackState, startBackends } from "../../infra/local/stack.js";
import { bundleForNode } from "../../infra/aws/bundle.js";
import { startTcpProxy } from "../support/tcp-proxy.js";
import type { LoadArgs } from "./load.js";
import type { Summary } from "./stats.js";

export type BenchStack = {
  url: string;
  adminToken: string;
  /** Authenticated JSON call to the functions. */
  call(method: string, path: string, body?: unknown): Promise<{ status: number; body: Record<string, unknown>; serverTiming: Record<string, number> }>;
  /** One-way delay added to every chunk on the connector's link (a WAN between cloud and site). */
  setLinkDelay(ms: number): void;
  /** Resident memory of the functions process, from /proc. */
  functionsRssMiB(): number;
  /** Stops the functions process and starts a new one (caches empty) with extra settings; resolves when it listens and the connector is back. */
  restartFunctions(env?: Record<string, string>): Promise<{ spawnedAt: number; listeningMs: number }>;
  stop(): Promise<void>;
};

/**
 * The whole local stack in production-like mode (auth, policy, audit on; the functions run from
 * their esbuild bundle, as a container would), each part its own process, in a temp dir. The connector reaches the functions through a TCP proxy on loopback
 * whose delay can be set, to stand for the WAN (this machine has no netem).
 */
export async function startBenchStack(env: Record<string, string> = {}): Promise<BenchStack> {
  const stateDir = mkdtempSync(join(tmpdir(), "tether-bench-"));
  const backends = await startBackends({ stateDir, persistent: false });
  let functions: ChildProcess | undefined;
  let connector: ChildProcess | undefined;
  let proxy: Awaited<ReturnType<typeof startTcpProxy>> | undefined;
  const stop = async () => {
    for (const child of [connector, functions]) if (child) await stopProcess(child);
    await proxy?.close();
    await backends.stop();
    rmSync(stateDir, { recursive: true, force: true });
  };
  try {
    const state = stackState(stateDir);
    const { admin, credentialFile } = await bootstrapCredentials(backends, state);
    const port = await freePort();
    const url = `http://127.0.0.1:${port}`;
    // The connector's way in: a proxy on its own port, forwarding to the functions' port.
    proxy = await startTcpProxy(port);
    const headers = { authorization: `Bearer ${admin.token}`, "content-type": "application/json" };
    const call = async (method: string, path: string, body?: unknown) => {
      const res = await fetch(`${url}${path}`, { method, headers, ...(method === "GET" ? {} : { body: JSON.stringify(body ?? {}) }) });
      const serverTiming = Object.fromEntries([...(res.headers.get("server-timing") ?? "").matchAll(/([\w-]+);dur=([\d.]+)/g)].map(([, name, dur]) => [name as string, Number(dur)]));
      return { status: res.status, body: (await res.json()) as Record<string, unknown>, serverTiming };
    };
    const healthy = () =>
      waitFor(
        async () => {
          const health = (await (await fetch(`${url}/health`)).json()) as { status: string };
          if (health.status !== "ok") throw new Error(`health is ${health.status}`);
        },
        { timeoutMs: 30_000, what: "the functions and the connector", intervalMs: 20 },
      );
    // The production build of the Node server: one bundle, no TypeScript loader.
    const { file: server } = await bundleForNode("functions/node.ts", stateDir);
    const startFunctions = async (extra: Record<string, string>) => {
      const spawnedAt = performance.now();
      functions = startNodeProcess(server, { ...functionsEnv(backends, { host: "127.0.0.1", port, logLevel: "warn", operatorTenant: state.tenant }), ...env, ...extra });
      await waitFor(async () => void (await fetch(`${url}/health`)), { timeoutMs: 30_000, what: "the functions", intervalMs: 10 });
      return { spawnedAt, listeningMs: Math.round(performance.now() - spawnedAt) };
    };
    await startFunctions({});
    connector = startNodeProcess("connector/main.ts", {
      ...connectorEnv(backends, { hubUrl: `ws://127.0.0.1:${proxy.port}${CONNECTOR_PATH}`, connectorId: state.connectorId, credentialFile, logLevel: "warn" }),
      TETHER_MAX_IN_FLIGHT: "1024",
    });
    await healthy();
    const link = proxy;
    return {
      url,
      adminToken: admin.token,
      call,
      setLinkDelay: (ms) => link.setDelay(ms),
      functionsRssMiB: () => {
        const status = readFileSync(`/proc/${functions?.pid}/status`, "utf8");
        return Math.round(Number(/VmRSS:\s+(\d+) kB/.exec(status)?.[1] ?? 0) / 1024);
      },
      restartFunctions: async (extra = {}) => {
        if (functions) await stopProcess(functions);
        const started = await startFunctions(extra);
        await healthy();
        return started;
      },
      stop,
    };
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

export type LoadResult = Summary & { statuses: Record<string, number>; serverTiming: Record<string, number>; serverTimingP99: Record<string, number> };

/** Runs the load generator in its own process and returns what it measured (its arguments go through a file: bodies and key lists outgrow argv). */
export async function runLoad(args: LoadArgs): Promise<LoadResult> {
  const dir = mkdtempSync(join(tmpdir(), "tether-load-"));
  const file = join(dir, "args.json");
  writeFileSync(file, JSON.stringify(args));
  try {
    return await new Promise((resolve, reject) => {
      const child = startNodeProcess("test/bench/load.ts", {}, { args: [file], stdio: "pipe" });
      child.stderr?.pipe(process.stderr);
      let out = "";
      child.stdout?.on("data", (c: Buffer) => (out += c.toString()));
      child.once("exit", (code) => (code === 0 ? resolve(JSON.parse(out) as LoadResult) : reject(new Error(`load generator exited ${code}`))));
    });
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
