import { describe, expect, it } from "vitest";
import { createApp } from "../app.js";
import { testDeps } from "../testing.js";
import { docOf, notDescribed, openApiDocument } from "./openapi.js";
import { compilePolicy } from "../policy/evaluate.js";
import { POLICY_EXAMPLE } from "../contract/fields.js";
import { schemaOf } from "./validate.js";

type Media = { schema: { type?: string; properties?: Record<string, unknown>; anyOf?: unknown[] }; example?: unknown };
type Operation = {
  summary?: string;
  description?: string;
  requestBody?: { content: Record<string, Media> };
  parameters?: { name: string; in: string; required: boolean; example?: unknown }[];
  responses: Record<string, { content?: Record<string, Media> }>;
};

const app = createApp(testDeps().deps);
const doc = openApiDocument(app.routes, "test") as unknown as { paths: Record<string, Record<string, Operation>> };
const operations = Object.entries(doc.paths).flatMap(([path, ops]) => Object.entries(ops).map(([method, op]) => ({ name: `${method.toUpperCase()} ${path}`, path, method, op })));
const openApiPath = (path: string) => path.replace(/:([A-Za-z]+)/g, "{$1}");

describe("the OpenAPI document (derived from the app's routes)", () => {
  it("describes every route the app serves, but the AWS protocol's", () => {
    const served = new Set(app.routes.filter((r) => r.method !== "ALL" && !r.path.includes("*") && !notDescribed(r.path)).map((r) => `${r.method.toUpperCase()} ${openApiPath(r.path)}`));
    expect(new Set(operations.map((o) => o.name))).toEqual(served);
    expect(operations.length).toBeGreaterThan(70);
  });

  it.each(operations)("$name: summary, description, a typed answer with an example, its errors, and examples of every input", ({ path, op }) => {
    expect(op.summary?.length).toBeGreaterThan(5);
    expect(op.description?.length).toBeGreaterThan(20);
    const success = Object.entries(op.responses).filter(([status]) => status.startsWith("2"));
    expect(success).toHaveLength(1);
    const answer = success[0]?.[1].content?.["application/json"];
    expect(answer?.schema.type === "object" && Object.keys(answer.schema.properties ?? {}).length > 0).toBe(true);
    expect(answer?.example).toBeDefined();
    const errors = Object.entries(op.responses).filter(([status]) => /^[45]/.test(status));
    expect(errors.length).toBeGreaterThan(0);
    for (const [, error] of errors) expect(error.content?.["application/json"]?.example).toMatchObject({ __type: expect.any(String) });
    if (path.startsWith("/v1")) expect(Object.keys(op.responses)).toEqual(expect.arrayContaining(["400", "401", "403", "429", "500", "503"]));
    if (op.requestBody) expect(op.requestBody.content["application/json"]?.example).toBeDefined();
    for (const p of op.parameters ?? []) if (p.required || p.in === "path") expect(p.example, `${p.in} parameter ${p.name}`).toBeDefined();
  });

  it("the policy the documentation shows is one Tether accepts", () => {
    expect(() => compilePolicy(JSON.stringify(POLICY_EXAMPLE))).not.toThrow();
  });

  it("each request example passes the route's own validator, and each answer example its documented schema", () => {
    let checked = 0;
    for (const r of app.routes) {
      const op = doc.paths[openApiPath(r.path)]?.[r.method.toLowerCase()];
      const validated = schemaOf(r.handler);
      if (op && validated?.target === "json") {
        expect(validated.schema.safeParse(op.requestBody?.content["application/json"]?.example).error, `${r.method} ${r.path}`).toBeUndefined();
        checked++;
      }
      if (op && validated?.target === "query") {
        const example = Object.fromEntries((op.parameters ?? []).filter((p) => p.in === "query" && p.example !== undefined).map((p) => [p.name, String(p.example)]));
        expect(validated.schema.safeParse(example).error, `${r.method} ${r.path}`).toBeUndefined();
        checked++;
      }
      const documented = docOf(r.handler);
      if (op && documented) {
        const [, success] = Object.entries(op.responses).find(([status]) => status.startsWith("2")) ?? [];
        expect(documented.response.safeParse(success?.content?.["application/json"]?.example).error, `${r.method} ${r.path}`).toBeUndefined();
        checked++;
      }
    }
    expect(checked).toBeGreaterThan(100);
  });
});
