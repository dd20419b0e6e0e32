import { createPrivateKey } from "node:crypto";
import { ConfigError, readSecretFile, runMain } from "../shared/config.js";
import { isKmsError } from "../shared/errors.js";
import { createLogger, type Logger } from "../shared/log.js";
import { SealKeys } from "../shared/crypto/seal.js";
import { toB64 } from "../shared/protocol/codec.js";
import { OpName } from "../shared/protocol/frames.js";
import { FileHsmAudit } from "./audit.js";
import { functionsKeysOf, loadConnectorConfig } from "./config.js";
import { Guard } from "./guard.js";
import { Pkcs11Hsm } from "./pkcs11/pkcs11-hsm.js";
import { backoffDelay } from "./tunnel/backoff.js";
import { ConnectorLink } from "./tunnel/dial.js";
import { createDispatcher } from "./tunnel/dispatch.js";

const DRAIN_TIMEOUT_MS = 10_000;

await runMain("tether-connector", async () => {
  const config = loadConnectorConfig();
  const trusted = functionsKeysOf(config);
  const log = createLogger({ name: "connector", level: config.logLevel }).child({ connectorId: config.connectorId });
  let credential;
  try {
    credential = createPrivateKey(readSecretFile(config.credentialFile, "credentialFile (TETHER_CONNECTOR_CREDENTIAL_FILE)"));
  } catch (err) {
    if (err instanceof ConfigError) throw err;
    throw new ConfigError("credentialFile (TETHER_CONNECTOR_CREDENTIAL_FILE): not an Ed25519 private key in PEM form");
  }
  const hsm = await untilHsmAvailable(
    () => new Pkcs11Hsm({ modulePath: config.pkcs11Module, slots: config.slots, rootKeyLabel: config.rootKeyLabel, healthTtlMs: config.healthTtlMs }, log),
    log,
  );
  const sealKeys = new SealKeys("connector");
  const audit = new FileHsmAudit(config.auditFile);
  const guard = new Guard({ allowedOps: config.allowedOps, allowedLabels: config.allowedLabels, ratePerSecond: config.ratePerSecond, burst: config.rateBurst });
  const link = new ConnectorLink({
    hubUrl: config.hubUrl,
    connectorId: config.connectorId,
    credential,
    sealingKey: toB64(sealKeys.publicKey),
    dispatch: createDispatcher({ wrapping: hsm.wrapping, resident: hsm.resident, keys: sealKeys, trusted, guard, audit }),
    hello: () => ({
      hsm: { identity: hsm.identity(), slots: hsm.slots() },
      ops: config.allowedOps.includes("*") ? OpName.options : OpName.options.filter((op) => config.allowedOps.includes(op)),
      maxInFlight: config.maxInFlight,
    }),
    maxInFlight: config.maxInFlight,
    heartbeatMs: config.heartbeatMs,
    log,
  });
  link.start();
  log.info("connector started", { hub: config.hubUrl, slots: config.slots.map((s) => s.name), sessions: config.sessions });

  let stopping = false;
  const stop = async (signal: string) => {
    if (stopping) return;
    stopping = true;
    log.info("draining", { signal });
    await link.drain(DRAIN_TIMEOUT_MS);
    if (!(await hsm.close(DRAIN_TIMEOUT_MS))) log.warn("HSM calls still running at exit; the module was not finalized");
    await audit.close();
    process.exit(0);
  };
  process.on("SIGTERM", () => void stop("SIGTERM"));
  process.on("SIGINT", () => void stop("SIGINT"));
});

/**
 * Opens the HSM, retrying while it is unavailable (a token not visible yet — SoftHSM can miss a
 * token whose files another process is rewriting — or a device still starting), with back-off,
 * for up to a minute. Anything else (a wrong PIN, a missing module) fails at once.
 */
async function untilHsmAvailable(open: () => Pkcs11Hsm, log: Logger): Promise<Pkcs11Hsm> {
  const until = Date.now() + 60_000;
  for (let attempt = 0; ; attempt++) {
    try {
      return open();
    } catch (err) {
      if (!isKmsError(err, "HsmUnavailableException") || Date.now() > until) throw err;
      log.warn("HSM not available yet; retrying", { attempt, error: err.message });
      await new Promise((r) => setTimeout(r, Math.max(50, backoffDelay(attempt))));
    }
  }
}
