import { describe, expect, it } from "vitest";
import { isKmsError } from "../../shared/errors.js";
import { compilePolicy, evaluatePolicy, type PolicyRequest } from "./evaluate.js";

const ARN = "arn:aws:kms:us-east-1:111122223333:key/1234abcd-12ab-34cd-56ef-1234567890ab";
const request = (o: Partial<PolicyRequest> = {}): PolicyRequest => ({
  principal: { tenant: "111122223333", principalId: "alice", roles: ["keyUser"] },
  action: "kms:Encrypt",
  resourceArn: ARN,
  now: new Date("2026-11-22T12:00:00Z"),
  resourceTags: {},
  ...o,
});
const policy = (...Statement: unknown[]) => compilePolicy(JSON.stringify({ Version: "2012-10-17", Statement }));
const allow = (Condition?: unknown, extra: object = {}) => ({ Sid: "Use", Effect: "Allow", Principal: { Tether: "alice" }, Action: "kms:Encrypt", Resource: "*", ...(Condition ? { Condition } : {}), ...extra });
const effect = (p: ReturnType<typeof policy>, r: Partial<PolicyRequest> = {}) => evaluatePolicy(p, request(r)).effect;

describe("key policy evaluation", () => {
  it("allows what a statement allows, and nothing else (default deny)", () => {
    const p = policy(allow());
    expect(evaluatePolicy(p, request())).toEqual({ effect: "Allow", statement: { sid: "Use", index: 0 } });
    expect(effect(p, { action: "kms:Decrypt" })).toBe("ImplicitDeny");
    expect(effect(p, { principal: { tenant: "111122223333", principalId: "bob", roles: ["keyUser"] } })).toBe("ImplicitDeny");
  });

  it("an explicit Deny beats any Allow, wherever it stands", () => {
    const deny = { Sid: "NoEncrypt", Effect: "Deny", Principal: "*", Action: "kms:*", Resource: "*" };
    expect(evaluatePolicy(policy(allow(), deny), request())).toEqual({ effect: "Deny", statement: { sid: "NoEncrypt", index: 1 } });
    expect(effect(policy(deny, allow()))).toBe("Deny");
  });

  it("matches principals by id, role, account root and wildcard; actions by wildcard, case-insensitively", () => {
    const by = (Principal: unknown, Action: unknown = "kms:Encrypt") => effect(policy({ Effect: "Allow", Principal, Action, Resource: "*" }));
    expect(by({ Tether: "role:keyUser" })).toBe("Allow");
    expect(by({ Tether: "role:keyAdmin" })).toBe("ImplicitDeny");
    expect(by({ AWS: "arn:aws:iam::111122223333:root" })).toBe("Allow");
    expect(by({ AWS: "arn:aws:iam::444455556666:root" })).toBe("ImplicitDeny");
    expect(by({ AWS: "arn:aws:iam::111122223333:user/alice" })).toBe("Allow");
    expect(by("*", "kms:*")).toBe("Allow");
    expect(by("*", "kms:Enc*")).toBe("Allow");
    expect(by("*", "kms:encrypt")).toBe("Allow");
    expect(by("*", ["kms:Decrypt", "kms:Describe*"])).toBe("ImplicitDeny");
  });

  it("aws:SourceIp: IpAddress and NotIpAddress, IPv4 and IPv6 CIDRs", () => {
    const only = policy(allow({ IpAddress: { "aws:SourceIp": ["10.0.0.0/8", "2001:db8::/32"] } }));
    expect(effect(only, { sourceIp: "10.1.2.3" })).toBe("Allow");
    expect(effect(only, { sourceIp: "2001:db8::1" })).toBe("Allow");
    expect(effect(only, { sourceIp: "192.168.0.1" })).toBe("ImplicitDeny");
    expect(effect(only)).toBe("ImplicitDeny");
    const not = policy(allow({ NotIpAddress: { "aws:SourceIp": "10.0.0.0/8" } }));
    expect(effect(not, { sourceIp: "10.1.2.3" })).toBe("ImplicitDeny");
    expect(effect(not, { sourceIp: "192.168.0.1" })).toBe("Allow");
  });

  it("aws:CurrentTime: a time window", () => {
    const window = policy(allow({ DateGreaterThan: { "aws:CurrentTime": "2026-11-22T09:00:00Z" }, DateLessThan: { "aws:CurrentTime": "2026-11-22T17:00:00Z" } }));
    expect(effect(window)).toBe("Allow");
    expect(effect(window, { now: new Date("2026-11-22T18:00:00Z") })).toBe("ImplicitDeny");
    expect(effect(window, { now: new Date("2026-11-22T08:59:59Z") })).toBe("ImplicitDeny");
  });

  it("encryption context: equals a value, has keys (ForAllValues / ForAnyValue)", () => {
    const equals = policy(allow({ StringEquals: { "kms:EncryptionContext:dept": "finance" } }));
    expect(effect(equals, { encryptionContext: { dept: "finance", x: "1" } })).toBe("Allow");
    expect(effect(equals, { encryptionContext: { dept: "sales" } })).toBe("ImplicitDeny");
    expect(effect(equals)).toBe("ImplicitDeny");
    const onlyKnownKeys = policy(allow({ "ForAllValues:StringEquals": { "kms:EncryptionContextKeys": ["dept", "app"] } }));
    expect(effect(onlyKnownKeys, { encryptionContext: { dept: "a" } })).toBe("Allow");
    expect(effect(onlyKnownKeys, { encryptionContext: { dept: "a", other: "b" } })).toBe("ImplicitDeny");
    const needsKey = policy(allow({ "ForAnyValue:StringEquals": { "kms:EncryptionContextKeys": "tenant" } }));
    expect(effect(needsKey, { encryptionContext: { tenant: "t1" } })).toBe("Allow");
    expect(effect(needsKey, { encryptionContext: {} })).toBe("ImplicitDeny");
    const like = policy(allow({ StringLike: { "kms:EncryptionContext:path": "s3://bucket/*" } }));
    expect(effect(like, { encryptionContext: { path: "s3://bucket/a/b" } })).toBe("Allow");
    expect(effect(like, { encryptionContext: { path: "s3://other/a" } })).toBe("ImplicitDeny");
  });

  it("request tags and resource tags, and Null", () => {
    const resource = policy(allow({ StringEquals: { "aws:ResourceTag/env": "prod" } }));
    expect(effect(resource, { resourceTags: { env: "prod" } })).toBe("Allow");
    expect(effect(resource, { resourceTags: { env: "dev" } })).toBe("ImplicitDeny");
    const requested = policy(allow({ StringEquals: { "aws:RequestTag/owner": "alice" }, "ForAllValues:StringEquals": { "aws:TagKeys": ["owner"] } }, { Action: "kms:TagResource" }));
    expect(effect(requested, { action: "kms:TagResource", requestTags: { owner: "alice" } })).toBe("Allow");
    expect(effect(requested, { action: "kms:TagResource", requestTags: { owner: "alice", extra: "x" } })).toBe("ImplicitDeny");
    const noContext = policy(allow({ Null: { "kms:EncryptionContextKeys": "true" } }));
    expect(effect(noContext)).toBe("Allow");
    expect(effect(noContext, { encryptionContext: { a: "b" } })).toBe("ImplicitDeny");
  });

  it("StringNotEquals holds when the key is absent (as AWS)", () => {
    const p = policy(allow({ StringNotEquals: { "kms:EncryptionContext:dept": "hr" } }));
    expect(effect(p)).toBe("Allow");
    expect(effect(p, { encryptionContext: { dept: "hr" } })).toBe("ImplicitDeny");
  });

  it.each([
    ["not JSON", "{"],
    ["wrong version", JSON.stringify({ Version: "2008-10-17", Statement: [allow()] })],
    ["unknown operator", JSON.stringify({ Version: "2012-10-17", Statement: [allow({ StringSortOf: { "aws:SourceIp": "x" } })] })],
    ["unknown condition key", JSON.stringify({ Version: "2012-10-17", Statement: [allow({ StringEquals: { "aws:Whatever": "x" } })] })],
    ["bad CIDR", JSON.stringify({ Version: "2012-10-17", Statement: [allow({ IpAddress: { "aws:SourceIp": "10.0.0.0/33" } })] })],
    ["bad date", JSON.stringify({ Version: "2012-10-17", Statement: [allow({ DateLessThan: { "aws:CurrentTime": "tomorrow" } })] })],
    ["unknown field", JSON.stringify({ Version: "2012-10-17", Statement: [{ ...allow(), NotAction: "kms:Encrypt" }] })],
    ["bad principal", JSON.stringify({ Version: "2012-10-17", Statement: [{ ...allow(), Principal: { AWS: "arn:aws:iam::bad" } }] })],
    ["too large", JSON.stringify({ Version: "2012-10-17", Id: "x", Statement: Array.from({ length: 50 }, () => ({ ...allow(), Sid: "s".repeat(128), Action: Array(100).fill("kms:Encrypt") })) })],
  ])("refuses a policy with %s: MalformedPolicyDocumentException", (_, text) => {
    let error: unknown;
    try {
      compilePolicy(text);
    } catch (err) {
      error = err;
    }
    expect(isKmsError(error, "MalformedPolicyDocumentException")).toBe(true);
  });
});
