import { Hono } from "hono";
import * as z from "zod";
import { principalOf } from "../http/auth.js";
import type { AppEnv } from "../http/env.js";
import { note } from "../http/audit.js";
import { serveOperation } from "../http/native.js";
import { described } from "../http/openapi.js";
import { query } from "../http/validate.js";
import { Alias, KEY_OPERATIONS as OPS, keyMetadata, type KeyServices } from "./operations.js";
import { KeyList, KeyUsageView, KeyVersionView, ListAliasesQuery, ListKeysQuery } from "./schemas.js";

/** Keys and aliases under /v1: the operations of the contract, and the native API's own listings. */
export const keyRoutes = (s: KeyServices) => {
  const app = new Hono<AppEnv>();
  serveOperation(app, s, OPS.CreateKey, { method: "POST", path: "/v1/keys", status: 201 });
  serveOperation(app, s, OPS.DescribeKey, { method: "GET", path: "/v1/keys/:keyId" });
  serveOperation(app, s, OPS.UpdateKeyDescription, { method: "PATCH", path: "/v1/keys/:keyId" });
  serveOperation(app, s, OPS.EnableKey, { method: "POST", path: "/v1/keys/:keyId/enable" });
  serveOperation(app, s, OPS.DisableKey, { method: "POST", path: "/v1/keys/:keyId/disable" });
  serveOperation(app, s, OPS.ScheduleKeyDeletion, { method: "POST", path: "/v1/keys/:keyId/schedule-deletion" });
  serveOperation(app, s, OPS.CancelKeyDeletion, { method: "POST", path: "/v1/keys/:keyId/cancel-deletion" });
  serveOperation(app, s, OPS.RotateKeyOnDemand, { method: "POST", path: "/v1/keys/:keyId/rotate" });
  serveOperation(app, s, OPS.TagResource, { method: "POST", path: "/v1/keys/:keyId/tags" });
  serveOperation(app, s, OPS.UntagResource, { method: "POST", path: "/v1/keys/:keyId/untag" });
  serveOperation(app, s, OPS.GetParametersForImport, { method: "POST", path: "/v1/keys/:keyId/import-parameters" });
  serveOperation(app, s, OPS.ImportKeyMaterial, { method: "POST", path: "/v1/keys/:keyId/import" });
  serveOperation(app, s, OPS.DeleteImportedKeyMaterial, { method: "POST", path: "/v1/keys/:keyId/delete-imported-material" });
  serveOperation(app, s, OPS.CreateAlias, { method: "POST", path: "/v1/aliases", status: 201 });
  serveOperation(app, s, OPS.UpdateAlias, { method: "PUT", path: "/v1/aliases" });
  serveOperation(app, s, OPS.DeleteAlias, { method: "DELETE", path: "/v1/aliases" });
  return app
    .get("/v1/keys", query(ListKeysQuery), described({ operationId: "ListKeys", summary: "List keys", description: "A page of the tenant's keys the caller may describe, filtered by state, key spec, tag or alias (a filtered page may come back short; follow nextCursor).", response: KeyList, errors: [] }), async (c) => {
      await note(c, { action: "kms:ListKeys" });
      const { limit, cursor, state, keySpec, tag, alias } = c.req.valid("query");
      const page = await s.keys.list(principalOf(c), limit, cursor, { state, keySpec, tag, alias, describable: true });
      return c.json({ keys: page.items.map(keyMetadata), ...(page.cursor ? { nextCursor: page.cursor } : {}) });
    })
    .get("/v1/keys/:keyId/usage", described({ operationId: "GetKeyUsage", summary: "Get a key's usage", description: "How often each operation used the key, and when it was last used (counted in memory, written every 30 s).", response: KeyUsageView, errors: ["NotFoundException"] }), async (c) => {
      await note(c, { action: "kms:DescribeKey", keyId: c.req.param("keyId") });
      return c.json(await s.keys.usage(principalOf(c), c.req.param("keyId")));
    })
    .get("/v1/keys/:keyId/versions", described({ operationId: "ListKeyVersions", summary: "List a key's versions", description: "Every version of the key's material: when it was made and how (automatic or on-demand rotation).", response: z.object({ versions: z.array(KeyVersionView) }), errors: ["NotFoundException"] }), async (c) => {
      await note(c, { action: "kms:ListKeyRotations", keyId: c.req.param("keyId") });
      return c.json({ versions: await s.lifecycle.listVersions(principalOf(c), c.req.param("keyId")) });
    })
    .get("/v1/aliases", query(ListAliasesQuery), described({ operationId: "ListAliases", summary: "List aliases", description: "The tenant's aliases, or those of one key.", response: z.object({ aliases: z.array(Alias) }), errors: ["NotFoundException"] }), async (c) => {
      await note(c, { action: "kms:ListAliases" });
      return c.json({ aliases: await s.aliases.list(principalOf(c), c.req.valid("query").keyId) });
    });
};
