import type { MiddlewareHandler } from "hono";
import { KmsError } from "../../shared/errors.js";
import type { Authenticator } from "../identity/authenticator.js";
import type { Principal } from "../identity/principal.js";
import type { AppEnv } from "./env.js";

/** Authenticates every request it guards; the principal lands in c.var.principal. */
export const authenticate = (authenticator: Authenticator): MiddlewareHandler<AppEnv> =>
  async function authenticate(c, next) {
    c.set("principal", await authenticator.authenticate(c.req.header("authorization")));
    await next();
  };

/** The authenticated principal; only reachable behind `authenticate`. */
export const principalOf = (c: { get(key: "principal"): Principal | undefined }): Principal => {
  const p = c.get("principal");
  if (!p) throw new KmsError("AuthenticationFailedException", "missing or invalid credentials");
  return p;
};
