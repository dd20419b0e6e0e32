import { createPrivateKey } from "node:crypto";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Pkcs11Hsm } from "../../connector/pkcs11/pkcs11-hsm.js";
import { loadFunctionsConfig } from "../../functions/config.js";
import { createDynamoClient } from "../../functions/db/dynamo-store.js";
import { DynamoIdentityStore } from "../../functions/identity/dynamo-store.js";
import { startServer } from "../../functions/server.js";
import { RemoteHsm } from "../../functions/tunnel/remote-hsm.js";
import { buildHubEvents } from "../../functions/deps.js";
import { createHubHandler } from "../../functions/tunnel/apigw-events.js";
import { ApigwHub } from "../../functions/tunnel/apigw-hub.js";
import { Requester } from "../../functions/tunnel/channel.js";
import { DynamoHubStore } from "../../functions/tunnel/dynamo-hub-store.js";
import { ManagementApiPoster } from "../../functions/tunnel/management-api.js";
import { startWebSocketApi, type WebSocketHandler } from "../support/apigw-emulator.js";
import { ensureConnectorCredential } from "../../infra/local/bootstrap.js";
import { startNodeProcess, stopProcess, waitFor } from "../../infra/local/processes.js";
import { connectorEnv, startBackends } from "../../infra/local/stack.js";
import { silentLogger } from "../../shared/log.js";
import { CONNECTOR_PATH } from "../../shared/protocol/frames.js";
import { drive, type Summary } from "./stats.js";

/**
 * Case F: unwrap round trips through the connector link (functions → WebSocket → connector →
 * SoftHSM, key returned sealed) against the same unwraps made directly with pkcs11js in one
 * process. Both use the connector's default of 2 PKCS#11 sessions. Also through the `apigw`
 * transport ([6/7]): a second connector on the emulated API Gateway WebSocket API, requests
 * posted through its management API, replies stored in and polled from DynamoDB Local.
 */
export async function benchLink(o: { total: number; concurrency: number[]; apigwTotal: number; apigwConcurrency: number[] }): Promise<Record<string, Summary | number>> {
  const stateDir = mkdtempSync(join(tmpdir(), "tether-bench-"));
  const backends = await startBackends({ stateDir, persistent: false });
  const server = await startServer(loadFunctionsConfig({ TETHER_TABLE: backends.tableName, TETHER_DYNAMO_ENDPOINT: backends.dynamo.endpoint, TETHER_PORT: "0", TETHER_FUNCTIONS_IDENTITY_KEY_FILE: backends.functionsIdentity.keyFile, TETHER_LOG_LEVEL: "error" }), silentLogger);
  const db = createDynamoClient({ region: "us-east-1", endpoint: backends.dynamo.endpoint });
  const credentialFile = await ensureConnectorCredential(stateDir, new DynamoIdentityStore(db, backends.tableName), "bench-1");
  const connector = startNodeProcess(
    "connector/main.ts",
    { ...connectorEnv(backends, { hubUrl: `${server.url.replace("http", "ws")}${CONNECTOR_PATH}`, connectorId: "bench-1", credentialFile, logLevel: "error" }), TETHER_MAX_IN_FLIGHT: "512" },
    { stdio: "inherit" },
  );
  // The apigw side: the hub's Lambda handler behind the emulated WebSocket API, signing PostToConnection as a function role would.
  process.env.AWS_ACCESS_KEY_ID ??= "ASIABENCH";
  process.env.AWS_SECRET_ACCESS_KEY ??= "bench";
  let hubHandler: WebSocketHandler = async () => ({ statusCode: 503 });
  const wsApi = await startWebSocketApi((event) => hubHandler(event));
  const apigwConfig = loadFunctionsConfig({ TETHER_TABLE: backends.tableName, TETHER_DYNAMO_ENDPOINT: backends.dynamo.endpoint, TETHER_HUB_ENDPOINT: wsApi.managementEndpoint, TETHER_LOG_LEVEL: "error" });
  hubHandler = createHubHandler(buildHubEvents(apigwConfig, silentLogger));
  const apigwCredential = await ensureConnectorCredential(stateDir, new DynamoIdentityStore(db, backends.tableName), "bench-apigw");
  const apigwConnector = startNodeProcess(
    "connector/main.ts",
    { ...connectorEnv(backends, { hubUrl: wsApi.wsUrl, connectorId: "bench-apigw", credentialFile: apigwCredential, logLevel: "error" }), TETHER_MAX_IN_FLIGHT: "512" },
    { stdio: "inherit" },
  );
  const requester = new Requester(createPrivateKey(readFileSync(backends.functionsIdentity.keyFile)));
  const apigwHub = new ApigwHub({ store: new DynamoHubStore(db, backends.tableName), poster: new ManagementApiPoster(wsApi.managementEndpoint, "us-east-1", 5_000), requester, log: silentLogger });
  const results: Record<string, Summary | number> = {};
  try {
    await waitFor(
      async () => {
        if ((await server.hub.ready()).length !== 1) throw new Error("no connector yet");
      },
      { timeoutMs: 30_000, what: "connector" },
    );
    const link = new RemoteHsm(server.hub);
    const direct = new Pkcs11Hsm(
      { modulePath: backends.token.modulePath, slots: [{ name: "0", tokenLabel: backends.token.tokenLabel, pin: readFileSync(backends.userPinFile, "utf8").trim(), sessions: 2 }], rootKeyLabel: backends.token.rootKeyLabel, healthTtlMs: 10_000 },
      silentLogger,
    );
    const binding = Buffer.from("bench/key/1");
    const call = (i: number) => ({ requestId: `b-${i}`, deadline: Date.now() + 10_000 });
    const { wrapped } = await direct.wrapping.generateDataKey(32, binding, { ...call(0), returnPlaintext: false });
    for (const c of o.concurrency) {
      await drive(200, c, (i) => link.unwrap(wrapped, binding, call(i))); // warm-up
      await drive(200, c, (i) => direct.wrapping.unwrap(wrapped, binding, call(i)));
      const viaLink = await drive(o.total, c, (i) => link.unwrap(wrapped, binding, call(i)));
      const viaDirect = await drive(o.total, c, (i) => direct.wrapping.unwrap(wrapped, binding, call(i)));
      results[`link c=${c}`] = viaLink;
      results[`direct c=${c}`] = viaDirect;
      results[`F ratio c=${c}`] = Math.round((viaLink.perSecond / viaDirect.perSecond) * 100) / 100;
    }
    await waitFor(
      async () => {
        if ((await apigwHub.ready()).length !== 1) throw new Error("no connector on the WebSocket API yet");
      },
      { timeoutMs: 30_000, what: "the apigw connector" },
    );
    const viaApigw = new RemoteHsm(apigwHub);
    for (const c of o.apigwConcurrency) {
      await drive(100, c, (i) => viaApigw.unwrap(wrapped, binding, call(i))); // warm-up
      results[`apigw c=${c}`] = await drive(o.apigwTotal, c, (i) => viaApigw.unwrap(wrapped, binding, call(i)));
    }
    await direct.close();
  } finally {
    await stopProcess(apigwConnector);
    await wsApi.close();
    await stopProcess(connector);
    await server.close();
    db.destroy();
    await backends.stop();
    rmSync(stateDir, { recursive: true, force: true });
  }
  return results;
}
