import { existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import * as z from "zod";
import { createDynamoClient } from "../../functions/db/dynamo-store.js";
import { ConfigError } from "../../shared/config.js";
import { DynamoIdentityStore } from "../../functions/identity/dynamo-store.js";
import { ensureAdminApiKey, ensureConnectorCredential, ensureFunctionsIdentity, randomTenantId } from "./bootstrap.js";
import { ensureTables, startDynamoLocal, type DynamoLocal } from "./dynamodb.js";
import { ensureJava, ensureSofthsm } from "./prereqs.js";
import { randomPin, secretAt } from "./secrets.js";
import { prepareSofthsm, type SofthsmToken } from "./softhsm.js";

export const TOKEN_LABEL = "tether";
export const ROOT_KEY_LABEL = "tether-root";
export const REGION = "us-east-1";

/** DynamoDB Local with Tether's tables, a SoftHSM2 token with its root key, and the functions' identity. */
export type Backends = {
  stateDir: string;
  dynamo: DynamoLocal;
  tableName: string;
  token: SofthsmToken;
  userPinFile: string;
  functionsIdentity: { keyFile: string; publicKeyFile: string };
  stop(): Promise<void>;
};

/**
 * Starts the local backends under `stateDir`: persistent (the dev stack keeps its data between
 * runs) or in memory (a test run). Checks and, where allowed, installs prerequisites first.
 */
export async function startBackends(o: { stateDir: string; persistent: boolean; tablePrefix?: string; say?: (line: string) => void }): Promise<Backends> {
  ensureJava();
  const modulePath = ensureSofthsm(undefined, o.say);
  mkdirSync(o.stateDir, { recursive: true, mode: 0o700 });
  const userPinFile = join(o.stateDir, "softhsm", "user-pin");
  const token = prepareSofthsm(join(o.stateDir, "softhsm"), {
    modulePath,
    tokenLabel: TOKEN_LABEL,
    rootKeyLabel: ROOT_KEY_LABEL,
    soPin: secretAt(join(o.stateDir, "softhsm", "so-pin"), randomPin),
    userPin: secretAt(userPinFile, randomPin),
  });
  const dynamo = await startDynamoLocal(o.persistent ? { dataDir: join(o.stateDir, "dynamodb") } : {});
  try {
    const tables = await ensureTables(dynamo.endpoint, o.tablePrefix ?? "tether");
    const tableName = tables.main;
    if (!tableName) throw new Error("the main table was not created");
    return { stateDir: o.stateDir, dynamo, tableName, token, userPinFile, functionsIdentity: ensureFunctionsIdentity(o.stateDir), stop: () => dynamo.stop() };
  } catch (err) {
    await dynamo.stop();
    throw err;
  }
}

/** Non-secret facts about a local stack, kept in `<stateDir>/stack.json` between runs. */
const StackState = z.object({ tenant: z.string().regex(/^\d{12}$/), connectorId: z.string().regex(/^[A-Za-z0-9._-]{1,64}$/) });
export type StackState = z.infer<typeof StackState>;

export function stackState(stateDir: string): StackState {
  const file = join(stateDir, "stack.json");
  if (existsSync(file)) {
    let saved: unknown;
    try {
      saved = JSON.parse(readFileSync(file, "utf8"));
    } catch {
      saved = undefined;
    }
    const r = StackState.safeParse(saved);
    if (!r.success) throw new ConfigError(`${file} is damaged: delete the state directory to start again`);
    return r.data;
  }
  const state: StackState = { tenant: randomTenantId(), connectorId: "local-1" };
  writeFileSync(file, `${JSON.stringify(state, null, 2)}\n`, { mode: 0o600 });
  return state;
}

/** The admin API key and the connector's credential file, created on first run. */
export async function bootstrapCredentials(b: Backends, state: StackState) {
  const db = createDynamoClient({ region: REGION, endpoint: b.dynamo.endpoint });
  try {
    const identity = new DynamoIdentityStore(db, b.tableName);
    const admin = await ensureAdminApiKey(b.stateDir, identity, state.tenant);
    const credentialFile = await ensureConnectorCredential(b.stateDir, identity, state.connectorId);
    return { admin, credentialFile };
  } finally {
    db.destroy();
  }
}

/**
 * glibc malloc settings for a long-running Node server (the functions, locally or in a container):
 * two arenas, and freed memory above 128 KiB given back to the system. Without them the RSS stays
 * at what glibc kept from the busiest moment: measured after 1,500 cold encrypts at 32 in flight,
 * 307 MiB without, 214 MiB with (the live JS heap was 23 MiB).
 */
const SERVER_MALLOC_ENV = { MALLOC_ARENA_MAX: "2", MALLOC_TRIM_THRESHOLD_: "131072", MALLOC_MMAP_THRESHOLD_: "131072" } as const;

export const functionsEnv = (b: Backends, o: { host: string; port: number; logLevel?: string; operatorTenant?: string }): Record<string, string> => ({
  ...SERVER_MALLOC_ENV,
  TETHER_STAGE: "dev",
  TETHER_HOST: o.host,
  TETHER_PORT: String(o.port),
  TETHER_REGION: REGION,
  TETHER_TABLE: b.tableName,
  TETHER_DYNAMO_ENDPOINT: b.dynamo.endpoint,
  TETHER_FUNCTIONS_IDENTITY_KEY_FILE: b.functionsIdentity.keyFile,
  TETHER_LOG_LEVEL: o.logLevel ?? "info",
  ...(o.operatorTenant ? { TETHER_OPERATOR_TENANT: o.operatorTenant } : {}),
});

export const connectorEnv = (
  b: Backends,
  o: { hubUrl: string; connectorId: string; credentialFile: string; logLevel?: string },
): Record<string, string> => ({
  SOFTHSM2_CONF: b.token.conf,
  TETHER_HUB_URL: o.hubUrl,
  TETHER_CONNECTOR_ID: o.connectorId,
  TETHER_CONNECTOR_CREDENTIAL_FILE: o.credentialFile,
  TETHER_FUNCTIONS_PUBLIC_KEY_FILE: b.functionsIdentity.publicKeyFile,
  TETHER_PKCS11_MODULE: b.token.modulePath,
  TETHER_TOKEN_LABEL: b.token.tokenLabel,
  TETHER_PKCS11_PIN_FILE: b.userPinFile,
  TETHER_ROOT_KEY_LABEL: b.token.rootKeyLabel,
  TETHER_CONNECTOR_AUDIT_FILE: join(b.stateDir, `${o.connectorId}-audit.jsonl`),
  TETHER_LOG_LEVEL: o.logLevel ?? "info",
});
