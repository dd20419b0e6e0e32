import { Hono, type Context, type MiddlewareHandler } from "hono";
import type * as z from "zod";
import { KmsError } from "../../shared/errors.js";
import { note } from "../http/audit.js";
import { principalOf } from "../http/auth.js";
import type { AppEnv } from "../http/env.js";
import type { Principal, XksFacts } from "../identity/principal.js";
import { serveOperation } from "../http/native.js";
import { XksOutcome, xksErrors } from "./errors.js";
import { validated } from "../http/validate.js";
import type { XksKeyStores } from "./key-stores.js";
import type { XksKeyStore } from "./store.js";
import { XKS_KEY_STORE_OPERATIONS as OPS, UriPathPrefix } from "./operations.js";
import type { XksService } from "./service.js";
import { DecryptBody, EncryptBody, ExternalKeyId, HealthBody, MetadataBody, type RequestMetadata } from "./shapes.js";

/** Where the XKS API begins in a path: `[/<prefix>]/kms/xks/v1/<operation>`. */
const MARK = "/kms/xks/v1/";
/** The spec's bound on the whole URI path; Tether's prefixes are at most 115 characters. */
const MAX_PATH = 256;
type Operation = { name: "health" } | { name: "metadata" | "encrypt" | "decrypt"; keyId: string };

/**
 * Splits an XKS path in one pass (no pattern over caller input): the key store's prefix and the
 * operation, or an error for a path that names no API. Undefined: not an XKS path at all.
 */
export function xksPathOf(path: string): { prefix: string; op: Operation | undefined } | undefined {
  const at = path.indexOf(MARK);
  if (at < 0) return undefined;
  if (path.length > MAX_PATH) return { prefix: "", op: undefined };
  const prefix = path.slice(1, Math.max(1, at));
  const [first, keyId, verb, ...rest] = path.slice(at + MARK.length).split("/");
  if (first === "health" && keyId === undefined) return { prefix, op: { name: "health" } };
  if (first === "keys" && keyId !== undefined && rest.length === 0 && (verb === "metadata" || verb === "encrypt" || verb === "decrypt")) return { prefix, op: { name: verb, keyId } };
  return { prefix, op: undefined };
}

type Guards = { audit: MiddlewareHandler<AppEnv>; limit: MiddlewareHandler<AppEnv>; authenticate: MiddlewareHandler<AppEnv> };

/**
 * The AWS XKS proxy API (v1): AWS KMS calls it for every use of a key in an external key store.
 * Each URI path prefix is a key store of a tenant; a request is audited, its SigV4 signature
 * (service `kms-xks-proxy`) checked (401), its prefix resolved (404 InvalidUriPathException), the
 * credential checked to be that store's (401), its body validated (400), then served. Errors are
 * the spec's `{errorName, errorMessage}`, rendered here. The path is split by `xksPathOf`, once, before any
 * router pattern sees it (a pattern matching prefixes of any depth made routing slow on long
 * paths, for every route of the app).
 */
export function xksRoutes(d: { xks: XksService; keyStores: XksKeyStores }, guards: Guards) {
  const app = new Hono<AppEnv>();
  app.all("*", async (c, next) => {
    const at = xksPathOf(c.req.path);
    if (!at) return next();
    const op = at.op;
    if (!op) return run(c, [guards.audit, failWith(new XksOutcome("InvalidUriPathException", 404, "no such XKS API path"))]);
    if (c.req.method !== "POST") return run(c, [guards.audit, failWith(new XksOutcome("MethodNotAllowed", 405, "the XKS API takes POST only"))]);
    let store: XksKeyStore | undefined;
    const ofStore: MiddlewareHandler<AppEnv> = async (_c, inner) => {
      store = UriPathPrefix.safeParse(at.prefix).success ? await d.keyStores.byPrefix(at.prefix) : undefined;
      if (!store) throw new XksOutcome("InvalidUriPathException", 404, "no XKS key store has this URI path");
      await inner();
    };
    // A credential of another key store (of this tenant or another) is no credential here.
    const itsOwn: MiddlewareHandler<AppEnv> = async (_c, inner) => {
      const p = principalOf(c);
      if (!store || p.tenant !== store.tenant || p.principalId !== store.principalId) throw new KmsError("AuthenticationFailedException", "this credential is not this key store's");
      await inner();
    };
    // Signature first: without one, a store's prefix and an unknown prefix answer alike (no probing for stores).
    return run(c, [guards.audit, guards.limit, guards.authenticate, ofStore, itsOwn, serve(d.xks, op)]);
  });
  return app;
}

