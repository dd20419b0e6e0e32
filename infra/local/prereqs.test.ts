import { describe, expect, it } from "vitest";
import { ensureSofthsm, javaMajor, PrerequisiteError } from "./prereqs.js";

describe("javaMajor", () => {
  it.each([
    ['openjdk version "17.0.15" 2025-04-15', 17],
    ['java version "1.8.0_392"', 8],
    ['openjdk version "21" 2023-09-19', 21],
    ["garbage", undefined],
  ])("%s → %s", (out, major) => expect(javaMajor(out)).toBe(major));
});

describe("ensureSofthsm", () => {
  it("refuses an override that does not exist, naming it", () => {
    expect(() => ensureSofthsm("/nonexistent/libsofthsm2.so")).toThrow(PrerequisiteError);
    expect(() => ensureSofthsm("/nonexistent/libsofthsm2.so")).toThrow(/\/nonexistent\/libsofthsm2\.so/);
  });
});
