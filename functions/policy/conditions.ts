import { BlockList, isIP } from "node:net";
import { anyGlob, compileGlob } from "../../shared/glob.js";
import type { ConditionOperator } from "./document.js";

/** What a request looks like to a policy condition: each key's values (absent key → undefined). */
export type ConditionContext = (key: string) => readonly string[] | undefined;

/** One compiled test of a condition block, `(context) → true/false`. */
export type ConditionTest = (context: ConditionContext) => boolean;

const NEGATED: ReadonlySet<ConditionOperator> = new Set(["StringNotEquals", "StringNotLike", "NotIpAddress"]);

/**
 * A value-level matcher for one operator and its policy values; the negated operators get their
 * positive form (negation is applied to the whole key, as AWS does). Throws on a policy value the
 * operator cannot use (a bad CIDR, a bad date): the policy is refused when stored.
 */
function valueMatcher(operator: ConditionOperator, values: readonly string[]): (requestValue: string) => boolean {
  switch (operator) {
    case "StringEquals":
    case "StringNotEquals":
      return (v) => values.includes(v);
    case "StringEqualsIgnoreCase": {
      const lower = values.map((x) => x.toLowerCase());
      return (v) => lower.includes(v.toLowerCase());
    }
    case "StringLike":
    case "StringNotLike": {
      const patterns = values.map((p) => compileGlob(p));
      return (v) => anyGlob(patterns, v);
    }
    case "IpAddress":
    case "NotIpAddress": {
      const blocks = new BlockList();
      for (const cidr of values) {
        const [address = "", bits] = cidr.split("/");
        const family = isIP(address);
        const prefix = bits === undefined ? (family === 6 ? 128 : 32) : Number(bits);
        if (!family || !Number.isInteger(prefix) || prefix < 0 || prefix > (family === 6 ? 128 : 32)) throw new Error(`not an IP address or CIDR block: ${cidr.slice(0, 64)}`);
        blocks.addSubnet(address, prefix, family === 6 ? "ipv6" : "ipv4");
      }
      return (v) => {
        const family = isIP(v);
        return family !== 0 && blocks.check(v, family === 6 ? "ipv6" : "ipv4");
      };
    }
    case "DateGreaterThan":
    case "DateGreaterThanEquals":
    case "DateLessThan":
    case "DateLessThanEquals": {
      const limits = values.map((x) => {
        const t = Date.parse(x);
        if (Number.isNaN(t)) throw new Error(`not a date: ${x.slice(0, 64)}`);
        return t;
      });
      const compare = {
        DateGreaterThan: (t: number, l: number) => t > l,
        DateGreaterThanEquals: (t: number, l: number) => t >= l,
        DateLessThan: (t: number, l: number) => t < l,
        DateLessThanEquals: (t: number, l: number) => t <= l,
      }[operator];
      return (v) => limits.some((l) => compare(Date.parse(v), l));
    }
    case "Null":
      throw new Error("Null is decided on presence, not values");
  }
}

/**
 * Compiles `{ <set>?<operator>: { key: values } }` into a test. Within a block every key must
 * hold; a key holds if any of its values matches. A key missing from the request fails positive
 * operators and satisfies negated ones; `ForAllValues` holds for an empty set, `ForAnyValue` does not.
 */
export function compileCondition(set: "ForAllValues" | "ForAnyValue" | undefined, operator: ConditionOperator, keys: Record<string, readonly string[]>): ConditionTest {
  const tests = Object.entries(keys).map(([key, values]): ConditionTest => {
    if (operator === "Null") {
      const wantAbsent = values.map((v) => v.toLowerCase());
      if (wantAbsent.some((v) => v !== "true" && v !== "false")) throw new Error(`Null takes "true" or "false" (${key})`);
      return (ctx) => wantAbsent.some((v) => (v === "true") === ((ctx(key)?.length ?? 0) === 0));
    }
    const matches = valueMatcher(operator, values);
    const negated = NEGATED.has(operator);
    return (ctx) => {
      const given = ctx(key) ?? [];
      if (set === "ForAllValues") return given.every((v) => matches(v) !== negated);
      if (set === "ForAnyValue") return given.some((v) => matches(v) !== negated);
      return negated ? !given.some(matches) : given.some(matches);
    };
  });
  return (ctx) => tests.every((t) => t(ctx));
}
