import { execFile } from "node:child_process";
import { mkdir, rm, writeFile } from "node:fs/promises";
import { join, resolve } from "node:path";
import { promisify } from "node:util";
import openapiTS, { astToString } from "openapi-typescript";
import { afterAll, describe, expect, it } from "vitest";
import { createApp } from "../app.js";
import { apiKeyFor, testDeps } from "../testing.js";

const run = promisify(execFile);
const root = resolve(import.meta.dirname, "../..");
// Inside the repository (ignored by git), so that the client resolves openapi-fetch from node_modules.
const dir = join(root, ".tether", `openapi-client-${process.pid}`);

/** A program written against the generated types: what a user of the document would write. */
const CLIENT = `import createClient from "openapi-fetch";
import type { paths } from "./schema.js";

export async function roundTrip(baseUrl: string, token: string, fetch: typeof globalThis.fetch): Promise<string> {
  const client = createClient<paths>({ baseUrl, fetch, headers: { authorization: \`Bearer \${token}\` } });
  const created = await client.POST("/v1/keys", { body: { description: "from the generated client" } });
  if (!created.data) throw new Error(\`CreateKey: \${created.error?.__type}\`);
  const keyId: string = created.data.keyMetadata.keyId;
  const encrypted = await client.POST("/v1/keys/{keyId}/encrypt", { params: { path: { keyId } }, body: { plaintext: "aGVsbG8=", encryptionContext: { purpose: "test" } } });
  if (!encrypted.data) throw new Error(\`Encrypt: \${encrypted.error?.__type}\`);
  const decrypted = await client.POST("/v1/decrypt", { body: { ciphertextBlob: encrypted.data.ciphertextBlob, encryptionContext: { purpose: "test" } } });
  if (!decrypted.data) throw new Error(\`Decrypt: \${decrypted.error?.__type}\`);
  return decrypted.data.plaintext;
}

export async function typedMistakes(client: ReturnType<typeof createClient<paths>>) {
  // @ts-expect-error the body's field is plaintext, not plaintxt
  await client.POST("/v1/keys/{keyId}/encrypt", { params: { path: { keyId: "k" } }, body: { plaintxt: "aGk=" } });
  // @ts-expect-error no such route
  await client.POST("/v1/keys/{keyId}/encrypt-everything", { params: { path: { keyId: "k" } } });
  const described = await client.GET("/v1/keys/{keyId}", { params: { path: { keyId: "k" } } });
  // @ts-expect-error keyState is an enum of the key states, not any string
  const state: "Sleeping" | undefined = described.data?.keyMetadata.keyState;
  return state;
}
`;

describe("a typed client generated from /openapi.json (openapi-typescript + openapi-fetch)", () => {
  afterAll(() => rm(dir, { recursive: true, force: true }));

  it("compiles under tsc --strict, refuses mistakes at compile time, and round-trips Encrypt/Decrypt", async () => {
    const t = testDeps();
    const app = createApp(t.deps);
    const doc = await (await app.request("/openapi.json")).json();
    await mkdir(dir, { recursive: true });
    await writeFile(join(dir, "schema.d.ts"), astToString(await openapiTS(doc as Parameters<typeof openapiTS>[0])));
    await writeFile(join(dir, "client.ts"), CLIENT);

    const tsc = join(root, "node_modules/typescript/bin/tsc");
    const flags = ["--noEmit", "--strict", "--exactOptionalPropertyTypes", "--module", "nodenext", "--moduleResolution", "nodenext", "--target", "es2022", "--skipLibCheck", "--types", "node"];
    const compiled = await run(process.execPath, [tsc, ...flags, join(dir, "client.ts")], { cwd: root }).catch((err: { stdout: string }) => ({ stdout: err.stdout, failed: true }));
    expect(compiled.stdout).toBe("");

    const client = (await import(join(dir, "client.ts"))) as { roundTrip(baseUrl: string, token: string, fetch: typeof globalThis.fetch): Promise<string> };
    const token = await apiKeyFor(t.identity, ["tenantAdmin"]);
    const plaintext = await client.roundTrip("http://tether.test", token, (input, init) => Promise.resolve(app.fetch(new Request(input, init))));
    expect(Buffer.from(plaintext, "base64").toString()).toBe("hello");
  }, 60_000);
});
