import { Hono } from "hono";
import { principalOf } from "../http/auth.js";
import type { AppEnv } from "../http/env.js";
import { json, query } from "../http/validate.js";
import { CreateKeyBody, keyMetadata, ListKeysQuery, ScheduleDeletionBody } from "./schemas.js";
import type { KeyService } from "./service.js";

/** The key lifecycle under /v1/keys. */
export const keyRoutes = (svc: KeyService) =>
  new Hono<AppEnv>()
    .post("/v1/keys", json(CreateKeyBody), async (c) => {
      c.set("audit", { action: "kms:CreateKey" });
      const key = await svc.create(principalOf(c), c.req.valid("json"), c.var.call);
      c.set("audit", { action: "kms:CreateKey", keyId: key.keyId });
      return c.json({ keyMetadata: keyMetadata(key) }, 201);
    })
    .get("/v1/keys", query(ListKeysQuery), async (c) => {
      c.set("audit", { action: "kms:ListKeys" });
      const { limit, cursor } = c.req.valid("query");
      const page = await svc.list(principalOf(c), limit, cursor);
      return c.json({ keys: page.items.map(keyMetadata), ...(page.cursor ? { nextCursor: page.cursor } : {}) });
    })
    .get("/v1/keys/:keyId", async (c) => {
      c.set("audit", { action: "kms:DescribeKey", keyId: c.req.param("keyId") });
      return c.json({ keyMetadata: keyMetadata(await svc.describe(principalOf(c), c.req.param("keyId"))) });
    })
    .post("/v1/keys/:keyId/enable", async (c) => {
      c.set("audit", { action: "kms:EnableKey", keyId: c.req.param("keyId") });
      return c.json({ keyMetadata: keyMetadata(await svc.enable(principalOf(c), c.req.param("keyId"))) });
    })
    .post("/v1/keys/:keyId/disable", async (c) => {
      c.set("audit", { action: "kms:DisableKey", keyId: c.req.param("keyId") });
      return c.json({ keyMetadata: keyMetadata(await svc.disable(principalOf(c), c.req.param("keyId"))) });
    })
    .post("/v1/keys/:keyId/schedule-deletion", json(ScheduleDeletionBody), async (c) => {
      c.set("audit", { action: "kms:ScheduleKeyDeletion", keyId: c.req.param("keyId") });
      const key = await svc.scheduleDeletion(principalOf(c), c.req.param("keyId"), c.req.valid("json").pendingWindowInDays);
      return c.json({ keyMetadata: keyMetadata(key) });
    })
    .post("/v1/keys/:keyId/cancel-deletion", async (c) => {
      c.set("audit", { action: "kms:CancelKeyDeletion", keyId: c.req.param("keyId") });
      return c.json({ keyMetadata: keyMetadata(await svc.cancelDeletion(principalOf(c), c.req.param("keyId"))) });
    })
    .post("/v1/keys/:keyId/rotate", async (c) => {
      c.set("audit", { action: "kms:RotateKeyOnDemand", keyId: c.req.param("keyId") });
      return c.json({ keyMetadata: keyMetadata(await svc.rotate(principalOf(c), c.req.param("keyId"), c.var.call)) });
    })
    .get("/v1/keys/:keyId/versions", async (c) => {
      c.set("audit", { action: "kms:ListKeyRotations", keyId: c.req.param("keyId") });
      return c.json({ versions: await svc.listVersions(principalOf(c), c.req.param("keyId")) });
    });
