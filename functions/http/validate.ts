import type { MiddlewareHandler } from "hono";
import { bodyLimit } from "hono/body-limit";
import { validator } from "hono/validator";
import * as z from "zod";
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

/** Parses with a zod schema; any problem is a ValidationException naming the field. */
const parseWith =
  <S extends z.ZodType>(schema: S, where: string) =>
  async (value: unknown): Promise<z.output<S>> => {
    const r = await schema.safeParseAsync(value);
    if (r.success) return r.data;
    const issue = r.error.issues[0];
    throw new KmsError("ValidationException", `${issue?.path.length ? issue.path.join(".") : where}: ${issue?.message ?? "invalid"}`);
  };

/** Which schema each validating middleware applies: the OpenAPI document is generated from these. */
const registry = new WeakMap<object, { target: "json" | "query"; schema: z.ZodType }>();
export const schemaOf = (handler: unknown) => (typeof handler === "function" ? registry.get(handler) : undefined);

const registered = <M extends object>(mw: M, target: "json" | "query", schema: z.ZodType): M => {
  registry.set(mw, { target, schema });
  return mw;
};

export const json = <S extends z.ZodType>(schema: S) => registered(validator("json", parseWith(schema, "body")), "json", schema);
export const query = <S extends z.ZodType>(schema: S) => registered(validator("query", parseWith(schema, "query")), "query", schema);

/** A base64 field decoding to at most `max` bytes (and at least `min`). */
export const Blob = (max: number, min = 1) =>
  z
    .string()
    .max(Math.ceil(max / 3) * 4 + 4)
    .regex(/^[A-Za-z0-9+/]*={0,2}$/, "must be base64")
    .transform((s) => new Uint8Array(Buffer.from(s, "base64")))
    .refine((b) => b.length >= min && b.length <= max, `must decode to ${min}–${max} bytes`);

export const EncryptionContext = z
  .record(z.string().min(1).max(256), z.string().max(4096))
  .refine((c) => Object.keys(c).length <= 64, "at most 64 entries")
  .optional();

/** A policy document given as a JSON object (or its text): kept as text, validated by the policy compiler. */
export const PolicyJson = z.union([z.string().max(32 * 1024), z.record(z.string(), z.unknown())]).transform((p) => (typeof p === "string" ? p : JSON.stringify(p)));
