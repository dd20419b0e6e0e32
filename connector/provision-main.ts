import { readSecretFile, runMain } from "../shared/config.js";
import { loadConnectorConfig } from "./config.js";
import { provisionToken } from "./pkcs11/provision.js";

/**
 * `npm run provision`: prepares the HSM for Tether with the connector's own settings, once per
 * token and idempotently: the root key (AES-256, sensitive, never extractable) and the audit
 * checkpoint key (ECDSA P-256). A token that does not exist yet (SoftHSM2) is initialised when
 * TETHER_PKCS11_SO_PIN_FILE names the SO PIN. Prints what it created; never a PIN.
 */
await runMain("tether-provision", async () => {
  const config = loadConnectorConfig();
  const soPin = config.soPinFile ? readSecretFile(config.soPinFile, "soPinFile (TETHER_PKCS11_SO_PIN_FILE)") : undefined;
  const result = provisionToken({ modulePath: config.pkcs11Module, tokenLabel: config.tokenLabel, userPin: config.pin, soPin, rootKeyLabel: config.rootKeyLabel });
  process.stdout.write(`${JSON.stringify({ token: config.tokenLabel, rootKey: config.rootKeyLabel, ...result })}\n`);
});
