import type { ChildProcess } from "node:child_process";
import { resolve } from "node:path";
import * as z from "zod";
import { ConfigError, loadConfig } from "../../shared/config.js";
import { CONNECTOR_PATH } from "../../shared/protocol/frames.js";
import { PrerequisiteError } from "./prereqs.js";
import { ROOT, startNodeProcess, stopProcess, waitFor } from "./processes.js";
import { bootstrapCredentials, connectorEnv, functionsEnv, REGION, stackState, startBackends, type Backends } from "./stack.js";
import { AWS_PROFILE, ensureAwsCredentials } from "./aws-credentials.js";
import { ensureXksProxy } from "./xks-proxy.js";

/**
 * `npm run dev`: DynamoDB Local (persistent under .tether/), the SoftHSM2 token, the functions
 * on Node and one connector. Prints how to call it. Ctrl-C or SIGTERM stops every child.
 */
const DevConfig = z.object({
  host: z.string().min(1).default("127.0.0.1"),
  port: z.coerce.number().int().min(1).max(65_535).default(8080),
  stateDir: z.string().min(1).default(resolve(ROOT, ".tether")),
  logLevel: z.enum(["debug", "info", "warn", "error"]).default("info"),
});

const say = (line = "") => process.stdout.write(`${line}\n`);
const children: ChildProcess[] = [];
let backends: Backends | undefined;
let stopping = false;

async function shutdown(code: number): Promise<never> {
  stopping = true;
  // In start order: the functions first, so their last audit checkpoints are signed while the connector is still there.
  for (const child of children) await stopProcess(child);
  await backends?.stop();
  process.exit(code);
}

function supervise(name: string, child: ChildProcess): ChildProcess {
  children.push(child);
  child.once("exit", (code, signal) => {
    if (stopping) return;
    process.stderr.write(`tether dev: ${name} exited unexpectedly (${signal ?? code}); stopping the stack\n`);
    void shutdown(1);
  });
  return child;
}

async function main(): Promise<void> {
  const config = loadConfig(DevConfig, {
    env: process.env,
    fileVar: "TETHER_DEV_CONFIG",
    envNames: { host: "TETHER_HOST", port: "TETHER_PORT", stateDir: "TETHER_STATE_DIR", logLevel: "TETHER_LOG_LEVEL" },
  });
  process.once("SIGINT", () => void shutdown(0));
  process.once("SIGTERM", () => void shutdown(0));

  say("tether dev: starting DynamoDB Local and the SoftHSM2 token…");
  backends = await startBackends({ stateDir: config.stateDir, persistent: true, say });
  const state = stackState(config.stateDir);
  const { admin, credentialFile } = await bootstrapCredentials(backends, state);

  const url = `http://${config.host}:${config.port}`;
  supervise("functions", startNodeProcess("functions/node.ts", functionsEnv(backends, { ...config, operatorTenant: state.tenant })));
  await waitFor(async () => void (await fetch(`${url}/health`)), { timeoutMs: 30_000, what: "the functions" });

  const hubUrl = `ws://${config.host}:${config.port}${CONNECTOR_PATH}`;
  supervise("connector", startNodeProcess("connector/main.ts", connectorEnv(backends, { hubUrl, connectorId: state.connectorId, credentialFile, logLevel: config.logLevel })));
  await waitFor(
    async () => {
      const health = (await (await fetch(`${url}/health`)).json()) as { status: string };
      if (health.status !== "ok") throw new Error(`health is ${health.status}`);
    },
    { timeoutMs: 30_000, what: "the connector" },
  );

  const keyFile = resolve(config.stateDir, "admin-api-key");
  say();
  say(`Tether is running at ${url}  (DynamoDB Local ${backends.dynamo.endpoint}, SoftHSM2 token "${backends.token.tokenLabel}")`);
  say();
  say(`  tenant      ${state.tenant}`);
  say(`  admin key   ${admin.token}`);
  say(`              ${admin.created ? "created now; " : ""}kept in ${keyFile} (mode 0600)`);
  say();
  const aws = await ensureAwsCredentials({ stateDir: config.stateDir, url, adminToken: admin.token, region: REGION });
  say(`  AWS SDKs and the AWS CLI (access key of the admin, ${aws.created ? "created now; " : ""}in ${aws.file}, mode 0600):`);
  say(`    export AWS_SHARED_CREDENTIALS_FILE=${aws.file} AWS_PROFILE=${AWS_PROFILE} AWS_REGION=${REGION} AWS_ENDPOINT_URL_KMS=${url}`);
  say(`    aws kms list-keys --endpoint-url ${url}`);
  say();
  const auth = `-H "Authorization: Bearer $(cat ${keyFile})" -H 'content-type: application/json'`;
  say("  Try:");
  say(`    curl -s ${url}/health`);
  say(`    KEY=$(curl -s -X POST ${url}/v1/keys ${auth} -d '{"description":"my first key"}' | sed -E 's/.*"keyId":"([^"]+)".*/\\1/')`);
  say(`    curl -s -X POST ${url}/v1/keys/$KEY/encrypt ${auth} -d '{"plaintext":"aGVsbG8=","encryptionContext":{"app":"demo"}}'`);
  say(`    curl -s -X POST ${url}/v1/random ${auth} -d '{"numberOfBytes":32}'`);
  say(`  API reference: ${url}/docs (OpenAPI: ${url}/openapi.json)`);
  say();
  const xks = await ensureXksProxy({ stateDir: config.stateDir, url, host: config.host, port: config.port, adminToken: admin.token });
  say(`  XKS proxy API (AWS external key stores) at ${url}/tether/dev/kms/xks/v1, four test keys (${xks.created ? "created now; " : ""}in ${xks.file}, mode 0600).`);
  say("  AWS's test client (aws-samples/aws-kms-xksproxy-test-client), from its folder:");
  say(`    set -a; . ${xks.file}; ./test-xks-proxy -a`);
  say();
  say(`  Ctrl-C stops everything; data stays in ${config.stateDir} for the next start.`);
}

main().catch(async (err: unknown) => {
  const known = err instanceof ConfigError || err instanceof PrerequisiteError;
  process.stderr.write(`tether dev: ${known ? (err as Error).message : `failed to start: ${err instanceof Error ? err.message : String(err)}`}\n`);
  await shutdown(known ? 2 : 1);
});
