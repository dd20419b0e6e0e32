import { ConfigError } from "../shared/config.js";
import type { HsmPort } from "../shared/hsm/port.js";
import type { Logger } from "../shared/log.js";
import { HsmCheckpointSigner } from "./audit/checkpoints.js";
import { DynamoAuditStore } from "./audit/dynamo-store.js";
import { AuditService } from "./audit/service.js";
import { SystemChanges } from "./audit/system-changes.js";
import type { AuditStore } from "./audit/store.js";
import { AuditLanes, AuditWriter } from "./audit/writer.js";
import { functionsIdentity, type FunctionsConfig } from "./config.js";
import { Requester } from "./tunnel/channel.js";
import { CryptoService } from "./crypto-ops/service.js";
import { createDynamoClient, pingTable } from "./db/dynamo-store.js";
import { HealthService } from "./health/service.js";
import { HsmKeyService } from "./hsm-keys/service.js";
import { AuthThrottle } from "./identity/auth-throttle.js";
import { ApiKeyScheme, SchemeAuthenticator, type Authenticator } from "./identity/authenticator.js";
import { IdentityService } from "./identity/service.js";
import { PrincipalDirectory } from "./identity/principals.js";
import { MintingCredentials, SessionTokenKeys, SessionTokenScheme } from "./identity/session-tokens.js";
import { ANY_REGION, SigV4Scheme } from "./identity/sigv4.js";
import { XksKeyStores } from "./xks/key-stores.js";
import { XksService } from "./xks/service.js";
import { DynamoXksStore } from "./xks/dynamo-store.js";
import type { XksStore } from "./xks/store.js";
import { OidcScheme } from "./identity/oidc.js";
import { DynamoTenantStore } from "./tenants/dynamo-store.js";
import { TenantService } from "./tenants/service.js";
import type { TenantStore } from "./tenants/store.js";
import { DynamoIdentityStore } from "./identity/dynamo-store.js";
import type { IdentityStore } from "./identity/store.js";
import { KeyMaterialCache } from "./keys/cache.js";
import { EncryptionBudget } from "./keys/encryption-budget.js";
import { DynamoKeyStore } from "./keys/dynamo-store.js";
import { KeyMaterial } from "./keys/material.js";
import { KeyService } from "./keys/service.js";
import { AliasService } from "./keys/aliases.js";
import { KeyDirectory } from "./keys/directory.js";
import { KeyImport } from "./keys/import.js";
import { KeyLifecycle } from "./keys/lifecycle.js";
import { UsageRecorder } from "./keys/usage.js";
import type { KeyStore } from "./keys/store.js";
import { PolicyAuthorizer, storedPolicies, type Authorizer } from "./policy/authorizer.js";
import { CachedGrantFinder } from "./grants/finder.js";
import { DynamoGrantStore } from "./grants/dynamo-store.js";
import type { GrantStore } from "./grants/store.js";
import { GrantService } from "./grants/service.js";
import { KeyPolicyService } from "./policy/service.js";
import { Sweeper } from "./sweeper/service.js";
import { ApigwHubEvents } from "./tunnel/apigw-events.js";
import { ApigwHub } from "./tunnel/apigw-hub.js";
import { DynamoHubStore } from "./tunnel/dynamo-hub-store.js";
import { ManagementApiPoster } from "./tunnel/management-api.js";
import { connectorVerifier } from "./tunnel/verifier.js";
import { RemoteHsm } from "./tunnel/remote-hsm.js";

/** The version the doors report (OpenAPI, the XKS health answer). */
export const TETHER_VERSION = "0.1.0";

export type Deps = {
  config: FunctionsConfig;
  log: Logger;
  identity: IdentityStore;
  /** The HSM, through whichever transport was wired. */
  hsm: HsmPort;
  authenticator: Authenticator;
  identityService: IdentityService;
  authThrottle: AuthThrottle;
  audit: AuditLanes;
  auditLog: AuditService;
  health: HealthService;
  keys: KeyService;
  keyDirectory: KeyDirectory;
  lifecycle: KeyLifecycle;
  aliases: AliasService;
  imports: KeyImport;
  keyUsage: UsageRecorder;
  hsmKeys: HsmKeyService;
  xks: XksService;
  xksKeyStores: XksKeyStores;
  /** The XKS door's credentials: SigV4 for `kms-xks-proxy`, in any region, of key stores only. */
  xksAuthenticator: Authenticator;
  crypto: CryptoService;
  policies: KeyPolicyService;
  tenants: TenantService;
  grants: GrantService;
  keyCache: KeyMaterialCache;
  sweeper: Sweeper;
};

