import type { MiddlewareHandler } from "hono";
import { isKmsError, KmsError } from "../../shared/errors.js";
import { MAX_GRANT_TOKENS } from "../grants/tokens.js";
import type { AuthThrottle } from "../identity/auth-throttle.js";
import type { AuthRequest, Authenticator } from "../identity/authenticator.js";
import type { Principal } from "../identity/principal.js";
import type { SourceIp } from "./audit.js";
import type { AppEnv } from "./env.js";
import { timePhase } from "./request-id.js";

/**
 * Authenticates every request it guards; the principal (with the request's source address)
 * lands in c.var.principal. Failed attempts count against the source and the (credential,
 * source) pair; the expensive part of verifying runs through the throttle's gate (see AuthThrottle).
 */
export const authenticate = (authenticator: Authenticator, throttle: AuthThrottle, sourceIp: SourceIp): MiddlewareHandler<AppEnv> =>
  async function authenticate(c, next) {
    const started = performance.now();
    const source = sourceIp(c) ?? "unknown";
    const credential = authenticator.credentialIdOf(c.req.raw.headers);
    const req: AuthRequest = {
      method: c.req.method,
      url: new URL(c.req.url),
      headers: c.req.raw.headers,
      body: async () => new Uint8Array(await c.req.arrayBuffer()),
      gate: throttle.gate(source, credential),
    };
    try {
      const principal = await authenticator.authenticate(req);
      throttle.succeeded(credential);
      const grantTokens = grantTokensOf(c.req.header("x-tether-grant-tokens"));
      c.set("principal", { ...principal, keysUsed: new Set(), ...(source !== "unknown" ? { sourceIp: source } : {}), ...(grantTokens.length ? { grantTokens } : {}) });
    } catch (err) {
      if (isKmsError(err, "AuthenticationFailedException")) throttle.failed(source, credential);
      throw err;
    } finally {
      timePhase(c, "auth", started);
    }
    await next();
  };

/** `X-Tether-Grant-Tokens: <token>[, <token>…]` (at most 10, as AWS). */
function grantTokensOf(header: string | undefined): string[] {
  const tokens = (header ?? "").split(",").map((t) => t.trim()).filter(Boolean);
  if (tokens.length > MAX_GRANT_TOKENS) throw new KmsError("ValidationException", `at most ${MAX_GRANT_TOKENS} grant tokens`);
  return tokens;
}



/** The authenticated principal; only reachable behind `authenticate`. */
export const principalOf = (c: { get(key: "principal"): Principal | undefined }): Principal => {
  const p = c.get("principal");
  if (!p) throw new KmsError("AuthenticationFailedException", "missing or invalid credentials");
  return p;
};
