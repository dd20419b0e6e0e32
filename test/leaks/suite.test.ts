import { existsSync, readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { formsOf, leaksIn, storedItems } from "./scan.js";

/**
 * Runs after every integration test (project `leaks`, groupOrder 1): reads back every log line
 * the run's functions and connectors printed, every item in every table of the run's DynamoDB
 * Local and every connector audit file, and looks for every secret the test files said they used
 * (see test/support/leak-ledger.ts), the token's PINs, and anything shaped like a bearer token.
 */
const stateDir = process.env.TETHER_TEST_STATE_DIR ?? "";
const endpoint = process.env.TETHER_TEST_DYNAMO_ENDPOINT ?? "";

const filesUnder = (dir: string, keep: (name: string) => boolean): string[] =>
  existsSync(dir)
    ? readdirSync(dir, { withFileTypes: true, recursive: true })
        .filter((e) => e.isFile() && keep(e.name))
        .map((e) => join(e.parentPath, e.name))
    : [];

describe("the whole integration run leaked nothing", () => {
  it("no secret any test used appears in any log line, stored item or connector audit record", async () => {
    expect(stateDir, "run the whole suite (npm test): this project reads what the integration project left").not.toBe("");
    const ledger = join(stateDir, "leak-ledger");
    const secrets = filesUnder(ledger, (n) => n.endsWith(".b64")).flatMap((f) =>
      readFileSync(f, "utf8")
        .split("\n")
        .filter(Boolean)
        .map((line) => Buffer.from(line, "base64")),
    );
    const pins = ["user-pin", "so-pin"].map((n) => readFileSync(join(stateDir, "softhsm", n), "utf8").trim());
    const needles = [...secrets.flatMap(formsOf), ...pins];

    const haystacks: [string, string][] = [
      ...filesUnder(ledger, (n) => n.endsWith(".log")).map((f): [string, string] => [f, readFileSync(f, "utf8")]),
      ...filesUnder(stateDir, (n) => n.endsWith("-audit.jsonl")).map((f): [string, string] => [f, readFileSync(f, "utf8")]),
      ["DynamoDB Local items", (await storedItems(endpoint)).join("\n")],
    ];
    // The search has something to search, and finds what should be there.
    expect(secrets.length).toBeGreaterThan(20);
    expect(haystacks.filter(([where]) => where.includes("functions")).length).toBeGreaterThan(5);
    expect(haystacks.some(([where]) => where.endsWith("-audit.jsonl"))).toBe(true);
    const items = haystacks.at(-1)?.[1] ?? "";
    expect(items).toContain("AUDIT#");

    expect(leaksIn(haystacks, needles)).toEqual([]);
  });
});
