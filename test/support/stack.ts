import type { ChildProcess } from "node:child_process";
import { randomBytes } from "node:crypto";
import { expect, inject } from "vitest";
import { createDynamoClient } from "../../functions/db/dynamo-store.js";
import { DynamoIdentityStore } from "../../functions/identity/dynamo-store.js";
import { loadFunctionsConfig } from "../../functions/config.js";
import { startServer, type RunningServer } from "../../functions/server.js";
import { ensureAdminApiKey, ensureConnectorCredential, randomTenantId } from "../../infra/local/bootstrap.js";
import { ensureTables } from "../../infra/local/dynamodb.js";
import { startNodeProcess, stopProcess, waitFor } from "../../infra/local/processes.js";
import { connectorEnv, type Backends } from "../../infra/local/stack.js";
import { createLogger } from "../../shared/log.js";
import { CONNECTOR_PATH } from "../../shared/protocol/frames.js";
import { rememberOutput, rememberSecrets } from "./leak-ledger.js";
import { recordChild } from "./children.js";

/** Every log line the in-process functions wrote during this test file. */
export const capturedLogs: string[] = [];

export const backends = () => inject("backends");

/** A table set of its own for one test file, in the run's DynamoDB Local (or the one at `endpoint`). */
export async function freshTables(endpoint = backends().dynamoEndpoint): Promise<string> {
  const tables = await ensureTables(endpoint, `t${randomBytes(4).toString("hex")}`);
  return tables.main as string;
}

export type TestStack = {
  server: RunningServer;
  url: string;
  hubUrl: string;
  tableName: string;
  tenant: string;
  adminToken: string;
  identity: DynamoIdentityStore;
  close(): Promise<void>;
};

/**
 * The functions, in this process, on a free port, over fresh tables; with a tenant admin key.
 * `dynamo` is a DynamoDB of the test's own (for the server, its tables and the admin key);
 * `dynamoEndpoint` points the server (only) elsewhere, e.g. at a port where nothing listens.
 */
export async function startFunctions(
  o: { tableName?: string; port?: number; dynamo?: string; dynamoEndpoint?: string; requestTimeoutMs?: number; metadataTtlMs?: number; tenant?: string; operator?: boolean; env?: Record<string, string> } = {},
): Promise<TestStack> {
  const b = backends();
  const dynamo = o.dynamo ?? b.dynamoEndpoint;
  const tableName = o.tableName ?? (await freshTables(dynamo));
  const tenant = o.tenant ?? randomTenantId();
  const config = loadFunctionsConfig({
    ...(o.operator ? { TETHER_OPERATOR_TENANT: tenant } : {}),
    TETHER_TABLE: tableName,
    TETHER_DYNAMO_ENDPOINT: o.dynamoEndpoint ?? dynamo,
    TETHER_PORT: String(o.port ?? 0),
    TETHER_REQUEST_TIMEOUT_MS: String(o.requestTimeoutMs ?? 5_000),
    TETHER_HEALTH_TIMEOUT_MS: "1000",
    TETHER_METADATA_TTL_MS: String(o.metadataTtlMs ?? 1000),
    TETHER_FUNCTIONS_IDENTITY_KEY_FILE: b.functionsIdentity.keyFile,
    ...o.env,
  });
  const log = createLogger({
    name: "functions",
    level: "debug",
    destination: {
      write: (line) => {
        capturedLogs.push(line);
        rememberOutput("functions", line);
      },
    },
  });
  const server = await startServer(config, log);
  const db = createDynamoClient({ region: "us-east-1", endpoint: dynamo });
  const identity = new DynamoIdentityStore(db, tableName);
  const { token } = await ensureAdminApiKey(`${b.stateDir}/${tableName}`, identity, tenant);
  rememberSecrets(token);
  return {
    server,
    url: server.url,
    hubUrl: `${server.url.replace(/^http/, "ws")}${CONNECTOR_PATH}`,
    tableName,
    tenant,
    adminToken: token,
    identity,
    close: async () => {
      await server.close();
      db.destroy();
    },
  };
}

