import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Pkcs11Hsm } from "../../connector/pkcs11/pkcs11-hsm.js";
import { loadFunctionsConfig } from "../../functions/config.js";
import { createDynamoClient } from "../../functions/db/dynamo-store.js";
import { DynamoIdentityStore } from "../../functions/identity/dynamo-store.js";
import { startServer } from "../../functions/server.js";
import { WsHsm } from "../../functions/tunnel/ws-hsm.js";
import { ensureConnectorCredential } from "../../infra/local/bootstrap.js";
import { startNodeProcess, stopProcess, waitFor } from "../../infra/local/processes.js";
import { connectorEnv, startBackends } from "../../infra/local/stack.js";
import { silentLogger } from "../../shared/log.js";
import { CONNECTOR_PATH } from "../../shared/protocol/frames.js";
import { drive, type Summary } from "./stats.js";

/**
 * Case F: unwrap round trips through the connector link (functions → WebSocket → connector →
 * SoftHSM, key returned sealed) against the same unwraps made directly with pkcs11js in one
 * process. Both use the connector's default of 2 PKCS#11 sessions.
 */
export async function benchLink(o: { total: number; concurrency: number[] }): Promise<Record<string, Summary | number>> {
  const stateDir = mkdtempSync(join(tmpdir(), "tether-bench-"));
  const backends = await startBackends({ stateDir, persistent: false });
  const server = await startServer(loadFunctionsConfig({ TETHER_TABLE: backends.tableName, TETHER_DYNAMO_ENDPOINT: backends.dynamo.endpoint, TETHER_PORT: "0", TETHER_LOG_LEVEL: "error" }), silentLogger);
  const db = createDynamoClient({ region: "us-east-1", endpoint: backends.dynamo.endpoint });
  const credentialFile = await ensureConnectorCredential(stateDir, new DynamoIdentityStore(db, backends.tableName), "bench-1");
  const connector = startNodeProcess(
    "connector/main.ts",
    { ...connectorEnv(backends, { hubUrl: `${server.url.replace("http", "ws")}${CONNECTOR_PATH}`, connectorId: "bench-1", credentialFile, logLevel: "error" }), TETHER_MAX_IN_FLIGHT: "512" },
    { stdio: "inherit" },
  );
  const results: Record<string, Summary | number> = {};
  try {
    await waitFor(
      async () => {
        if ((await server.hub.ready()).length !== 1) throw new Error("no connector yet");
      },
      { timeoutMs: 30_000, what: "connector" },
    );
    const link = new WsHsm(server.hub);
    const direct = new Pkcs11Hsm(
      { modulePath: backends.token.modulePath, slots: [{ name: "0", tokenLabel: backends.token.tokenLabel, pin: readFileSync(backends.userPinFile, "utf8").trim(), sessions: 2 }], rootKeyLabel: backends.token.rootKeyLabel, healthTtlMs: 10_000 },
      silentLogger,
    );
    const binding = Buffer.from("bench/key/1");
    const call = (i: number) => ({ requestId: `b-${i}`, deadline: Date.now() + 10_000 });
    const { wrapped } = await direct.generateDataKey(32, binding, { ...call(0), returnPlaintext: false });
    for (const c of o.concurrency) {
      await drive(200, c, (i) => link.unwrap(wrapped, binding, call(i))); // warm-up
      await drive(200, c, (i) => direct.unwrap(wrapped, binding, call(i)));
      const viaLink = await drive(o.total, c, (i) => link.unwrap(wrapped, binding, call(i)));
      const viaDirect = await drive(o.total, c, (i) => direct.unwrap(wrapped, binding, call(i)));
      results[`link c=${c}`] = viaLink;
      results[`direct c=${c}`] = viaDirect;
      results[`F ratio c=${c}`] = Math.round((viaLink.perSecond / viaDirect.perSecond) * 100) / 100;
    }
    direct.close();
  } finally {
    await stopProcess(connector);
    await server.close();
    db.destroy();
    await backends.stop();
    rmSync(stateDir, { recursive: true, force: true });
  }
  return results;
}
