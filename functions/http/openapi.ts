import type { MiddlewareHandler } from "hono";
import * as z from "zod";
import type { KmsErrorCode } from "../../shared/errors.js";
import type { AppEnv } from "./env.js";
import { STATUS } from "./errors.js";
import { schemaOf } from "./validate.js";

type RouteEntry = { method: string; path: string; handler: unknown };
type JsonSchema = Record<string, unknown>;

/** What the OpenAPI document says of a route: from an operation of the contract, or written beside the route. */
export type RouteDoc = {
  operationId?: string;
  summary: string;
  description: string;
  /** The success answer's body. */
  response: z.ZodType;
  status?: 200 | 201;
  /** The errors its own rules can answer; those every authenticated route can answer are added. */
  errors: readonly KmsErrorCode[];
};

/** What any authenticated route can answer, whatever it does. */
const EVERY_ROUTE: readonly KmsErrorCode[] = ["ValidationException", "AuthenticationFailedException", "AccessDeniedException", "ThrottlingException", "DependencyTimeoutException", "DependencyUnavailableException", "KMSInternalException"];

/** Examples of path parameters, by name. */
const PATH_EXAMPLES: Record<string, string> = {
  keyId: "1234abcd-12ab-34cd-56ef-1234567890ab",
  grantId: "0c237476b39f8bc44e45212e08498fbe3151305030726c0590dd8d3e9f3d6a60",
  id: "alice",
  keyStoreId: "7d1f3a52-9c1e-4f0b-8a55-0c2b7e5f0c11",
  accessKeyId: "TTHAEXAMPLEKEY234567",
};

/** The AWS protocols' doors (AWS documents them: KMS at `POST /`, XKS under `…/kms/xks/v1`) and the documentation itself. */
export const notDescribed = (path: string): boolean => ["/", "/openapi.json", "/docs"].includes(path) || path.includes("/kms/xks/v1");

const docs = new WeakMap<object, RouteDoc>();

/** A route's documentation, as a middleware that does nothing else (the document finds it in the route's handlers). */
export function described(doc: RouteDoc): MiddlewareHandler<AppEnv> {
  const mw: MiddlewareHandler<AppEnv> = async function described(_c, next) {
    await next();
  };
  docs.set(mw, doc);
  return mw;
}

export const docOf = (handler: unknown): RouteDoc | undefined => (typeof handler === "function" ? docs.get(handler) : undefined);

const toJsonSchema = (schema: z.ZodType, io: "input" | "output") => {
  const { $schema: _dialect, ...rest } = z.toJSONSchema(schema, { io, unrepresentable: "any" }) as JsonSchema;
  return rest;
};

/**
 * An example value from a JSON schema: each field's own example (or default, or first enum
 * value, or its minimum), required fields always. Undefined when a required field has none, so a
 * field without an example is found by the test of the document, not shown as "string".
 */
export function exampleOf(s: unknown): unknown {
  if (!s || typeof s !== "object") return undefined;
  const schema = s as JsonSchema;
  if (Array.isArray(schema.examples) && schema.examples.length) return schema.examples[0];
  if ("default" in schema) return schema.default;
  if ("const" in schema) return schema.const;
  if (Array.isArray(schema.enum)) return schema.enum[0];
  for (const branch of (schema.anyOf ?? schema.oneOf ?? []) as unknown[]) {
    const ex = exampleOf(branch);
    if (ex !== undefined) return ex;
  }
  switch (schema.type) {
    case "object": {
      const required = new Set((schema.required ?? []) as string[]);
      const out: Record<string, unknown> = {};
      for (const [name, prop] of Object.entries((schema.properties ?? {}) as Record<string, unknown>)) {
        const ex = exampleOf(prop);
        if (ex !== undefined) out[name] = ex;
        else if (required.has(name)) return undefined;
      }
      return out;
    }
    case "array": {
      const item = exampleOf(schema.items);
      return item === undefined ? undefined : [item];
    }
    case "integer":
    case "number":
      return typeof schema.minimum === "number" ? schema.minimum : 1;
    case "boolean":
      return true;
    default:
      return undefined;
  }
}

const errorBody = (codes: readonly KmsErrorCode[]) => ({
  type: "object",
  required: ["__type", "message"],
  properties: { __type: { type: "string", enum: codes }, message: { type: "string" } },
});

