import { MemoryHsm } from "../shared/hsm/memory-hsm.js";
import { silentLogger } from "../shared/log.js";
import { MemoryAuditSink } from "./audit/memory-store.js";
import { loadFunctionsConfig } from "./config.js";
import { CryptoService } from "./crypto-ops/service.js";
import type { Deps } from "./deps.js";
import { HealthService } from "./health/service.js";
import { hashApiKeySecret, newApiKey } from "./identity/api-keys.js";
import { ApiKeyAuthenticator } from "./identity/authenticator.js";
import { MemoryIdentityStore } from "./identity/memory-store.js";
import type { Role } from "./identity/principal.js";
import { RoleAuthorizer } from "./policy/authorizer.js";

export const TEST_TENANT = "111122223333";

/** Deps on memory stores and MemoryHsm, for route and service unit tests. */
export function testDeps(o: { dbUp?: () => boolean } = {}) {
  const config = loadFunctionsConfig({ TETHER_TABLE: "unit-test" });
  const hsm = new MemoryHsm();
  const identity = new MemoryIdentityStore();
  const audit = new MemoryAuditSink();
  const deps: Deps = {
    config,
    log: silentLogger,
    identity,
    authenticator: new ApiKeyAuthenticator(identity),
    audit,
    health: new HealthService({
      pingDb: async () => {
        if (o.dbUp && !o.dbUp()) throw new Error("connection refused");
      },
      hsm,
      connectorCount: () => (hsm.available ? 1 : 0),
      timeoutMs: 500,
    }),
    crypto: new CryptoService(hsm, new RoleAuthorizer()),
  };
  return { deps, hsm, identity, audit };
}

/** Creates an API key for a principal and returns its bearer token. */
export async function apiKeyFor(identity: MemoryIdentityStore, roles: Role[], tenant = TEST_TENANT): Promise<string> {
  const key = newApiKey();
  await identity.putApiKey({ id: key.id, tenant, principalId: `p-${key.id}`, roles, ...(await hashApiKeySecret(key.secret)), createdAt: new Date().toISOString() });
  return key.token;
}

export const jsonInit = (body: unknown, token?: string): RequestInit => ({
  method: "POST",
  headers: { "content-type": "application/json", ...(token ? { authorization: `Bearer ${token}` } : {}) },
  body: typeof body === "string" ? body : JSON.stringify(body),
});
