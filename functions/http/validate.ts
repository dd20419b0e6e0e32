import type { MiddlewareHandler } from "hono";
import { bodyLimit } from "hono/body-limit";
import { validator } from "hono/validator";
import type { z } from "zod";
import { KmsError } from "../../shared/errors.js";
import type { AppEnv } from "./env.js";

export const MAX_BODY_BYTES = 256 * 1024;

/** Refuses bodies over the limit before reading them whole. */
export const limitBody = (): MiddlewareHandler<AppEnv> =>
  bodyLimit({
    maxSize: MAX_BODY_BYTES,
    onError: () => {
      throw new KmsError("ValidationException", `request body exceeds ${MAX_BODY_BYTES} bytes`);
    },
  });

/** Validates a JSON body with a zod schema; any problem is a ValidationException naming the field. */
export const json = <S extends z.ZodType>(schema: S) =>
  validator("json", async (value: unknown): Promise<z.output<S>> => {
    const r = await schema.safeParseAsync(value);
    if (r.success) return r.data;
    const issue = r.error.issues[0];
    const where = issue?.path.length ? issue.path.join(".") : "body";
    throw new KmsError("ValidationException", `${where}: ${issue?.message ?? "invalid"}`);
  });