/** The HSM side of the wiring: a port and how many connectors currently back it. */
export type HsmWiring = { port: HsmPort; connectorCount: () => Promise<number> };
type DynamoClient = ReturnType<typeof createDynamoClient>;
export type HsmTransport = (a: { identity: IdentityStore; db: DynamoClient }) => HsmWiring;

/** Wires every service once, from config, a logger and the HSM transport (which may need the identity store). */
export function buildDeps(config: FunctionsConfig, log: Logger, createHsm: HsmTransport): Deps {
  const db = createDynamoClient({ region: config.region, endpoint: config.dynamoEndpoint, timeoutMs: config.requestTimeoutMs });
  const identity = new DynamoIdentityStore(db, config.tableName);
  const hsm = createHsm({ identity, db });
  return wireServices({
    config,
    log,
    identity,
    auditStore: new DynamoAuditStore(db, config.tableName),
    keyStore: new DynamoKeyStore(db, config.tableName),
    grantStore: new DynamoGrantStore(db, config.tableName),
    tenantStore: new DynamoTenantStore(db, config.tableName),
    xksStore: new DynamoXksStore(db, config.tableName),
    hsm: hsm.port,
    connectorCount: hsm.connectorCount,
    pingDb: (signal) => pingTable(db, config.tableName, signal),
  });
}

/** The services over whichever adapters the caller chose (DynamoDB and the link, or memory). */
export function wireServices(a: {
  config: FunctionsConfig;
  log: Logger;
  identity: IdentityStore;
  auditStore: AuditStore;
  keyStore: KeyStore;
  grantStore: GrantStore;
  tenantStore: TenantStore;
  xksStore: XksStore;
  hsm: HsmPort;
  connectorCount: () => Promise<number>;
  pingDb: (signal: AbortSignal) => Promise<void>;
}): Deps {
  const checkpointSigner = new HsmCheckpointSigner(a.hsm);
  const auditWriter = new AuditLanes(Array.from({ length: a.config.auditLanes }, () => new AuditWriter(a.auditStore, checkpointSigner, a.log.child({ component: "audit" }), { checkpointMs: a.config.auditCheckpointMs, writeTimeoutMs: a.config.requestTimeoutMs })));
  const grantFinder = new CachedGrantFinder(a.grantStore, { ttlMs: a.config.metadataTtlMs, maxKeys: a.config.keyCacheEntries });
  const authorizer = new PolicyAuthorizer(storedPolicies((tenant, keyId, version) => a.keyStore.getPolicy(tenant, keyId, version)), grantFinder.find);
  const directory = new PrincipalDirectory(a.identity);
  const apiKeys = new ApiKeyScheme(a.identity, directory);
  const sigv4 = new SigV4Scheme(a.identity, a.hsm, directory, { region: a.config.region });
  const tokenKeys = new SessionTokenKeys(a.identity, a.hsm);
  const minting = new MintingCredentials(a.identity);
  const oidc = new OidcScheme(a.tenantStore, { configTtlMs: a.config.metadataTtlMs, allowPrivateAddresses: a.config.stage === "dev" });
  const authenticator = new SchemeAuthenticator([apiKeys, new SessionTokenScheme(tokenKeys, directory, minting), sigv4, oidc]);
  const k = wireKeys({ ...a, authorizer, changes: new SystemChanges(auditWriter) });
  const auditLog = new AuditService(a.auditStore, checkpointSigner, authorizer, { signedWithinMs: a.config.auditSignedWithinMs, signIdleMs: a.config.auditSignIdleMs });
  const crypto = new CryptoService(a.hsm, a.hsm, authorizer, k.lifecycle, k.material);
  const xksScheme = new SigV4Scheme(a.identity, a.hsm, directory, { region: ANY_REGION, service: "kms-xks-proxy" });
  const sweeper = new Sweeper({ tenants: a.tenantStore, operatorTenant: a.config.operatorTenant, keys: k.lifecycle, grants: a.grantStore, tokenKeys, audit: auditLog, log: a.log.child({ component: "sweeper" }) });
  return {
    config: a.config,
    log: a.log,
    identity: a.identity,
    hsm: a.hsm,
    authenticator,
    identityService: new IdentityService(a.identity, authorizer, a.hsm, directory, { apiKeys, sigv4, tokenKeys, minting }),
    authThrottle: new AuthThrottle({ windowMs: 60_000, maxPerSource: a.config.authFailuresPerSource, maxPerCredentialAndSource: a.config.authFailuresPerCredential }),
    audit: auditWriter,
    auditLog,
    health: new HealthService({
      pingDb: a.pingDb,
      hsm: a.hsm,
      connectorCount: a.connectorCount,
      cacheStats: () => k.cache.stats(),
      timeoutMs: a.config.healthTimeoutMs,
      cacheMs: a.config.healthCacheMs,
      authorizer,
      operatorTenant: a.config.operatorTenant,
    }),
    keys: k.keys,
    keyDirectory: k.directory,
    lifecycle: k.lifecycle,
    aliases: k.aliases,
    imports: k.imports,
    keyUsage: k.usage,
    hsmKeys: new HsmKeyService(k.keys, k.lifecycle, crypto),
    crypto,
    xks: new XksService(k.directory, k.lifecycle, k.material, authorizer, a.hsm, { version: TETHER_VERSION, healthCacheMs: a.config.healthCacheMs }),
    xksKeyStores: new XksKeyStores(a.xksStore, a.identity, a.hsm, authorizer, xksScheme, { cacheMs: a.config.metadataTtlMs }),
    xksAuthenticator: new SchemeAuthenticator([xksScheme]),
    policies: new KeyPolicyService(k.directory, a.keyStore, authorizer),
    tenants: new TenantService(a.tenantStore, a.identity, authorizer, { operatorTenant: a.config.operatorTenant, allowPrivateJwks: a.config.stage === "dev" }, oidc),
    grants: new GrantService(a.grantStore, k.directory, authorizer, grantFinder),
    keyCache: k.cache,
    sweeper,
  };
}

