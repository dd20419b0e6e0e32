import { randomUUID } from "node:crypto";
import { jwtVerify, SignJWT, type JWTPayload } from "jose";
import { boundedLru, loadingLru } from "../lru.js";
import { isKmsError } from "../../shared/errors.js";
import type { KeyWrapping } from "../../shared/hsm/port.js";
import { wrappedFromWire, wrappedToWire } from "../../shared/protocol/codec.js";
import type { AuthGate } from "./auth-throttle.js";
import type { AuthRequest, AuthScheme } from "./authenticator.js";
import type { Principal } from "./principal.js";
import { AuthFailure, type PrincipalDirectory } from "./principals.js";
import type { IdentityStore } from "./store.js";

export const TOKEN_TTL_SECONDS = 15 * 60;
const ISSUER = "tether";
const KID = /^k-\d{4}-\d{2}-\d{2}$/;
const DAY_MS = 86_400_000;
const CLOCK_SKEW_MS = 5 * 60_000;

const call = (what: string) => ({ requestId: `session-token-${what}`, deadline: Date.now() + 5_000 });
const kidOf = (epochMs: number) => `k-${new Date(epochMs).toISOString().slice(0, 10)}`;
const binding = (kid: string) => Buffer.from(`tether-session-token-key\n${kid}`);

/**
 * Session-token signing keys: one per day (`k-<date>`), 32 bytes from the HSM RNG, stored
 * wrapped by the HSM root key. The first instance to need a day's key creates it (a conditional
 * put; an instance that loses the race uses the winner's); each instance unwraps a key once, for
 * all the requests that need it meanwhile, and keeps it (zeroed when evicted). Tokens signed
 * yesterday still verify until they expire.
 */
export class SessionTokenKeys {
  private readonly keys = boundedLru<string, Uint8Array>({ max: 8, dispose: (k) => k.fill(0) });
  private readonly loading = new Map<string, Promise<Uint8Array>>();

  constructor(
    private readonly store: IdentityStore,
    private readonly hsm: KeyWrapping,
    private readonly now: () => number = Date.now,
  ) {}

  currentKid(): string {
    return kidOf(this.now());
  }

  /** Deletes the keys no live token can need: those of days before yesterday. */
  retireOld(): Promise<string[]> {
    return this.store.deleteTokenKeysBefore(kidOf(this.now() - DAY_MS));
  }

  /** Whether a live token can name `kid`: today's key (by a clock up to 5 minutes ahead) or yesterday's. */
  acceptable(kid: string): boolean {
    return KID.test(kid) && kid >= kidOf(this.now() - DAY_MS) && kid <= kidOf(this.now() + CLOCK_SKEW_MS);
  }

  /**
   * The key to verify a token with: from memory, or else loaded (a database read and an HSM
   * unwrap) through the caller's authentication gate, so made-up tokens cannot drive those.
   */
  verifyingKey(kid: string, gate: AuthGate): Promise<Uint8Array> {
    const hit = this.keys.get(kid);
    return hit ? Promise.resolve(hit) : gate.run(() => this.key(kid, false));
  }

  /** The key for `kid`: today's is created if missing; an older one must exist. */
  key(kid: string, create: boolean): Promise<Uint8Array> {
    const hit = this.keys.get(kid);
    if (hit) return Promise.resolve(hit);
    let pending = this.loading.get(kid);
    if (!pending) {
      pending = this.load(kid, create).finally(() => this.loading.delete(kid));
      this.loading.set(kid, pending);
    }
    return pending;
  }

  private async load(kid: string, create: boolean): Promise<Uint8Array> {
    let record = await this.store.getTokenKey(kid);
    if (!record && create) {
      const generated = await this.hsm.generateDataKey(32, binding(kid), { ...call("create"), returnPlaintext: false });
      record = await this.store.putTokenKey({ kid, wrapped: wrappedToWire(generated.wrapped), createdAt: new Date(this.now()).toISOString() });
    }
    if (!record) throw new AuthFailure("InvalidToken", "the session token is invalid or expired");
    const key = await this.hsm.unwrap(wrappedFromWire(record.wrapped), binding(kid), call("unwrap"));
    this.keys.set(kid, key);
    return key;
  }
}