function serve(xks: XksService, op: Operation): MiddlewareHandler<AppEnv> {
  return async (c) => {
    if (op.name === "health") {
      const body = await bodyOf(c, HealthBody);
      await noted(c, "xks:GetHealthStatus", undefined, body.requestMetadata);
      return c.json(await xks.health(c.var.call));
    }
    const keyId = keyIdOf(op.keyId);
    if (op.name === "metadata") {
      const body = await bodyOf(c, MetadataBody);
      await noted(c, "xks:GetKeyMetadata", keyId, body.requestMetadata);
      return c.json(await xks.metadata(asked(c, body.requestMetadata), keyId));
    }
    if (op.name === "encrypt") {
      const body = await bodyOf(c, EncryptBody);
      await noted(c, "xks:Encrypt", keyId, body.requestMetadata);
      return c.json(await xks.encrypt(asked(c, body.requestMetadata), keyId, body, c.var.call));
    }
    const body = await bodyOf(c, DecryptBody);
    await noted(c, "xks:Decrypt", keyId, body.requestMetadata);
    return c.json(await xks.decrypt(asked(c, body.requestMetadata), keyId, body, c.var.call));
  };
}

const failWith =
  (err: Error): MiddlewareHandler<AppEnv> =>
  () => {
    throw err;
  };

/**
 * Runs a chain as Hono runs a route's handlers: an error is rendered (the spec's way) where it is
 * thrown and noted in `c.error`, so the middleware around it (the audit trail) records it.
 */
async function run(c: Context<AppEnv>, chain: readonly MiddlewareHandler<AppEnv>[]): Promise<Response> {
  const at = async (i: number): Promise<void> => {
    const handler = chain[i];
    if (!handler) return;
    let res: Response | void;
    try {
      res = await handler(c, () => at(i + 1));
    } catch (err) {
      if (!(err instanceof Error)) throw err;
      c.error = err;
      res = await xksErrors(err, c);
    }
    if (res) c.res = res;
  };
  await at(0);
  return c.res;
}

/** The native API's management of XKS key stores (tenant admins), under /v1/xks-key-stores. */
export function xksKeyStoreRoutes(keyStores: XksKeyStores) {
  const app = new Hono<AppEnv>();
  serveOperation(app, keyStores, OPS.CreateXksKeyStore, { method: "POST", path: "/v1/xks-key-stores", status: 201 });
  serveOperation(app, keyStores, OPS.ListXksKeyStores, { method: "GET", path: "/v1/xks-key-stores" });
  serveOperation(app, keyStores, OPS.DeleteXksKeyStore, { method: "DELETE", path: "/v1/xks-key-stores/:keyStoreId" });
  serveOperation(app, keyStores, OPS.CreateXksCredential, { method: "POST", path: "/v1/xks-key-stores/:keyStoreId/credentials", status: 201 });
  serveOperation(app, keyStores, OPS.DeleteXksCredential, { method: "DELETE", path: "/v1/xks-key-stores/:keyStoreId/credentials/:accessKeyId" });
  return app;
}

/** The key store as principal, with what AWS KMS says of this call: key policies' `xks:*` conditions test it. */
function asked(c: Context<AppEnv>, m: RequestMetadata): Principal {
  const facts: XksFacts = { AwsPrincipalArn: m.awsPrincipalArn, KmsOperation: m.kmsOperation, KmsKeyArn: m.kmsKeyArn, KmsViaService: m.kmsViaService, AwsSourceVpc: m.awsSourceVpc, AwsSourceVpce: m.awsSourceVpce };
  return { ...principalOf(c), xks: Object.fromEntries(Object.entries(facts).filter(([, v]) => v !== undefined)) };
}

function keyIdOf(given: string): string {
  const parsed = ExternalKeyId.safeParse(given);
  if (!parsed.success) throw new KmsError("NotFoundException", "no such external key");
  return parsed.data;
}

async function bodyOf<S extends z.ZodType>(c: Context<AppEnv>, schema: S): Promise<z.output<S>> {
  let json: unknown;
  try {
    json = JSON.parse(await c.req.text());
  } catch {
    throw new KmsError("ValidationException", "the body is not JSON");
  }
  return validated(schema, json, "body");
}

/** The audit record names what AWS KMS says of the call: its request id, principal, operation and key. */
function noted(c: Context<AppEnv>, action: string, keyId: string | undefined, m: RequestMetadata): Promise<void> {
  return note(c, { action, ...(keyId ? { keyId } : {}), xks: { kmsRequestId: m.kmsRequestId, kmsOperation: m.kmsOperation, awsPrincipalArn: m.awsPrincipalArn, kmsKeyArn: m.kmsKeyArn } });
}
