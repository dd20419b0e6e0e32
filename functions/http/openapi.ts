import * as z from "zod";
import { KmsErrorCode } from "../../shared/errors.js";
import { schemaOf } from "./validate.js";

type RouteEntry = { method: string; path: string; handler: unknown };

const toJsonSchema = (schema: z.ZodType) => z.toJSONSchema(schema, { io: "input", unrepresentable: "any" });

const ErrorBody = {
  type: "object",
  required: ["__type", "message"],
  properties: { __type: { type: "string", enum: KmsErrorCode.options }, message: { type: "string" } },
};

/**
 * OpenAPI 3.1 for the routes the app actually registered, with request bodies and query
 * parameters generated from the zod schemas their validators apply.
 */
export function openApiDocument(routes: readonly RouteEntry[], version: string) {
  const paths: Record<string, Record<string, unknown>> = {};
  for (const r of routes) {
    if (r.method === "ALL" || r.path.includes("*")) continue;
    const path = r.path.replace(/:([A-Za-z]+)/g, "{$1}");
    const method = r.method.toLowerCase();
    const op = (paths[path] ??= {})[method] as Record<string, unknown> | undefined;
    const operation: Record<string, unknown> = op ?? {
      operationId: `${method}${path.replace(/[^A-Za-z0-9]+(.)?/g, (_, ch: string | undefined) => (ch ? ch.toUpperCase() : ""))}`,
      ...(path.startsWith("/v1") ? { security: [{ apiKey: [] }] } : {}),
      parameters: [...path.matchAll(/\{([A-Za-z]+)\}/g)].map((m) => ({ name: m[1], in: "path", required: true, schema: { type: "string" } })),
      responses: {
        "200": { description: "Success", content: { "application/json": { schema: { type: "object" } } } },
        "4XX": { description: "A client error with a stable code", content: { "application/json": { schema: ErrorBody } } },
        "5XX": { description: "A dependency (DynamoDB, the HSM) failed", content: { "application/json": { schema: ErrorBody } } },
      },
    };
    const validated = schemaOf(r.handler);
    if (validated?.target === "json") operation.requestBody = { required: true, content: { "application/json": { schema: toJsonSchema(validated.schema) } } };
    if (validated?.target === "query") {
      const shape = toJsonSchema(validated.schema) as { properties?: Record<string, unknown>; required?: string[] };
      operation.parameters = [
        ...(operation.parameters as unknown[]),
        ...Object.entries(shape.properties ?? {}).map(([name, schema]) => ({ name, in: "query", required: shape.required?.includes(name) ?? false, schema })),
      ];
    }
    paths[path]![method] = operation;
  }
  return {
    openapi: "3.1.0",
    info: { title: "Tether KMS native API", version },
    components: { securitySchemes: { apiKey: { type: "http", scheme: "bearer", description: "An API key: tth_<id>_<secret>" } } },
    paths,
  };
}

const escape = (s: string) => s.replace(/[&<>"]/g, (ch) => `&#${ch.charCodeAt(0)};`);

/** A plain HTML index of the operations, from the same document. */
export function docsPage(doc: ReturnType<typeof openApiDocument>): string {
  const rows = Object.entries(doc.paths)
    .flatMap(([path, ops]) => Object.keys(ops).map((m) => `<tr><td><code>${m.toUpperCase()}</code></td><td><code>${escape(path)}</code></td></tr>`))
    .join("\n");
  return `<!doctype html><html><head><meta charset="utf-8"><title>${escape(doc.info.title)}</title></head><body>
<h1>${escape(doc.info.title)}</h1><p>Machine-readable: <a href="/openapi.json">/openapi.json</a> (OpenAPI ${doc.openapi}). Authenticate with <code>Authorization: Bearer tth_…</code>.</p>
<table>${rows}</table></body></html>`;
}
