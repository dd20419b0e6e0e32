import { Hono } from "hono";
import { cryptoRoutes } from "./crypto-ops/routes.js";
import { TETHER_VERSION as API_VERSION, type Deps } from "./deps.js";
import { xksKeyStoreRoutes, xksRoutes } from "./xks/routes.js";
import { healthRoutes } from "./health/routes.js";
import { auditTrail, type SourceIp } from "./http/audit.js";
import { authenticate } from "./http/auth.js";
import type { AppEnv } from "./http/env.js";
import { nativeErrors, notFound } from "./http/errors.js";
import { Scalar } from "@scalar/hono-api-reference";
import { openApiDocument } from "./http/openapi.js";
import { requestContext } from "./http/request-id.js";
import { hsmKeyRoutes } from "./hsm-keys/routes.js";
import { identityRoutes } from "./identity/routes.js";
import { keyRoutes } from "./keys/routes.js";
import { grantRoutes } from "./grants/routes.js";
import { auditRoutes } from "./audit/routes.js";
import { tenantRoutes } from "./tenants/routes.js";
import { awsKmsRoutes } from "./aws-kms/routes.js";
import { policyRoutes } from "./policy/routes.js";
import { limitBody } from "./http/validate.js";

const SCALAR_VERSION = "1.76.0";

/** The HTTP app: `/health`, `/openapi.json` and `/docs` are open; everything under `/v1` is authenticated and audited. */
export const createApp = (d: Deps, sourceIp: SourceIp = () => undefined) => {
  const app = new Hono<AppEnv>();
  app.use(requestContext(d.log, d.config.requestTimeoutMs));
  // Audited first, so that a request refused at any later step (its size, its credential) leaves its record.
  const guarded = [auditTrail(d.audit, sourceIp), limitBody(), authenticate(d.authenticator, d.authThrottle, sourceIp)] as const;
  app.use("/v1/*", ...guarded);
  app.route("/", healthRoutes(d.health));
  app.route("/", keyRoutes({ keys: d.keys, lifecycle: d.lifecycle, aliases: d.aliases, imports: d.imports }));
  app.route("/", cryptoRoutes(d.crypto));
  app.route("/", hsmKeyRoutes(d.hsmKeys));
  app.route("/", identityRoutes(d.identityService));
  app.route("/", policyRoutes(d.policies));
  app.route("/", grantRoutes(d.grants));
  app.route("/", auditRoutes(d.auditLog));
  app.route("/", tenantRoutes(d.tenants));
  app.route("/", xksKeyStoreRoutes(d.xksKeyStores));
  app.route("/", xksRoutes({ xks: d.xks, keyStores: d.xksKeyStores }, { audit: guarded[0], limit: guarded[1], authenticate: authenticate(d.xksAuthenticator, d.authThrottle, sourceIp) }));
  app.route("/", awsKmsRoutes({ keys: d.keys, directory: d.keyDirectory, lifecycle: d.lifecycle, aliases: d.aliases, imports: d.imports, crypto: d.crypto, policies: d.policies, grants: d.grants }, guarded));
  app.get("/openapi.json", (c) => c.json(openApiDocument(app.routes, API_VERSION)));
  // The reference UI (Scalar) renders the document in the browser, its script pinned to one version.
  app.get("/docs", Scalar({ url: "/openapi.json", pageTitle: "Tether KMS API", cdn: `https://cdn.jsdelivr.net/npm/@scalar/api-reference@${SCALAR_VERSION}` }));
  app.notFound(notFound);
  app.onError(nativeErrors);
  return app;
};
