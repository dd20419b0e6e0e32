import type { MiddlewareHandler } from "hono";
import { bodyLimit } from "hono/body-limit";
import { validator } from "hono/validator";
import type * as z from "zod";
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

/** Parses with a zod schema; any problem is a ValidationException naming the field (or `where`): every door validates its input this way. */
export function validated<S extends z.ZodType>(schema: S, value: unknown, where: string): z.output<S> {
  const r = schema.safeParse(value);
  if (r.success) return r.data;
  const issue = r.error.issues[0];
  throw new KmsError("ValidationException", `${issue?.path.length ? issue.path.join(".") : where}: ${issue?.message ?? "invalid"}`);
}

const parseWith =
  <S extends z.ZodType>(schema: S, where: string) =>
  async (value: unknown): Promise<z.output<S>> =>
    validated(schema, value, where);

/** Which schema each validating middleware applies: the OpenAPI document is generated from these. */
const registry = new WeakMap<object, { target: "json" | "query"; schema: z.ZodType }>();
export const schemaOf = (handler: unknown) => (typeof handler === "function" ? registry.get(handler) : undefined);

const registered = <M extends object>(mw: M, target: "json" | "query", schema: z.ZodType): M => {
  registry.set(mw, { target, schema });
  return mw;
};

export const json = <S extends z.ZodType>(schema: S) => registered(validator("json", parseWith(schema, "body")), "json", schema);
export const query = <S extends z.ZodType>(schema: S) => registered(validator("query", parseWith(schema, "query")), "query", schema);
