import { createPrivateKey, createPublicKey, generateKeyPairSync, randomInt } from "node:crypto";
import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { hashApiKeySecret, newApiKey, parseApiKey } from "../../functions/identity/api-keys.js";
import type { IdentityStore } from "../../functions/identity/store.js";
import { writeSecret } from "./secrets.js";

/** A 12-digit account id for the local tenant. */
export const randomTenantId = (): string => String(randomInt(100_000_000_000, 999_999_999_999));

/**
 * The local tenant admin's API key: created on first run (the secret lands in `<stateDir>/admin-api-key`,
 * mode 0600, and only its scrypt hash in DynamoDB), then read back on later runs.
 */
export async function ensureAdminApiKey(stateDir: string, identity: IdentityStore, tenant: string): Promise<{ token: string; created: boolean }> {
  const file = join(stateDir, "admin-api-key");
  const saved = existsSync(file) ? readFileSync(file, "utf8").trim() : undefined;
  const parsed = saved ? parseApiKey(saved) : undefined;
  // The admin principal holds every role; kept even for a stack created before principals existed.
  if (!(await identity.getPrincipal(tenant, "admin"))) {
    await identity.createPrincipal({ tenant, principalId: "admin", kind: "user", roles: ["tenantAdmin", "keyAdmin", "keyUser", "auditor"], description: "the local stack's administrator", createdAt: new Date().toISOString() });
  }
  if (saved && parsed && (await identity.getApiKey(parsed.id))) return { token: saved, created: false };
  const key = newApiKey();
  await identity.putApiKey({
    id: key.id,
    tenant,
    principalId: "admin",
    ...(await hashApiKeySecret(key.secret)),
    createdAt: new Date().toISOString(),
  });
  writeSecret(file, `${key.token}\n`);
  return { token: key.token, created: true };
}

/**
 * The connector's credential: an Ed25519 key pair. The private key stays in a 0600 file for the
 * connector; the public key is registered in the identity store, where the hub checks challenges.
 */
export async function ensureConnectorCredential(stateDir: string, identity: IdentityStore, connectorId: string): Promise<string> {
  const file = join(stateDir, "connectors", `${connectorId}.pem`);
  if (!existsSync(file)) {
    const { privateKey } = generateKeyPairSync("ed25519");
    writeSecret(file, privateKey.export({ type: "pkcs8", format: "pem" }).toString());
  }
  await registerConnector(identity, connectorId, readFileSync(file, "utf8"));
  return file;
}

export async function registerConnector(identity: IdentityStore, connectorId: string, privateKeyPem: string): Promise<void> {
  const publicKey = createPublicKey(createPrivateKey(privateKeyPem)).export({ type: "spki", format: "der" }).toString("base64");
  await identity.putConnector({ connectorId, publicKey, createdAt: new Date().toISOString() });
}
