import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { compileGlob, globShape } from "./glob.js";

/** The reference: the textbook dynamic programme over (pattern position, text position), plainly correct. */
function reference(pattern: string, text: string): boolean {
  const p = [...pattern];
  const t = [...text];
  const memo = new Map<number, boolean>();
  const at = (i: number, j: number): boolean => {
    const id = i * (t.length + 1) + j;
    const known = memo.get(id);
    if (known !== undefined) return known;
    let out: boolean;
    if (i === p.length) out = j === t.length;
    else if (p[i] === "*") out = at(i + 1, j) || (j < t.length && at(i, j + 1));
    else out = j < t.length && (p[i] === "?" || p[i] === t[j]) && at(i + 1, j + 1);
    memo.set(id, out);
    return out;
  };
  return at(0, 0);
}

const alphabet = fc.constantFrom("a", "b", "*", "?", "é", "😀");
const word = fc.array(alphabet, { maxLength: 24 }).map((cs) => cs.join(""));
const text = fc.array(fc.constantFrom("a", "b", "é", "😀", "*", "?"), { maxLength: 40 }).map((cs) => cs.join(""));

describe("glob matching without backtracking", () => {
  it("agrees with the reference matcher on random and adversarial patterns", () => {
    fc.assert(fc.property(word, text, (p, t) => compileGlob(p).test(t) === reference(p, t)), { numRuns: 5_000 });
    // Long patterns cross the 32-bit word boundaries of the state set.
    const long = fc.array(alphabet, { minLength: 30, maxLength: 120 }).map((cs) => cs.join(""));
    fc.assert(fc.property(long, text, (p, t) => compileGlob(p).test(t) === reference(p, t)), { numRuns: 2_000 });
  });

  it("literal and prefix patterns (matched without the NFA) agree with the reference too", () => {
    const plain = fc.array(fc.constantFrom("a", "b", "é", "😀"), { maxLength: 12 }).map((cs) => cs.join(""));
    const shaped = fc.tuple(plain, fc.constantFrom("", "*", "**")).map(([h, stars]) => h + stars);
    fc.assert(fc.property(shaped, text, (p, t) => compileGlob(p).test(t) === reference(p, t)), { numRuns: 3_000 });
    fc.assert(fc.property(plain, plain, (head, rest) => compileGlob(`${head}*`).test(head + rest)));
    expect(globShape("arn:aws:kms:*:111122223333:key/*")).toMatchObject({ shape: "general" });
    expect(globShape("arn:aws:kms:us-east-1:111122223333:key/**")).toEqual({ shape: "prefix", head: "arn:aws:kms:us-east-1:111122223333:key/" });
    expect(globShape("key-1")).toEqual({ shape: "literal", head: "key-1" });
    expect(compileGlob("KMS:Describe*", { ignoreCase: true }).test("kms:describekey")).toBe(true);
  });

  it("reads stars, question marks and literals as AWS's policy globs do", () => {
    expect(compileGlob("kms:Describe*").test("kms:DescribeKey")).toBe(true);
    expect(compileGlob("kms:Describe*").test("kms:Decrypt")).toBe(false);
    expect(compileGlob("kms:encrypt", { ignoreCase: true }).test("kms:Encrypt")).toBe(true);
    expect(compileGlob("a?c").test("abc")).toBe(true);
    expect(compileGlob("a?c").test("ac")).toBe(false);
    expect(compileGlob("*").test("")).toBe(true);
    expect(compileGlob("").test("")).toBe(true);
    expect(compileGlob("").test("x")).toBe(false);
    // Regex metacharacters are literals.
    expect(compileGlob("a.b").test("axb")).toBe(false);
    expect(compileGlob("(a+)+$").test("(a+)+$")).toBe(true);
    expect(compileGlob("line*").test("line\nbreak")).toBe(true);
  });

  it("costs the same for the classic catastrophic patterns (no exponential blow-up)", () => {
    const hostile = `${"*?".repeat(200)}#`;
    const started = performance.now();
    expect(compileGlob(hostile).test("x".repeat(4096))).toBe(false);
    expect(compileGlob(`${"a*".repeat(500)}b`).test("a".repeat(4096))).toBe(false);
    // A bound ~100x above what it takes, to catch a return of backtracking, not to time the code.
    expect(performance.now() - started).toBeLessThan(2_000);
  });
});