/** Backends as infra/local's env builders want them. */
const asBackends = (): Backends => {
  const b = backends();
  return {
    stateDir: b.stateDir,
    dynamo: { endpoint: b.dynamoEndpoint, pid: b.dynamoPid, stop: async () => undefined },
    tableName: "",
    token: { modulePath: b.modulePath, conf: b.softhsmConf, tokenLabel: b.tokenLabel, rootKeyLabel: b.rootKeyLabel, userPin: "", soPin: "" },
    userPinFile: b.userPinFile,
    functionsIdentity: b.functionsIdentity,
    stop: async () => undefined,
  };
};

export type ConnectorProcess = { child: ChildProcess; output: () => string; stop(): Promise<void> };

/** A real connector process, registered with the stack's identity store, dialling the stack's hub. */
const CRASH_SIGNALS: ReadonlySet<string> = new Set(["SIGSEGV", "SIGABRT", "SIGBUS", "SIGILL", "SIGFPE"]);

/** How a child process ended, once it has (whether it already had or not). */
export const exitOf = (child: ChildProcess): Promise<{ code: number | null; signal: NodeJS.Signals | null }> =>
  child.exitCode !== null || child.signalCode !== null
    ? Promise.resolve({ code: child.exitCode, signal: child.signalCode })
    : new Promise((resolve) => child.once("exit", (code, signal) => resolve({ code, signal })));

export async function startConnector(
  stack: Pick<TestStack, "identity" | "hubUrl" | "tableName">,
  connectorId = `c-${randomBytes(3).toString("hex")}`,
  env: Record<string, string> = {},
): Promise<ConnectorProcess & { auditFile: string }> {
  const b = backends();
  const dir = `${b.stateDir}/${stack.tableName}`;
  const credentialFile = await ensureConnectorCredential(dir, stack.identity, connectorId);
  const auditFile = `${dir}/${connectorId}-audit.jsonl`;
  const child = startNodeProcess(
    b.connectorBundle,
    { ...connectorEnv(asBackends(), { hubUrl: stack.hubUrl, connectorId, credentialFile, logLevel: "info" }), TETHER_CONNECTOR_AUDIT_FILE: auditFile, ...env },
    { stdio: "pipe" },
  );
  recordChild(child);
  let output = "";
  const collect = (d: Buffer) => {
    output += d.toString();
    rememberOutput(`connector-${connectorId}`, d.toString());
  };
  child.stdout?.on("data", collect);
  child.stderr?.on("data", collect);
  // A connector that dies on its own says why in the test output (a stopped one is expected to exit).
  let stopping = false;
  child.once("exit", (code, signal) => {
    const crashed = signal !== null && CRASH_SIGNALS.has(signal);
    if (crashed || (!stopping && signal === null && code !== 0)) process.stderr.write(`connector ${connectorId} exited (code ${code}, signal ${signal}); its output:\n${output.slice(-4000)}\n`);
  });
  return {
    child,
    auditFile,
    output: () => output,
    stop: () => {
      stopping = true;
      return stopProcess(child);
    },
  };
}

/** The detailed health report (GET /v1/health, an admin's credential). */
export type Health = { status: string; dynamodb: { status: string; latencyMs: number }; hsm: { status: string; connectors: number; rootKeyOk?: boolean; identity?: string } };

/** GET /v1/health as the stack's admin. */
export const getHealth = async (stack: Pick<TestStack, "url" | "adminToken">): Promise<{ code: number; body: Health }> => {
  const res = await fetch(`${stack.url}/v1/health`, { headers: { authorization: `Bearer ${stack.adminToken}` } });
  return { code: res.status, body: (await res.json()) as Health };
};

