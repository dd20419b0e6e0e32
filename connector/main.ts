import { createPrivateKey } from "node:crypto";
import { ConfigError, readSecretFile, runMain } from "../shared/config.js";
import { createLogger } from "../shared/log.js";
import { OpName } from "../shared/protocol/frames.js";
import { loadConnectorConfig } from "./config.js";
import { Pkcs11Hsm } from "./pkcs11/pkcs11-hsm.js";
import { ConnectorLink } from "./tunnel/dial.js";

const DRAIN_TIMEOUT_MS = 10_000;

await runMain("tether-connector", async () => {
  const config = loadConnectorConfig();
  const log = createLogger({ name: "connector", level: config.logLevel }).child({ connectorId: config.connectorId });
  let credential;
  try {
    credential = createPrivateKey(readSecretFile(config.credentialFile, "credentialFile (TETHER_CONNECTOR_CREDENTIAL_FILE)"));
  } catch (err) {
    if (err instanceof ConfigError) throw err;
    throw new ConfigError("credentialFile (TETHER_CONNECTOR_CREDENTIAL_FILE): not an Ed25519 private key in PEM form");
  }
  const hsm = new Pkcs11Hsm(
    {
      modulePath: config.pkcs11Module,
      slots: [{ name: config.slotName, tokenLabel: config.tokenLabel, pin: config.pin, sessions: config.sessions }],
      rootKeyLabel: config.rootKeyLabel,
      healthTtlMs: config.healthTtlMs,
    },
    log,
  );
  const link = new ConnectorLink({
    hubUrl: config.hubUrl,
    connectorId: config.connectorId,
    credential,
    port: hsm,
    hello: () => ({ hsm: { identity: hsm.identity(), slots: hsm.slots() }, ops: OpName.options, maxInFlight: config.maxInFlight }),
    maxInFlight: config.maxInFlight,
    log,
  });
  link.start();
  log.info("connector started", { hub: config.hubUrl, slot: config.slotName, sessions: config.sessions });

  let stopping = false;
  const stop = async (signal: string) => {
    if (stopping) return;
    stopping = true;
    log.info("draining", { signal });
    await link.drain(DRAIN_TIMEOUT_MS);
    hsm.close();
    process.exit(0);
  };
  process.on("SIGTERM", () => void stop("SIGTERM"));
  process.on("SIGINT", () => void stop("SIGINT"));
});
