import { createPrivateKey, type KeyObject } from "node:crypto";
import * as z from "zod";
import { ConfigError, loadConfig, readSecretFile } from "../shared/config.js";

const Config = z.object({
  stage: z.enum(["dev", "staging", "prod"]).default("dev"),
  host: z.string().min(1).default("127.0.0.1"),
  port: z.coerce.number().int().min(0).max(65_535).default(8080),
  region: z.string().regex(/^[a-z]{2}(-[a-z]+)+-\d$/, "an AWS region name such as us-east-1").default("us-east-1"),
  tableName: z.string().regex(/^[A-Za-z0-9_.-]{3,255}$/, "a DynamoDB table name"),
  /** DynamoDB endpoint override (DynamoDB Local); unset on AWS. */
  dynamoEndpoint: z.url({ protocol: /^https?$/ }).optional(),
  /**
   * Each request's deadline: its DynamoDB, connector, JWKS and relay calls share it, and past it
   * the request answers 503 DependencyTimeoutException (on Lambda, never beyond the invocation's end).
   */
  requestTimeoutMs: z.coerce.number().int().min(100).max(25_000).default(5_000),
  /** How often the Node server's hub pings each connector: one silent for two intervals is dropped (its idempotent requests go elsewhere). */
  connectorHeartbeatMs: z.coerce.number().int().min(100).max(60_000).default(3_000),
  /** How long /health waits for DynamoDB and the HSM before calling them down. */
  healthTimeoutMs: z.coerce.number().int().min(50).max(10_000).default(2_000),
  /** How long one deep health check answers every /health caller (0: each caller runs one). */
  healthCacheMs: z.coerce.number().int().min(0).max(60_000).default(5_000),
  /** How stale cached key metadata may be: a Disable or a deletion takes effect within this bound. */
  metadataTtlMs: z.coerce.number().int().min(0).max(300_000).default(5_000),
  /** Unwrapped key material: entries, idle age and absolute age. */
  keyCacheEntries: z.coerce.number().int().min(1).max(10_000_000).default(100_000),
  keyCacheIdleMs: z.coerce.number().int().min(1_000).max(86_400_000).default(15 * 60_000),
  keyCacheMaxAgeMs: z.coerce.number().int().min(1_000).max(7 * 86_400_000).default(60 * 60_000),
  /** Encryptions reserved per DynamoDB write, and the per-version total after which a key rotates (AES-GCM's 2^32 bound). */
  encryptionBlock: z.coerce.number().int().min(1).max(10_000_000).default(100_000),
  rotateAfterEncryptions: z.coerce.number().int().min(1).max(2 ** 32).default(2 ** 31),
  /** Failed authentications a source address may make per minute before it is throttled. */
  authFailuresPerSource: z.coerce.number().int().min(1).max(1_000_000).default(20),
  /** Failed authentications per minute for one credential from one source address. */
  authFailuresPerCredential: z.coerce.number().int().min(1).max(1_000_000).default(5),
  /**
   * Audit writers per instance: batches in flight at once (each keeps its own hash chains). On
   * DynamoDB Local one lane with bigger batches is fastest (measured); raise it on DynamoDB.
   */
  auditLanes: z.coerce.number().int().min(1).max(64).default(1),
  /** How often each writer signs its chains' heads (also every 100 records). */
  auditCheckpointMs: z.coerce.number().int().min(100).max(3_600_000).default(5_000),
  /** Records older than this must be vouched for by a signed checkpoint: verify reports them otherwise. */
  auditSignedWithinMs: z.coerce.number().int().min(1_000).max(7 * 86_400_000).default(15 * 60_000),
  /** The sweeper signs a chain left unsigned this long (its writer froze or died). */
  auditSignIdleMs: z.coerce.number().int().min(0).max(86_400_000).default(60_000),
  /** How often the Node server runs the sweeper (on AWS a schedule does); 0 never. */
  sweepIntervalMs: z.coerce.number().int().min(0).max(86_400_000).default(5 * 60_000),
  /**
   * The API Gateway WebSocket API's management endpoint (https://<api>.execute-api.<region>.amazonaws.com/<stage>),
   * for the `apigw` transport (Lambda); unused by the Node server, which hosts its own hub.
   */
  hubEndpoint: z.url({ protocol: /^https?$/ }).optional(),
  /**
   * The functions' Ed25519 deployment identity (PKCS#8 PEM), which certifies each requester key
   * sent to connectors (they trust its public half from their own configuration): in a 0600 file
   * (identityKeyFile), or as text (identityKey: a Lambda function gets it from a stage secret).
   */
  identityKeyFile: z.string().min(1).optional(),
  identityKey: z.string().min(1).optional(),
  /** The operator's tenant: its tenant admins create tenants. Unset: nobody can through the API. */
  operatorTenant: z.string().regex(/^\d{12}$/, "a 12-digit account id").optional(),
  logLevel: z.enum(["debug", "info", "warn", "error"]).default("info"),
});
export type FunctionsConfig = Readonly<z.infer<typeof Config>>;