/** Waits until the detailed health report satisfies `ok`, or fails naming the last report. */
export async function waitForHealth(stack: Pick<TestStack, "url" | "adminToken">, ok: (h: Health) => boolean, timeoutMs = 20_000): Promise<Health> {
  let last: Health | undefined;
  await waitFor(
    async () => {
      last = (await getHealth(stack)).body;
      if (!ok(last)) throw new Error(JSON.stringify(last));
    },
    { timeoutMs, what: "/v1/health", intervalMs: 50 },
  );
  return last as Health;
}

export type Answer = { status: number; body: Record<string, any> }; // eslint-disable-line @typescript-eslint/no-explicit-any -- tests read JSON bodies loosely

/** `call(method, path, body?)` against a stack's native API with a bearer token (the stack's admin by default): the status and the JSON body. */
export const apiOf =
  (stack: Pick<TestStack, "url" | "adminToken">, token = stack.adminToken) =>
  async (method: string, path: string, body?: unknown): Promise<Answer> => {
    const res = await fetch(`${stack.url}${path}`, {
      method,
      headers: { authorization: `Bearer ${token}`, "content-type": "application/json" },
      ...(method === "GET" || body === undefined && method === "DELETE" ? {} : { body: JSON.stringify(body ?? {}) }),
    });
    return { status: res.status, body: (await res.json()) as Answer["body"] };
  };

/** A SigV4 access key for a principal of the stack's tenant, made through the API (its secret is recorded for the leak check). */
export async function accessKeyFor(stack: Pick<TestStack, "url" | "adminToken">, principalId = "admin"): Promise<{ accessKeyId: string; secretAccessKey: string }> {
  const res = await fetch(`${stack.url}/v1/access-keys`, { method: "POST", headers: { authorization: `Bearer ${stack.adminToken}`, "content-type": "application/json" }, body: JSON.stringify({ principalId }) });
  if (res.status !== 201) throw new Error(`creating an access key answered ${res.status}: ${await res.text()}`);
  const { accessKey } = (await res.json()) as { accessKey: { accessKeyId: string; secretAccessKey: string } };
  rememberSecrets(accessKey.secretAccessKey);
  return { accessKeyId: accessKey.accessKeyId, secretAccessKey: accessKey.secretAccessKey };
}

/** The request id of every audit record of the stack's tenant (every page of the last day's records). */
export async function auditedRequestIds(stack: Pick<TestStack, "url" | "adminToken">): Promise<Set<string>> {
  const api = apiOf(stack);
  const ids = new Set<string>();
  for (let cursor: string | undefined, page = 0; page === 0 || cursor; page++) {
    const q = await api("GET", `/v1/audit/records?limit=1000${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ""}`);
    if (q.status !== 200) throw new Error(`reading the audit records answered ${q.status}: ${JSON.stringify(q.body)}`);
    for (const r of q.body.records as { requestId: string }[]) ids.add(r.requestId);
    cursor = q.body.nextCursor as string | undefined;
  }
  return ids;
}

type AuditReport = { ok: boolean; problems: unknown[]; chains: { writer: string; uncheckpointed: number; problems: unknown[] }[] };

/**
 * The audit trail of the stack's tenant is whole: verify finds no problem, every chain is signed
 * to its end (an in-process stack signs its own first), and every request in `answered` (ids of
 * requests that got a 2xx) has its record.
 */
export async function expectWholeAudit(stack: Pick<TestStack, "url" | "adminToken"> & { server?: RunningServer }, answered: readonly string[] = []): Promise<void> {
  await stack.server?.deps.audit.checkpointNow();
  const verify = await apiOf(stack)("POST", "/v1/audit/verify");
  expect(verify.status).toBe(200);
  const report = verify.body as AuditReport;
  expect({ ok: report.ok, problems: report.problems, chainProblems: report.chains.flatMap((c) => c.problems) }).toEqual({ ok: true, problems: [], chainProblems: [] });
  expect(report.chains.filter((c) => c.uncheckpointed > 0)).toEqual([]);
  if (answered.length) {
    const recorded = await auditedRequestIds(stack);
    expect(answered.filter((id) => !recorded.has(id))).toEqual([]);
  }
}
