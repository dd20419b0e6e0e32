import { Hono, type Context, type MiddlewareHandler } from "hono";
import type * as z from "zod";
import { KmsError } from "../../shared/errors.js";
import { note } from "../http/audit.js";
import { principalOf } from "../http/auth.js";
import type { AppEnv } from "../http/env.js";
import type { Principal, XksFacts } from "../identity/principal.js";
import { serveOperation } from "../http/native.js";
import { XksOutcome, xksErrors } from "./errors.js";
import type { XksKeyStores } from "./key-stores.js";
import { XKS_KEY_STORE_OPERATIONS as OPS } from "./operations.js";
import type { XksService } from "./service.js";
import { DecryptBody, EncryptBody, ExternalKeyId, HealthBody, MetadataBody, type RequestMetadata } from "./shapes.js";

/** The XKS API's paths, after `[/<prefix>]/kms/xks/v1`. */
const API = ["/health", "/keys/:keyId/metadata", "/keys/:keyId/encrypt", "/keys/:keyId/decrypt"] as const;
const BASES = ["/kms/xks/v1", "/:prefix{.+}/kms/xks/v1"] as const;

type Guards = { audit: MiddlewareHandler<AppEnv>; limit: MiddlewareHandler<AppEnv>; authenticate: MiddlewareHandler<AppEnv> };

/**
 * The AWS XKS proxy API (v1): AWS KMS calls it for every use of a key in an external key store.
 * Each URI path prefix is a key store of a tenant; a request is audited, its prefix resolved (404
 * InvalidUriPathException), its SigV4 signature (service `kms-xks-proxy`) checked against that
 * store's credentials (401), its body validated (400), then served. Errors are the spec's
 * `{errorName, errorMessage}`, rendered by this router.
 */
export function xksRoutes(d: { xks: XksService; keyStores: XksKeyStores }, guards: Guards) {
  const app = new Hono<AppEnv>().onError(xksErrors);
  const ofStore: MiddlewareHandler<AppEnv> = async (c, next) => {
    if (!(await d.keyStores.byPrefix(c.req.param("prefix") ?? ""))) throw new XksOutcome("InvalidUriPathException", 404, "no XKS key store has this URI path");
    await next();
  };
  // A credential of another key store (of this tenant or another) is no credential here.
  const itsOwn: MiddlewareHandler<AppEnv> = async (c, next) => {
    const store = await d.keyStores.byPrefix(c.req.param("prefix") ?? "");
    const p = principalOf(c);
    if (!store || p.tenant !== store.tenant || p.principalId !== store.principalId) throw new KmsError("AuthenticationFailedException", "this credential is not this key store's");
    await next();
  };
  const chain = [guards.audit, guards.limit, ofStore, guards.authenticate, itsOwn] as const;
  for (const base of BASES) {
    app.post(`${base}/health`, ...chain, async (c) => {
      const body = await bodyOf(c, HealthBody);
      await noted(c, "xks:GetHealthStatus", undefined, body.requestMetadata);
      return c.json(await d.xks.health(c.var.call));
    });
    app.post(`${base}/keys/:keyId/metadata`, ...chain, async (c) => {
      const keyId = keyIdOf(c);
      const body = await bodyOf(c, MetadataBody);
      await noted(c, "xks:GetKeyMetadata", keyId, body.requestMetadata);
      return c.json(await d.xks.metadata(asked(c, body.requestMetadata), keyId));
    });
    app.post(`${base}/keys/:keyId/encrypt`, ...chain, async (c) => {
      const keyId = keyIdOf(c);
      const body = await bodyOf(c, EncryptBody);
      await noted(c, "xks:Encrypt", keyId, body.requestMetadata);
      return c.json(await d.xks.encrypt(asked(c, body.requestMetadata), keyId, body, c.var.call));
    });
    app.post(`${base}/keys/:keyId/decrypt`, ...chain, async (c) => {
      const keyId = keyIdOf(c);
      const body = await bodyOf(c, DecryptBody);
      await noted(c, "xks:Decrypt", keyId, body.requestMetadata);
      return c.json(await d.xks.decrypt(asked(c, body.requestMetadata), keyId, body, c.var.call));
    });
    for (const path of API) {
      app.on(["GET", "PUT", "PATCH", "DELETE"], `${base}${path}`, guards.audit, () => {
        throw new XksOutcome("MethodNotAllowed", 405, "the XKS API takes POST only");
      });
    }
    app.all(`${base}/*`, guards.audit, () => {
      throw new XksOutcome("InvalidUriPathException", 404, "no such XKS API path");
    });
  }
  return app;
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

function keyIdOf(c: Context<AppEnv>): string {
  const parsed = ExternalKeyId.safeParse(c.req.param("keyId"));
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
  const parsed = schema.safeParse(json);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    throw new KmsError("ValidationException", `${issue?.path.join(".") || "body"}: ${issue?.message ?? "invalid"}`);
  }
  return parsed.data;
}

/** The audit record names what AWS KMS says of the call: its request id, principal, operation and key. */
function noted(c: Context<AppEnv>, action: string, keyId: string | undefined, m: RequestMetadata): Promise<void> {
  return note(c, { action, ...(keyId ? { keyId } : {}), xks: { kmsRequestId: m.kmsRequestId, kmsOperation: m.kmsOperation, awsPrincipalArn: m.awsPrincipalArn, kmsKeyArn: m.kmsKeyArn } });
}