/** The error answers of a route, one per HTTP status, each listing the codes it may carry. */
function errorResponses(codes: readonly KmsErrorCode[]) {
  const byStatus = new Map<number, KmsErrorCode[]>();
  for (const code of new Set(codes)) byStatus.set(STATUS[code], [...(byStatus.get(STATUS[code]) ?? []), code]);
  return Object.fromEntries(
    [...byStatus].map(([status, list]) => [
      String(status),
      { description: list.join(", "), content: { "application/json": { schema: errorBody(list), example: { __type: list[0], message: "what went wrong, for a person to read" } } } },
    ]),
  );
}

const operationIdOf = (method: string, path: string) => `${method}${path.replace(/[^A-Za-z0-9]+(.)?/g, (_, ch: string | undefined) => (ch ? ch.toUpperCase() : ""))}`;
const tagOf = (path: string) => path.split("/")[2] ?? "service";

/**
 * OpenAPI 3.1 for the routes the app registered: request bodies and query parameters from the
 * zod schemas their validators apply; summary, description, answer and errors from each route's
 * documentation (an operation of the contract, or written beside the route); examples from the
 * fields' own. The AWS protocols (KMS, XKS) are AWS's and are not described here.
 */
export function openApiDocument(routes: readonly RouteEntry[], version: string) {
  const paths: Record<string, Record<string, JsonSchema>> = {};
  for (const r of routes) {
    if (r.method === "ALL" || r.path.includes("*") || notDescribed(r.path)) continue;
    const path = r.path.replace(/:([A-Za-z]+)/g, "{$1}");
    const method = r.method.toLowerCase();
    const operation: JsonSchema = paths[path]?.[method] ?? {
      operationId: operationIdOf(method, path),
      tags: [tagOf(r.path)],
      ...(path.startsWith("/v1") ? { security: [{ apiKey: [] }, { sigv4: [] }] } : { security: [] }),
      parameters: [...path.matchAll(/\{([A-Za-z]+)\}/g)].map((m) => ({ name: m[1], in: "path", required: true, schema: { type: "string" }, example: PATH_EXAMPLES[m[1] as string] })),
      responses: {},
    };
    const validated = schemaOf(r.handler);
    if (validated?.target === "json") {
      const schema = toJsonSchema(validated.schema, "input");
      operation.requestBody = { required: true, content: { "application/json": { schema, example: exampleOf(schema) } } };
    }
    if (validated?.target === "query") {
      const shape = toJsonSchema(validated.schema, "input") as { properties?: Record<string, unknown>; required?: string[] };
      operation.parameters = [
        ...(operation.parameters as unknown[]),
        ...Object.entries(shape.properties ?? {}).map(([name, schema]) => ({ name, in: "query", required: shape.required?.includes(name) ?? false, schema, example: exampleOf(schema) })),
      ];
    }
    const doc = docOf(r.handler);
    if (doc) {
      const schema = toJsonSchema(doc.response, "output");
      Object.assign(operation, {
        ...(doc.operationId ? { operationId: doc.operationId } : {}),
        summary: doc.summary,
        description: doc.description,
        responses: {
          [String(doc.status ?? 200)]: { description: doc.summary, content: { "application/json": { schema, example: exampleOf(schema) } } },
          ...errorResponses(path.startsWith("/v1") ? [...EVERY_ROUTE, ...doc.errors] : doc.errors),
        },
      });
    }
    (paths[path] ??= {})[method] = operation;
  }
  return {
    openapi: "3.1.0",
    info: {
      title: "Tether KMS native API",
      version,
      description:
        "Keys rooted in an on-prem HSM. Authenticate with an API key (`Authorization: Bearer tth_…`) or SigV4 (service `kms`). Every request, allowed or not, is audited before its answer leaves. The same operations speak the AWS KMS protocol at `POST /` (AWS SDKs, CLI and Encryption SDK).",
    },
    components: {
      securitySchemes: {
        apiKey: { type: "http", scheme: "bearer", description: "An API key: tth_<id>_<secret>" },
        sigv4: { type: "apiKey", in: "header", name: "Authorization", description: "AWS Signature Version 4 with a Tether access key (service kms)" },
      },
    },
    paths,
  };
}