/** Loads the functions' config from TETHER_CONFIG (a JSON file) and TETHER_* variables. */
export function loadFunctionsConfig(env: Record<string, string | undefined> = process.env): FunctionsConfig {
  return loadConfig(Config, {
    env,
    fileVar: "TETHER_CONFIG",
    envNames: {
      stage: "TETHER_STAGE",
      host: "TETHER_HOST",
      port: "TETHER_PORT",
      region: "TETHER_REGION",
      tableName: "TETHER_TABLE",
      dynamoEndpoint: "TETHER_DYNAMO_ENDPOINT",
      requestTimeoutMs: "TETHER_REQUEST_TIMEOUT_MS",
      healthTimeoutMs: "TETHER_HEALTH_TIMEOUT_MS",
      connectorHeartbeatMs: "TETHER_CONNECTOR_HEARTBEAT_MS",
      healthCacheMs: "TETHER_HEALTH_CACHE_MS",
      metadataTtlMs: "TETHER_METADATA_TTL_MS",
      keyCacheEntries: "TETHER_KEY_CACHE_ENTRIES",
      keyCacheIdleMs: "TETHER_KEY_CACHE_IDLE_MS",
      keyCacheMaxAgeMs: "TETHER_KEY_CACHE_MAX_AGE_MS",
      encryptionBlock: "TETHER_ENCRYPTION_BLOCK",
      rotateAfterEncryptions: "TETHER_ROTATE_AFTER_ENCRYPTIONS",
      authFailuresPerSource: "TETHER_AUTH_FAILURES_PER_SOURCE",
      authFailuresPerCredential: "TETHER_AUTH_FAILURES_PER_CREDENTIAL",
      operatorTenant: "TETHER_OPERATOR_TENANT",
      identityKeyFile: "TETHER_FUNCTIONS_IDENTITY_KEY_FILE",
      identityKey: "TETHER_FUNCTIONS_IDENTITY_KEY",
      auditLanes: "TETHER_AUDIT_LANES",
      auditCheckpointMs: "TETHER_AUDIT_CHECKPOINT_MS",
      auditSignedWithinMs: "TETHER_AUDIT_SIGNED_WITHIN_MS",
      auditSignIdleMs: "TETHER_AUDIT_SIGN_IDLE_MS",
      sweepIntervalMs: "TETHER_SWEEP_INTERVAL_MS",
      hubEndpoint: "TETHER_HUB_ENDPOINT",
      logLevel: "TETHER_LOG_LEVEL",
    },
  });
}

/** The functions' identity key (see identityKeyFile); required wherever the functions call connectors. */
export function functionsIdentity(config: FunctionsConfig): KeyObject {
  const setting = "identityKeyFile (TETHER_FUNCTIONS_IDENTITY_KEY_FILE) or identityKey (TETHER_FUNCTIONS_IDENTITY_KEY)";
  const pem = config.identityKey ?? (config.identityKeyFile ? readSecretFile(config.identityKeyFile, "identityKeyFile (TETHER_FUNCTIONS_IDENTITY_KEY_FILE)") : undefined);
  if (!pem) throw new ConfigError(`invalid configuration: ${setting} is required to reach HSM connectors`);
  try {
    const key = createPrivateKey(pem);
    if (key.asymmetricKeyType === "ed25519") return key;
  } catch {
    // reported below, without the value
  }
  throw new ConfigError(`invalid configuration: ${setting}: not an Ed25519 private key in PEM form`);
}
