import { randomUUID } from "node:crypto";
import type { Server } from "node:http";
import type { AddressInfo } from "node:net";
import { serve } from "@hono/node-server";
import { getConnInfo } from "@hono/node-server/conninfo";
import type { Logger } from "../shared/log.js";
import { CONNECTOR_PATH } from "../shared/protocol/frames.js";
import { createApp } from "./app.js";
import { functionsIdentity, type FunctionsConfig } from "./config.js";
import { Requester } from "./tunnel/channel.js";
import { buildDeps, type Deps } from "./deps.js";
import { ConnectorHub } from "./tunnel/connections.js";
import { connectorVerifier } from "./tunnel/verifier.js";
import { RemoteHsm } from "./tunnel/remote-hsm.js";

export type RunningServer = { url: string; deps: Deps; hub: ConnectorHub; close(): Promise<void> };

/** The single-process deployment: the HTTP app and the `direct` hub on one Node server. */
export async function startServer(config: FunctionsConfig, log: Logger): Promise<RunningServer> {
  let hub: ConnectorHub | undefined;
  const requester = new Requester(functionsIdentity(config));
  const deps = buildDeps(config, log, ({ identity }) => {
    hub = new ConnectorHub({ verify: connectorVerifier(identity), requester, log: log.child({ component: "hub" }), heartbeatMs: config.connectorHeartbeatMs });
    const connectors = hub;
    return { port: new RemoteHsm(connectors), connectorCount: async () => (await connectors.ready()).length };
  });
  if (!hub) throw new Error("the HSM transport was not wired");
  const connectors = hub;
  const app = createApp(deps, (c) => getConnInfo(c).remote.address);
  const server = await new Promise<Server>((resolve, reject) => {
    const s = serve({ fetch: app.fetch, hostname: config.host, port: config.port }, () => resolve(s as Server));
    s.once("error", reject);
  });
  server.on("upgrade", (req, socket, head) => {
    const path = new URL(req.url ?? "/", "http://localhost").pathname;
    if (path === CONNECTOR_PATH) connectors.handleUpgrade(req, socket, head);
    else socket.destroy();
  });
  // On AWS a schedule runs the sweeper; here the server does (each instance: its work is idempotent).
  const sweeps = config.sweepIntervalMs
    ? setInterval(() => {
        void deps.sweeper.run(() => ({ requestId: `sweep-${randomUUID()}`, deadline: Date.now() + config.requestTimeoutMs })).catch((err: Error) => log.error("sweep failed", { error: err.message }));
      }, config.sweepIntervalMs).unref()
    : undefined;
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://${config.host}:${port}`,
    deps,
    hub: connectors,
    close: async () => {
      clearInterval(sweeps);
      const closed = new Promise<void>((resolve) => server.close(() => resolve()));
      server.closeAllConnections();
      // Counts not yet written, queued audit records and the last checkpoints go out while the connectors can still sign.
      await deps.keyUsage.close().catch((err: Error) => log.warn("usage counts not written at shutdown", { error: err.message }));
      await deps.audit.close();
      connectors.close();
      await closed;
    },
  };
}
