import type { HsmPort } from "../shared/hsm/port.js";
import type { Logger } from "../shared/log.js";
import { DynamoAuditSink } from "./audit/dynamo-store.js";
import type { AuditSink } from "./audit/sink.js";
import type { FunctionsConfig } from "./config.js";
import { CryptoService } from "./crypto-ops/service.js";
import { createDynamoClient, pingTable } from "./db/dynamo-store.js";
import { HealthService } from "./health/service.js";
import { ApiKeyAuthenticator, type Authenticator } from "./identity/authenticator.js";
import { DynamoIdentityStore } from "./identity/dynamo-store.js";
import type { IdentityStore } from "./identity/store.js";
import { RoleAuthorizer } from "./policy/authorizer.js";

export type Deps = {
  config: FunctionsConfig;
  log: Logger;
  identity: IdentityStore;
  authenticator: Authenticator;
  audit: AuditSink;
  health: HealthService;
  crypto: CryptoService;
};

/** The HSM side of the wiring: a port and how many connectors currently back it. */
export type HsmWiring = { port: HsmPort; connectorCount: () => number };

/** Wires every service once, from config, a logger and the HSM transport (which may need the identity store). */
export function buildDeps(config: FunctionsConfig, log: Logger, createHsm: (identity: IdentityStore) => HsmWiring): Deps {
  const db = createDynamoClient({ region: config.region, endpoint: config.dynamoEndpoint });
  const identity = new DynamoIdentityStore(db, config.tableName);
  const hsm = createHsm(identity);
  return {
    config,
    log,
    identity,
    authenticator: new ApiKeyAuthenticator(identity),
    audit: new DynamoAuditSink(db, config.tableName),
    health: new HealthService({
      pingDb: (signal) => pingTable(db, config.tableName, signal),
      hsm: hsm.port,
      connectorCount: hsm.connectorCount,
      timeoutMs: config.healthTimeoutMs,
    }),
    crypto: new CryptoService(hsm.port, new RoleAuthorizer()),
  };
}
