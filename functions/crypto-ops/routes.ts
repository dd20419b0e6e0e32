import { Hono } from "hono";
import { principalOf } from "../http/auth.js";
import type { AppEnv } from "../http/env.js";
import { json } from "../http/validate.js";
import { GenerateRandomBody } from "./schemas.js";
import type { CryptoService } from "./service.js";

export const cryptoRoutes = (svc: CryptoService) =>
  new Hono<AppEnv>().post("/v1/random", json(GenerateRandomBody), async (c) => {
    c.set("audit", { action: "kms:GenerateRandom" });
    const bytes = await svc.generateRandom(principalOf(c), c.req.valid("json").numberOfBytes, c.var.call);
    return c.json({ plaintext: Buffer.from(bytes).toString("base64") });
  });
