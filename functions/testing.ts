import { MemoryHsm } from "../shared/hsm/memory-hsm.js";
import { silentLogger } from "../shared/log.js";
import { HsmCheckpointSigner } from "./audit/checkpoints.js";
import { MemoryAuditStore } from "./audit/memory-store.js";
import { SystemChanges } from "./audit/system-changes.js";
import { AuditWriter } from "./audit/writer.js";
import { loadFunctionsConfig } from "./config.js";
import { wireKeys, wireServices, type Deps } from "./deps.js";
import { PolicyAuthorizer, storedPolicies } from "./policy/authorizer.js";
import { hashApiKeySecret, newApiKey } from "./identity/api-keys.js";
import { MemoryIdentityStore } from "./identity/memory-store.js";
import type { Role } from "./identity/principal.js";
import { MemoryKeyStore } from "./keys/memory-store.js";
import { MemoryGrantStore } from "./grants/memory-store.js";
import { MemoryTenantStore } from "./tenants/memory-store.js";
import { MemoryXksStore } from "./xks/memory-store.js";

export const TEST_TENANT = "111122223333";

/** Changes Tether makes by itself, recorded into an audit store in memory (for KeyService unit tests). */
export function recordedChanges() {
  const audit = new MemoryAuditStore();
  return { audit, changes: new SystemChanges(new AuditWriter(audit, new HsmCheckpointSigner(new MemoryHsm()), silentLogger)) };
}

/** The key services over a memory key store and MemoryHsm, with a clock, for unit tests of the key layer. */
export function testKeys(o: { now?: () => number; env?: Record<string, string> } = {}) {
  const config = loadFunctionsConfig({ TETHER_TABLE: "unit-test", TETHER_METADATA_TTL_MS: "0", ...o.env });
  const store = new MemoryKeyStore();
  const hsm = new MemoryHsm();
  const recorded = recordedChanges();
  const authorizer = new PolicyAuthorizer(storedPolicies((t, k, v) => store.getPolicy(t, k, v)), async () => undefined);
  return { store, hsm, audit: recorded.audit, ...wireKeys({ config, keyStore: store, hsm, authorizer, changes: recorded.changes, ...(o.now ? { now: o.now } : {}) }) };
}

/** Deps on memory stores and MemoryHsm, for route and service unit tests. */
export function testDeps(o: { dbUp?: () => boolean; env?: Record<string, string> } = {}) {
  const config = loadFunctionsConfig({ TETHER_TABLE: "unit-test", TETHER_METADATA_TTL_MS: "0", TETHER_HEALTH_CACHE_MS: "0", TETHER_AUTH_FAILURES_PER_SOURCE: "1000000", ...o.env });
  const hsm = new MemoryHsm();
  const identity = new MemoryIdentityStore();
  const audit = new MemoryAuditStore();
  const keyStore = new MemoryKeyStore();
  const grantStore = new MemoryGrantStore();
  const tenantStore = new MemoryTenantStore();
  const deps: Deps = wireServices({
    grantStore,
    tenantStore,
    xksStore: new MemoryXksStore(),
    config,
    log: silentLogger,
    identity,
    auditStore: audit,
    keyStore,
    hsm,
    connectorCount: async () => (hsm.available ? 1 : 0),
    pingDb: async () => {
      if (o.dbUp && !o.dbUp()) throw new Error("connection refused");
    },
  });
  return { deps, hsm, identity, audit, keyStore, grantStore, tenantStore };
}

/** Creates an API key for a principal and returns its bearer token. */
export async function apiKeyFor(identity: MemoryIdentityStore, roles: Role[], tenant = TEST_TENANT, principalId?: string): Promise<string> {
  const key = newApiKey();
  const id = principalId ?? `p-${key.id}`;
  if (!(await identity.getPrincipal(tenant, id))) await identity.createPrincipal({ tenant, principalId: id, kind: "user", roles, description: "", createdAt: new Date().toISOString() });
  await identity.putApiKey({ id: key.id, tenant, principalId: id, ...(await hashApiKeySecret(key.secret)), createdAt: new Date().toISOString() });
  return key.token;
}

export const jsonInit = (body: unknown, token?: string): RequestInit => ({
  method: "POST",
  headers: { "content-type": "application/json", ...(token ? { authorization: `Bearer ${token}` } : {}) },
  body: typeof body === "string" ? body : JSON.stringify(body),
});

export type Answer = { status: number; body: Record<string, any> }; // eslint-disable-line @typescript-eslint/no-explicit-any -- tests read JSON bodies loosely

/** `call(method, path, body?, token?, headers?)` against an app, answering status and parsed JSON. */
export const requester =
  (app: { request(path: string, init: RequestInit): Response | Promise<Response> }, defaultToken: string) =>
  async (method: string, path: string, body?: unknown, token = defaultToken, headers: Record<string, string> = {}): Promise<Answer> => {
    const res = await app.request(path, {
      method,
      headers: { authorization: `Bearer ${token}`, "content-type": "application/json", ...headers },
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    });
    return { status: res.status, body: (await res.json()) as Answer["body"] };
  };
