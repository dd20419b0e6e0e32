import { createPublicKey, verify } from "node:crypto";
import type { IdentityStore } from "../identity/store.js";
import type { ConnectorVerifier } from "./connections.js";

/** Verifies a connector's Ed25519 challenge signature with the public key registered for it. */
export const connectorVerifier =
  (identity: IdentityStore): ConnectorVerifier =>
  async (connectorId, message, signature) => {
    const record = await identity.getConnector(connectorId);
    if (!record) return false;
    const key = createPublicKey({ key: Buffer.from(record.publicKey, "base64"), format: "der", type: "spki" });
    return key.asymmetricKeyType === "ed25519" && verify(null, message, key, signature);
  };
