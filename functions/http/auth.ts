import type { MiddlewareHandler } from "hono";
import { isKmsError, KmsError } from "../../shared/errors.js";
import type { AuthThrottle } from "../identity/auth-throttle.js";
import type { Authenticator } from "../identity/authenticator.js";
import type { Principal } from "../identity/principal.js";
import type { SourceIp } from "./audit.js";
import type { AppEnv } from "./env.js";

/**
 * Authenticates every request it guards; the principal lands in c.var.principal. Failed
 * attempts count against the source and the (credential, source) pair (see AuthThrottle).
 */
export const authenticate = (authenticator: Authenticator, throttle: AuthThrottle, sourceIp: SourceIp): MiddlewareHandler<AppEnv> =>
  async function authenticate(c, next) {
    const authorization = c.req.header("authorization");
    const source = sourceIp(c) ?? "unknown";
    const credential = credentialIdOf(authorization);
    throttle.check(source, credential);
    try {
      c.set("principal", await authenticator.authenticate(authorization));
    } catch (err) {
      if (isKmsError(err, "AuthenticationFailedException")) throttle.failed(source, credential);
      throw err;
    }
    await next();
  };

/** The credential an Authorization header names (an API key's id), without its secret. */
const credentialIdOf = (authorization: string | undefined): string => /^Bearer tth_([0-9a-f]{16})_/.exec(authorization ?? "")?.[1] ?? "unnamed";

/** The authenticated principal; only reachable behind `authenticate`. */
export const principalOf = (c: { get(key: "principal"): Principal | undefined }): Principal => {
  const p = c.get("principal");
  if (!p) throw new KmsError("AuthenticationFailedException", "missing or invalid credentials");
  return p;
};
