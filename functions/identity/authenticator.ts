import { createHash } from "node:crypto";
import { loadingLru } from "../lru.js";
import { parseApiKey, verifyApiKeySecret } from "./api-keys.js";
import type { Principal } from "./principal.js";
import { AuthFailure, type PrincipalDirectory } from "./principals.js";
import type { AuthGate } from "./auth-throttle.js";
import type { IdentityStore } from "./store.js";

/** What an authenticator may look at: the whole request, since SigV4 signs method, path, headers and body. */
export type AuthRequest = {
  method: string;
  url: URL;
  headers: Headers;
  /** The raw body (read once, cached by the caller). */
  body: () => Promise<Uint8Array>;
  /** Where the expensive part of verifying runs (a database read, a slow hash, an HSM unwrap): throttled per source. */
  gate: AuthGate;
};

/** Turns a request's credential into a Principal, or throws AuthenticationFailedException. */
export interface Authenticator {
  authenticate(req: AuthRequest): Promise<Principal>;
  /** The credential a request's headers name (an API key id, an access key id, …), never a secret: what failed attempts are counted against. */
  credentialIdOf(headers: Headers): string;
}

/** One credential scheme (API keys, SigV4, session tokens, OIDC): claims the requests whose Authorization header has its form. */
export interface AuthScheme {
  matches(authorization: string): boolean;
  credentialIdOf(authorization: string): string;
  authenticate(req: AuthRequest): Promise<Principal>;
}

/** Dispatches each request to the scheme its Authorization header belongs to. */
export class SchemeAuthenticator implements Authenticator {
  constructor(private readonly schemes: readonly AuthScheme[]) {}

  authenticate(req: AuthRequest): Promise<Principal> {
    const authorization = req.headers.get("authorization") ?? "";
    const scheme = this.schemes.find((s) => s.matches(authorization));
    if (!scheme) return Promise.reject(new AuthFailure(authorization ? "IncompleteSignature" : "MissingAuthenticationToken"));
    return scheme.authenticate(req);
  }

  credentialIdOf(headers: Headers): string {
    const authorization = headers.get("authorization") ?? "";
    return this.schemes.find((s) => s.matches(authorization))?.credentialIdOf(authorization) ?? "unnamed";
  }
}

/**
 * API keys sent as `Authorization: Bearer tth_…`. The slow hash is checked once per key and the
 * result kept (keyed by a SHA-256 of the whole token) for a short time, so a steady client pays
 * for scrypt once per `verifiedTtlMs`, not per request, and once however many of its requests
 * arrive while it runs. Roles come from the key's principal.
 */
export class ApiKeyScheme implements AuthScheme {
  private readonly verified;

  constructor(
    store: IdentityStore,
    private readonly directory: PrincipalDirectory,
    opts: { verifiedTtlMs: number; maxVerified: number; verify?: typeof verifyApiKeySecret } = { verifiedTtlMs: 60_000, maxVerified: 10_000 },
  ) {
    const verify = opts.verify ?? verifyApiKeySecret;
    this.verified = loadingLru<string, { tenant: string; principalId: string; id: string }, { id: string; secret: string; gate: AuthGate }>({
      max: opts.maxVerified,
      ttl: opts.verifiedTtlMs,
      load: (_fingerprint, { id, secret, gate }) =>
        gate.run(async () => {
          const record = await store.getApiKey(id);
          if (!record || !(await verify(secret, record))) throw new AuthFailure("UnrecognizedClient");
          return { tenant: record.tenant, principalId: record.principalId, id: record.id };
        }),
    });
  }

  matches(authorization: string): boolean {
    return authorization.startsWith("Bearer tth_");
  }

  credentialIdOf(authorization: string): string {
    return /^Bearer tth_([0-9a-f]{16})_/.exec(authorization)?.[1] ?? "unnamed";
  }

  /** Drops every cached verification of this API key (after a revocation). */
  forget(apiKeyId: string): void {
    for (const [fingerprint, known] of this.verified.cache.entries()) if (known.id === apiKeyId) this.verified.cache.delete(fingerprint);
  }

  async authenticate(req: AuthRequest): Promise<Principal> {
    const token = /^Bearer (\S+)$/.exec(req.headers.get("authorization") ?? "")?.[1];
    const parsed = token ? parseApiKey(token) : undefined;
    if (!token || !parsed) throw new AuthFailure("UnrecognizedClient");
    const known = await this.verified.get(createHash("sha256").update(token).digest("base64"), { ...parsed, gate: req.gate });
    return this.directory.principalFor(known.tenant, known.principalId, known.id);
  }
}
