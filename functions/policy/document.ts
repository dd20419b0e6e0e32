import * as z from "zod";
import { globShape } from "../../shared/glob.js";

/** Key policies: AWS's JSON policy language, with Tether principals. At most 32 KiB, as AWS. */
export const MAX_POLICY_BYTES = 32 * 1024;

const list = <T extends z.ZodType<string>>(item: T) => z.union([item, z.array(item).min(1).max(100)]).transform((v) => (Array.isArray(v) ? v : [v]));

export const ConditionOperator = z.enum([
  "StringEquals",
  "StringNotEquals",
  "StringEqualsIgnoreCase",
  "StringLike",
  "StringNotLike",
  "IpAddress",
  "NotIpAddress",
  "DateGreaterThan",
  "DateGreaterThanEquals",
  "DateLessThan",
  "DateLessThanEquals",
  "Null",
]);
export type ConditionOperator = z.infer<typeof ConditionOperator>;

/** `ForAllValues:` / `ForAnyValue:` apply an operator to a multi-valued key (context keys, tag keys). */
const QualifiedOperator = z
  .string()
  .max(64)
  .transform((op, ctx) => {
    const [set, name] = op.includes(":") ? (op.split(":", 2) as [string, string]) : [undefined, op];
    const operator = ConditionOperator.safeParse(name);
    if ((set !== undefined && set !== "ForAllValues" && set !== "ForAnyValue") || !operator.success) {
      ctx.addIssue({ code: "custom", message: `unknown condition operator ${op.slice(0, 64)}` });
      return z.NEVER;
    }
    return { set: set as "ForAllValues" | "ForAnyValue" | undefined, operator: operator.data };
  });

/** The condition keys Tether knows; an unknown key is refused when the policy is stored, never ignored. */
export const CONDITION_KEY = /^(aws:SourceIp|aws:CurrentTime|aws:TagKeys|kms:EncryptionContextKeys|kms:CallerAccount|tether:PrincipalId|kms:EncryptionContext:.{1,128}|aws:RequestTag\/.{1,128}|aws:ResourceTag\/.{1,128}|xks:(?:AwsPrincipalArn|KmsOperation|KmsKeyArn|KmsViaService|AwsSourceVpc|AwsSourceVpce))$/;

const ConditionValues = list(z.string().max(2048));
const ConditionBlock = z.record(z.string().regex(CONDITION_KEY, "an unknown condition key"), ConditionValues);

export const Statement = z
  .object({
    Sid: z.string().regex(/^[A-Za-z0-9 ._-]{1,128}$/, "letters, digits, space, . _ -").optional(),
    Effect: z.enum(["Allow", "Deny"]),
    /** "*", or principals: Tether ids, `role:<role>`, or AWS-style `arn:aws:iam::<account>:root|user/<id>|role/<id>`. */
    Principal: z.union([z.literal("*"), z.object({ Tether: list(z.string().min(1).max(256)).optional(), AWS: list(z.string().min(1).max(256)).optional() }).strict()]),
    Action: list(z.string().regex(/^(\*|(kms|tether):[A-Za-z*]{1,64})$/, "kms:<Action> (wildcards allowed)")),
    Resource: list(z.string().min(1).max(2048)).default(["*"]),
    Condition: z
      .record(z.string().max(64), ConditionBlock)
      .transform((blocks, ctx) =>
        Object.entries(blocks).map(([op, keys]) => {
          const parsed = QualifiedOperator.safeParse(op);
          if (!parsed.success) ctx.addIssue({ code: "custom", message: parsed.error.issues[0]?.message ?? "bad operator" });
          return { ...(parsed.success ? parsed.data : { set: undefined, operator: "StringEquals" as const }), keys };
        }),
      )
      .optional(),
  })
  .strict();
export type Statement = z.output<typeof Statement>;

/**
 * Wildcard patterns other than a literal or a prefix (trailing `*`) are matched by an automaton
 * whose cost grows with the pattern: each has at most this many characters, a policy at most
 * MAX_GENERAL_PATTERNS of them (Resource, StringLike, StringNotLike), so deciding a request stays
 * within about a millisecond whatever the policy.
 */
export const MAX_GENERAL_PATTERN_LENGTH = 256;
export const MAX_GENERAL_PATTERNS = 64;
const LIKE: ReadonlySet<ConditionOperator> = new Set(["StringLike", "StringNotLike"]);

const patternsOf = (s: Statement): string[] => [...s.Resource, ...(s.Condition ?? []).filter((c) => LIKE.has(c.operator)).flatMap((c) => Object.values(c.keys).flat())];

export const PolicyDocument = z
  .object({
    Version: z.literal("2012-10-17"),
    Id: z.string().max(128).optional(),
    Statement: z.array(Statement).min(1).max(50),
  })
  .strict()
  .superRefine((doc, ctx) => {
    const general = doc.Statement.flatMap(patternsOf).filter((p) => globShape(p).shape === "general");
    if (general.some((p) => [...p].length > MAX_GENERAL_PATTERN_LENGTH))
      ctx.addIssue({ code: "custom", message: `a wildcard pattern (other than a trailing *) has at most ${MAX_GENERAL_PATTERN_LENGTH} characters` });
    if (general.length > MAX_GENERAL_PATTERNS) ctx.addIssue({ code: "custom", message: `a policy has at most ${MAX_GENERAL_PATTERNS} wildcard patterns other than a trailing * (it has ${general.length})` });
  });
export type PolicyDocument = z.output<typeof PolicyDocument>;
export type PolicyDocumentInput = z.input<typeof PolicyDocument>;
