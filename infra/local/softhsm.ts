import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { provisionToken, type ProvisionResult } from "../../connector/pkcs11/provision.js";

export type SofthsmToken = {
  modulePath: string;
  /** SOFTHSM2_CONF for every process that uses this token. */
  conf: string;
  tokenLabel: string;
  userPin: string;
  soPin: string;
  rootKeyLabel: string;
};

/**
 * A private SoftHSM2 configuration and token directory under `dir`, the token initialised with
 * its SO and user PINs, and the root key created. Idempotent: a second call changes nothing.
 * Sets SOFTHSM2_CONF in this process, since the module reads it when initialised.
 */
export function prepareSofthsm(dir: string, token: Omit<SofthsmToken, "conf">): SofthsmToken & ProvisionResult {
  const tokenDir = join(dir, "tokens");
  mkdirSync(tokenDir, { recursive: true, mode: 0o700 });
  const conf = join(dir, "softhsm2.conf");
  writeFileSync(conf, `directories.tokendir = ${tokenDir}\nobjectstore.backend = file\nlog.level = ERROR\nslots.removable = false\n`, { mode: 0o600 });
  process.env.SOFTHSM2_CONF = conf;
  const result = provisionToken({
    modulePath: token.modulePath,
    tokenLabel: token.tokenLabel,
    soPin: token.soPin,
    userPin: token.userPin,
    rootKeyLabel: token.rootKeyLabel,
  });
  return { ...token, conf, ...result };
}