/**
 * The key services over a key store and the HSM: the directory finds and authorizes keys, the
 * lifecycle changes them (and applies what is due), the material hands out their primitives.
 */
export function wireKeys(a: { config: FunctionsConfig; keyStore: KeyStore; hsm: HsmPort; authorizer: Authorizer; changes: Pick<SystemChanges, "record">; now?: () => number }) {
  const { config, keyStore: store, hsm, authorizer } = a;
  const directory = new KeyDirectory(store, authorizer, { region: config.region, metadataTtlMs: config.metadataTtlMs, maxCachedKeys: config.keyCacheEntries, ...(a.now ? { now: a.now } : {}) });
  const usage = new UsageRecorder(store, undefined, directory.now);
  const lifecycle = new KeyLifecycle(directory, store, hsm, hsm, usage, a.changes);
  const cache = new KeyMaterialCache({ maxEntries: config.keyCacheEntries, idleMs: config.keyCacheIdleMs, maxAgeMs: config.keyCacheMaxAgeMs });
  setInterval(() => cache.sweep(), 60_000).unref();
  const budget = new EncryptionBudget(store, { blockSize: config.encryptionBlock, rotateAfter: config.rotateAfterEncryptions }, lifecycle);
  return {
    directory,
    lifecycle,
    usage,
    cache,
    keys: new KeyService(directory, store, hsm, hsm, authorizer, usage),
    aliases: new AliasService(directory, store, authorizer),
    imports: new KeyImport(directory, store, hsm),
    material: new KeyMaterial(store, hsm, cache, directory, budget),
  };
}

/**
 * The `apigw` transport (Lambda): connectors hold connections to the API Gateway WebSocket API;
 * their state and replies live in DynamoDB (see tunnel/apigw-hub.ts).
 */
export const apigwTransport =
  (config: FunctionsConfig, log: Logger): HsmTransport =>
  ({ db }) => {
    const hub = new ApigwHub({ store: new DynamoHubStore(db, config.tableName), poster: managementApi(config), requester: new Requester(functionsIdentity(config)), log: log.child({ component: "hub" }) });
    return { port: new RemoteHsm(hub), connectorCount: async () => (await hub.ready()).length };
  };

/** The WebSocket routes of the `apigw` hub: only what they need, so their Lambda starts fast. */
export function buildHubEvents(config: FunctionsConfig, log: Logger): ApigwHubEvents {
  const db = createDynamoClient({ region: config.region, endpoint: config.dynamoEndpoint, timeoutMs: config.requestTimeoutMs });
  return new ApigwHubEvents({
    store: new DynamoHubStore(db, config.tableName),
    poster: managementApi(config),
    verify: connectorVerifier(new DynamoIdentityStore(db, config.tableName)),
    log: log.child({ component: "hub" }),
    requestTimeoutMs: config.requestTimeoutMs,
  });
}

function managementApi(config: FunctionsConfig): ManagementApiPoster {
  if (!config.hubEndpoint) throw new ConfigError("invalid configuration: hubEndpoint (TETHER_HUB_ENDPOINT) is required on Lambda (the apigw transport)");
  return new ManagementApiPoster(config.hubEndpoint, config.region, config.requestTimeoutMs);
}
