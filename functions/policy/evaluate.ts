import { KmsError } from "../../shared/errors.js";
import { anyGlob, compileGlob } from "../../shared/glob.js";
import type { Role, XksFacts } from "../identity/principal.js";
import { rolesAllow } from "./actions.js";
import { compileCondition, type ConditionContext, type ConditionTest } from "./conditions.js";
import { MAX_POLICY_BYTES, PolicyDocument, type Statement } from "./document.js";

/** The facts a key policy is evaluated against. */
export type PolicyRequest = {
  principal: { tenant: string; principalId: string; roles: readonly Role[] };
  /** `kms:Encrypt`, `kms:PutKeyPolicy`, … */
  action: string;
  resourceArn: string;
  sourceIp?: string | undefined;
  now: Date;
  encryptionContext?: Readonly<Record<string, string>> | undefined;
  requestTags?: Readonly<Record<string, string>> | undefined;
  /** aws:TagKeys: the tag keys a TagResource sets or an UntagResource removes (default: requestTags' keys). */
  tagKeys?: readonly string[] | undefined;
  resourceTags: Readonly<Record<string, string>>;
  /** A call from AWS KMS to an XKS key store: its requestMetadata (the `xks:*` condition keys). */
  xks?: XksFacts | undefined;
};

/** Which statement decided: its Sid when it has one, always its position. */
export type DecidingStatement = { sid?: string; index: number };
export type PolicyDecision = { effect: "Allow" | "Deny"; statement: DecidingStatement } | { effect: "ImplicitDeny" };

type CompiledStatement = {
  statement: DecidingStatement;
  effect: "Allow" | "Deny";
  /** Whether the statement names this principal, for this action (the account root delegates per action). */
  principal: (p: PolicyRequest["principal"], action: string) => boolean;
  action: (action: string) => boolean;
  resource: (arn: string) => boolean;
  conditions: ConditionTest[];
};

/** A parsed, validated policy, ready to evaluate (compiled once per stored version). */
export type CompiledPolicy = { readonly text: string; readonly statements: readonly CompiledStatement[] };

const malformed = (why: string) => new KmsError("MalformedPolicyDocumentException", `malformed policy: ${why}`);

function principalMatcher(p: Statement["Principal"], effect: Statement["Effect"]): CompiledStatement["principal"] {
  if (p === "*") return () => true;
  const tests: CompiledStatement["principal"][] = [];
  for (const entry of p.Tether ?? []) {
    if (entry === "*") tests.push(() => true);
    else if (entry.startsWith("role:")) tests.push((x) => x.roles.includes(entry.slice(5) as Role));
    else tests.push((x) => x.principalId === entry);
  }
  for (const entry of p.AWS ?? []) {
    const arn = /^arn:aws:iam::(\d{12}):(root|(?:user|role)\/(.+))$/.exec(entry);
    if (entry === "*") tests.push(() => true);
    else if (!arn) throw malformed(`unknown principal ${entry.slice(0, 64)}`);
    // As in AWS, the account root in an Allow grants nothing by itself: it lets the account's
    // identity policies decide, which in Tether are the caller's roles. In a Deny it is everyone
    // of the account.
    else if (arn[2] === "root") tests.push(effect === "Allow" ? (x, action) => x.tenant === arn[1] && rolesAllow(x.roles, action) : (x) => x.tenant === arn[1]);
    else tests.push((x) => x.tenant === arn[1] && x.principalId === arn[3]);
  }
  return (x, action) => tests.some((t) => t(x, action));
}

/** Parses and compiles a policy; anything invalid is MalformedPolicyDocumentException, nothing is ignored. */
export function compilePolicy(text: string): CompiledPolicy {
  if (Buffer.byteLength(text) > MAX_POLICY_BYTES) throw malformed(`larger than ${MAX_POLICY_BYTES} bytes`);
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    throw malformed("not JSON");
  }
  const parsed = PolicyDocument.safeParse(json);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    throw malformed(`${issue?.path.join(".") || "policy"}: ${issue?.message ?? "invalid"}`);
  }
  const statements = parsed.data.Statement.map((s, index): CompiledStatement => {
    const actions = s.Action.map((a) => compileGlob(a, { ignoreCase: true }));
    const resources = s.Resource.map((r) => compileGlob(r));
    let conditions: ConditionTest[];
    try {
      conditions = (s.Condition ?? []).map((c) => compileCondition(c.set, c.operator, c.keys));
    } catch (err) {
      throw malformed(`Statement.${index}.Condition: ${err instanceof Error ? err.message : String(err)}`);
    }
    return {
      statement: { ...(s.Sid ? { sid: s.Sid } : {}), index },
      effect: s.Effect,
      principal: principalMatcher(s.Principal, s.Effect),
      action: (action) => anyGlob(actions, action),
      resource: (arn) => anyGlob(resources, arn),
      conditions,
    };
  });
  return { text, statements };
}

/** The condition keys a request offers (see document.ts CONDITION_KEY). */
export function conditionContext(r: PolicyRequest): ConditionContext {
  return (key) => {
    const one = (v: string | undefined) => (v === undefined ? undefined : [v]);
    if (key === "aws:SourceIp") return one(r.sourceIp);
    if (key === "aws:CurrentTime") return [r.now.toISOString()];
    if (key === "kms:CallerAccount") return [r.principal.tenant];
    if (key === "tether:PrincipalId") return [r.principal.principalId];
    if (key === "kms:EncryptionContextKeys") return Object.keys(r.encryptionContext ?? {});
    if (key === "aws:TagKeys") return r.tagKeys ?? Object.keys(r.requestTags ?? {});
    if (key.startsWith("kms:EncryptionContext:")) return one(r.encryptionContext?.[key.slice("kms:EncryptionContext:".length)]);
    if (key.startsWith("aws:RequestTag/")) return one(r.requestTags?.[key.slice("aws:RequestTag/".length)]);
    if (key.startsWith("aws:ResourceTag/")) return one(r.resourceTags[key.slice("aws:ResourceTag/".length)]);
    if (key.startsWith("xks:")) return one(r.xks?.[key.slice("xks:".length) as keyof XksFacts]);
    return undefined;
  };
}

/** Whether some Allow statement names this principal, action and resource, whatever its conditions, and no unconditional Deny does. */
export function allowsAtAll(policy: CompiledPolicy, request: Pick<PolicyRequest, "principal" | "action" | "resourceArn">): boolean {
  const names = (s: CompiledStatement) => s.principal(request.principal, request.action) && s.action(request.action) && s.resource(request.resourceArn);
  if (policy.statements.some((s) => s.effect === "Deny" && s.conditions.length === 0 && names(s))) return false;
  return policy.statements.some((s) => s.effect === "Allow" && names(s));
}

/** AWS's rule: an explicit Deny wins; otherwise an Allow allows; otherwise denied by default. */
export function evaluatePolicy(policy: CompiledPolicy, request: PolicyRequest): PolicyDecision {
  const ctx = conditionContext(request);
  let allow: DecidingStatement | undefined;
  for (const s of policy.statements) {
    if (s.effect === "Allow" && allow) continue;
    if (!s.principal(request.principal, request.action) || !s.action(request.action) || !s.resource(request.resourceArn) || !s.conditions.every((c) => c(ctx))) continue;
    if (s.effect === "Deny") return { effect: "Deny", statement: s.statement };
    allow = s.statement;
  }
  return allow ? { effect: "Allow", statement: allow } : { effect: "ImplicitDeny" };
}
