import { PolicyAuthorizer } from "../../functions/policy/authorizer.js";
import { DEFAULT_POLICY } from "../../functions/policy/default-policy.js";
import { compilePolicy } from "../../functions/policy/evaluate.js";
import type { KeyRecord } from "../../functions/keys/model.js";

/**
 * The CPU cost of one key-policy decision on a cached key, in process: the default policy, and a
 * 20-statement policy with conditions (source IP, time window, encryption context, tags) whose
 * allowing statement comes last. Microseconds per decision.
 */
export async function benchPolicyCost(decisions = 200_000): Promise<Record<string, number>> {
  const keyId = "1234abcd-12ab-34cd-56ef-1234567890ab";
  const key: KeyRecord = {
    tenant: "111122223333",
    keyId,
    arn: `arn:aws:kms:us-east-1:111122223333:key/${keyId}`,
    description: "",
    spec: "SYMMETRIC_DEFAULT",
    usage: "ENCRYPT_DECRYPT",
    origin: "TETHER",
    state: "Enabled",
    createdAt: new Date().toISOString(),
    primaryVersion: 1,
    wrapEpoch: 0,
    tags: { env: "prod" },
    policyVersion: 1,
    revision: 0,
  };
  const principal = { tenant: key.tenant, principalId: "app", roles: ["keyUser"] as const, credentialId: "c", sourceIp: "10.1.2.3" };
  const filler = Array.from({ length: 19 }, (_, i) => ({
    Sid: `Other${i}`,
    Effect: "Allow",
    Principal: { Tether: `someone-${i}` },
    Action: ["kms:Encrypt", "kms:Decrypt"],
    Resource: "*",
    Condition: { IpAddress: { "aws:SourceIp": "192.168.0.0/16" }, StringEquals: { [`kms:EncryptionContext:k${i}`]: "v" } },
  }));
  const large = compilePolicy(
    JSON.stringify({
      Version: "2012-10-17",
      Statement: [
        ...filler,
        {
          Sid: "App",
          Effect: "Allow",
          Principal: { Tether: "app" },
          Action: "kms:*crypt",
          Resource: "*",
          Condition: { IpAddress: { "aws:SourceIp": ["10.0.0.0/8"] }, DateLessThan: { "aws:CurrentTime": "2100-01-01T00:00:00Z" }, StringEquals: { "kms:EncryptionContext:tenant": "t1", "aws:ResourceTag/env": "prod" } },
        },
      ],
    }),
  );
  const results: Record<string, number> = {};
  for (const [name, policy] of [["default policy", DEFAULT_POLICY], ["20 statements, conditions", large]] as const) {
    const authorizer = new PolicyAuthorizer(async () => policy, async () => undefined);
    const access = { principal, action: "kms:Encrypt" as const, key, encryptionContext: { tenant: "t1" } };
    if (!(await authorizer.decideKey(access)).allowed) throw new Error(`${name}: the benchmark request should be allowed`);
    for (let i = 0; i < 10_000; i++) await authorizer.decideKey(access);
    const started = performance.now();
    for (let i = 0; i < decisions; i++) await authorizer.decideKey(access);
    results[`policy µs/decision (${name})`] = Math.round(((performance.now() - started) * 1000 * 100) / decisions) / 100;
  }
  return results;
}
