import { createPrivateKey, createPublicKey, generateKeyPairSync, randomInt } from "node:crypto";
import { existsSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { hashApiKeySecret, newApiKey, parseApiKey } from "../../functions/identity/api-keys.js";
import type { IdentityStore } from "../../functions/identity/store.js";
import { ConfigError } from "../../shared/config.js";
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
  if (saved && parsed && (await identity.getApiKey(parsed.id))) {
    // The admin principal holds every role; kept even for a stack created before principals existed.
    await ensureAdminPrincipal(identity, tenant);
    return { token: saved, created: false };
  }
  const token = await createAdminApiKey(identity, tenant);
  writeSecret(file, `${token}\n`);
  return { token, created: true };
}

/** A new API key for the tenant's `admin` principal (created with every role if missing); only its scrypt hash is stored. */
export async function createAdminApiKey(identity: IdentityStore, tenant: string): Promise<string> {
  await ensureAdminPrincipal(identity, tenant);
  const key = newApiKey();
  await identity.putApiKey({ id: key.id, tenant, principalId: "admin", ...(await hashApiKeySecret(key.secret)), createdAt: new Date().toISOString() });
  return key.token;
}

async function ensureAdminPrincipal(identity: IdentityStore, tenant: string): Promise<void> {
  if (await identity.getPrincipal(tenant, "admin")) return;
  await identity.createPrincipal({ tenant, principalId: "admin", kind: "user", roles: ["tenantAdmin", "keyAdmin", "keyUser", "auditor"], description: "the tenant's first administrator", createdAt: new Date().toISOString() });
}

/**
 * The functions' deployment identity: an Ed25519 key pair that certifies the functions' requester
 * keys to connectors. The private key (0600) is the functions'; the public key, the connectors'
 * to trust. Created on first run.
 */
export function ensureFunctionsIdentity(stateDir: string): { keyFile: string; publicKeyFile: string } {
  const keyFile = join(stateDir, "functions-identity.pem");
  const publicKeyFile = join(stateDir, "functions-identity.pub.pem");
  if (!existsSync(keyFile)) writeSecret(keyFile, generateKeyPairSync("ed25519").privateKey.export({ type: "pkcs8", format: "pem" }).toString());
  if (!existsSync(publicKeyFile)) writeFileSync(publicKeyFile, createPublicKey(createPrivateKey(readFileSync(keyFile, "utf8"))).export({ type: "spki", format: "pem" }).toString());
  return { keyFile, publicKeyFile };
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
  await registerConnectorPublicKey(identity, connectorId, createPublicKey(createPrivateKey(privateKeyPem)).export({ type: "spki", format: "pem" }).toString());
}

/** Registers a connector's Ed25519 public key (SPKI PEM): the hub checks its challenge signatures against it. */
export async function registerConnectorPublicKey(identity: IdentityStore, connectorId: string, publicKeyPem: string): Promise<void> {
  let key: ReturnType<typeof createPublicKey>;
  try {
    key = createPublicKey(publicKeyPem);
  } catch {
    throw new ConfigError("public-key: not a PEM public key");
  }
  if (key.asymmetricKeyType !== "ed25519") throw new ConfigError("public-key: connectors authenticate with Ed25519 keys");
  await identity.putConnector({ connectorId, publicKey: key.export({ type: "spki", format: "der" }).toString("base64"), createdAt: new Date().toISOString() });
}