/** Issues 15-minute session tokens (`tts_<JWT, HS256>`) for an authenticated principal. */
export async function issueSessionToken(keys: SessionTokenKeys, principal: Principal, now = Date.now()): Promise<{ token: string; expiresAt: string }> {
  const kid = keys.currentKid();
  const iat = Math.floor(now / 1000);
  const jwt = await new SignJWT({ tenant: principal.tenant, cred: principal.credentialId })
    .setProtectedHeader({ alg: "HS256", kid, typ: "JWT" })
    .setIssuer(ISSUER)
    .setSubject(principal.principalId)
    .setJti(randomUUID())
    .setIssuedAt(iat)
    .setExpirationTime(iat + TOKEN_TTL_SECONDS)
    .sign(await keys.key(kid, true));
  return { token: `tts_${jwt}`, expiresAt: new Date((iat + TOKEN_TTL_SECONDS) * 1000).toISOString() };
}

type SessionClaims = JWTPayload & { tenant?: unknown; cred?: unknown };

/**
 * Whether the credential a session token was minted from still exists: revoking an API key or an
 * access key ends the tokens it minted (at once on the instance that revoked it, within `ttlMs`
 * elsewhere). Tokens minted from an OIDC identity token are bounded by their own 15 minutes: an
 * identity provider's tokens cannot be revoked here.
 */
export class MintingCredentials {
  private readonly known;

  constructor(store: IdentityStore, opts: { ttlMs: number; max: number } = { ttlMs: 60_000, max: 10_000 }) {
    this.known = loadingLru<string, { alive: boolean }, { tenant: string; credentialId: string }>({
      max: opts.max,
      ttl: opts.ttlMs,
      load: async (_id, { tenant, credentialId }) => {
        if (/^[0-9a-f]{16}$/.test(credentialId)) return { alive: (await store.getApiKey(credentialId))?.tenant === tenant };
        if (/^TTHA[A-Z2-7]{16}$/.test(credentialId)) return { alive: (await store.getAccessKey(credentialId))?.tenant === tenant };
        return { alive: credentialId.startsWith("oidc:") };
      },
    });
  }

  async alive(tenant: string, credentialId: string): Promise<boolean> {
    return (await this.known.get(`${tenant}/${credentialId}`, { tenant, credentialId })).alive;
  }

  /** After a revocation here. */
  forget(tenant: string, credentialId: string): void {
    this.known.cache.delete(`${tenant}/${credentialId}`);
  }
}

/**
 * `Authorization: Bearer tts_…`: HS256 only, issuer tether, a known kid at most a day old (never
 * a future one), not
 * expired, minted from a credential that still exists. The principal's current roles apply (a
 * deleted principal's tokens stop working within the principal cache's age). The credential is
 * `token:<jti>`, so audit shows which token was used.
 */
export class SessionTokenScheme implements AuthScheme {
  constructor(
    private readonly keys: SessionTokenKeys,
    private readonly directory: PrincipalDirectory,
    private readonly minting: MintingCredentials,
    private readonly now: () => number = Date.now,
  ) {}

  matches(authorization: string): boolean {
    return authorization.startsWith("Bearer tts_");
  }

  credentialIdOf(): string {
    return "session-token";
  }

  async authenticate(req: AuthRequest): Promise<Principal> {
    const jwt = /^Bearer tts_(\S{1,4096})$/.exec(req.headers.get("authorization") ?? "")?.[1];
    if (!jwt) throw new AuthFailure("InvalidToken", "the session token is invalid or expired");
    let claims: SessionClaims;
    try {
      const verified = await jwtVerify<SessionClaims>(
        jwt,
        async (header) => {
          const kid = header.kid ?? "";
          if (!this.keys.acceptable(kid)) throw new Error("unknown kid");
          return this.keys.verifyingKey(kid, req.gate);
        },
        { issuer: ISSUER, algorithms: ["HS256"], currentDate: new Date(this.now()), requiredClaims: ["exp", "sub", "jti"] },
      );
      claims = verified.payload;
    } catch (err) {
      // Throttled, or the key could not be loaded (HSM, database): not the token's fault.
      if (isKmsError(err) && !isKmsError(err, "AuthenticationFailedException")) throw err;
      throw new AuthFailure("InvalidToken", "the session token is invalid or expired");
    }
    if (typeof claims.tenant !== "string" || typeof claims.sub !== "string" || typeof claims.cred !== "string") throw new AuthFailure("InvalidToken", "the session token is invalid or expired");
    if (!(await this.minting.alive(claims.tenant, claims.cred))) throw new AuthFailure("InvalidToken", "the credential this session token was minted from has been revoked");
    return this.directory.principalFor(claims.tenant, claims.sub, `token:${claims.jti}`);
  }
}
