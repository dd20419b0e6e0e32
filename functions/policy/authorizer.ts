import { boundedLru } from "../lru.js";
import { KmsError } from "../../shared/errors.js";
import type { EncryptionContext } from "../../shared/crypto/envelope.js";
import type { GrantRecord } from "../grants/store.js";
import type { Principal, Role } from "../identity/principal.js";
import type { KeyRecord } from "../keys/model.js";
import { KEY_ACTIONS, TENANT_ACTIONS, type Action, type KeyAction } from "./actions.js";
import { DEFAULT_POLICY } from "./default-policy.js";
import { allowsAtAll, compilePolicy, evaluatePolicy, type CompiledPolicy, type DecidingStatement } from "./evaluate.js";

export type { Action, KeyAction, TenantAction } from "./actions.js";

/** A request to do something with one key, with the facts its policy and grants may test. */
export type KeyAccess = {
  principal: Principal;
  action: KeyAction;
  key: KeyRecord;
  encryptionContext?: EncryptionContext | undefined;
  requestTags?: Record<string, string> | undefined;
  /** The tag keys an UntagResource removes (aws:TagKeys). */
  tagKeys?: readonly string[] | undefined;
  /** Evaluate as of this instant (simulate); default: now. */
  at?: Date | undefined;
};

export type DecidedBy = ({ kind: "policy"; effect: "Allow" | "Deny" } & DecidingStatement) | { kind: "grant"; grantId: string } | { kind: "implicit" };
export type Decision = { allowed: boolean; decidedBy: DecidedBy; policyVersion: number };

/** Decides whether a principal may do something; throws AccessDeniedException. */
export interface Authorizer {
  /**
   * By the caller's roles: actions on the tenant as a whole (create keys, list, admin), and on
   * HSM-resident keys, which have no key policy (the roles the default policy gives).
   */
  authorize(principal: Principal, action: Action, resource: { tenant: string }): Promise<void>;
  /** Actions on one key: by its key policy, then its grants; an explicit Deny wins. */
  authorizeKey(access: KeyAccess): Promise<Decision>;
  /** The same decision without throwing (for simulate). */
  decideKey(access: KeyAccess): Promise<Decision>;
  /**
   * Whether the key's policy allows the principal this action at all, whatever the conditions
   * (or a grant does): a use the key has for the principal, though a condition may refuse it.
   */
  allowsAtAll(access: Pick<KeyAccess, "principal" | "action" | "key">): Promise<boolean>;
}

/** Where key policies come from: a key's stored policy version, compiled once (versions are immutable). */
export type PolicySource = (key: KeyRecord) => Promise<CompiledPolicy>;

/** The grant on this key that lets this principal do this, if any (see grants/index.ts). */
export type GrantFinder = (access: KeyAccess) => Promise<GrantRecord | undefined>;

const denied = (principal: Principal, action: string) => new KmsError("AccessDeniedException", `${principal.principalId} is not allowed to perform ${action}`);

/** Key policies and grants for key actions; roles for tenant actions. Another tenant's resources do not exist for the caller. */
export class PolicyAuthorizer implements Authorizer {
  constructor(
    private readonly policyOf: PolicySource,
    private readonly grantFor: GrantFinder,
    private readonly now: () => number = Date.now,
  ) {}

  async authorize(principal: Principal, action: Action, resource: { tenant: string }): Promise<void> {
    if (resource.tenant !== principal.tenant) throw new KmsError("NotFoundException", "not found");
    const allowed: readonly Role[] = action in TENANT_ACTIONS ? TENANT_ACTIONS[action as keyof typeof TENANT_ACTIONS] : KEY_ACTIONS[action as KeyAction];
    if (!principal.roles.some((r) => allowed.includes(r))) throw denied(principal, action);
  }

  async authorizeKey(access: KeyAccess): Promise<Decision> {
    const decision = await this.decideKey(access);
    if (!decision.allowed) throw denied(access.principal, access.action);
    return decision;
  }

  async allowsAtAll(access: Pick<KeyAccess, "principal" | "action" | "key">): Promise<boolean> {
    const { principal, action, key } = access;
    if (key.tenant !== principal.tenant) return false;
    return allowsAtAll(await this.policyOf(key), { principal, action, resourceArn: key.arn }) || (await this.grantFor(access)) !== undefined;
  }

  async decideKey(access: KeyAccess): Promise<Decision> {
    const { principal, key } = access;
    if (key.tenant !== principal.tenant) throw new KmsError("NotFoundException", `key ${key.keyId} does not exist`);
    const policyVersion = key.policyVersion ?? 0;
    const byPolicy = evaluatePolicy(await this.policyOf(key), {
      principal,
      action: access.action,
      resourceArn: key.arn,
      sourceIp: principal.sourceIp,
      now: access.at ?? new Date(this.now()),
      encryptionContext: access.encryptionContext,
      requestTags: access.requestTags,
      tagKeys: access.tagKeys,
      resourceTags: key.tags,
      xks: principal.xks,
    });
    if (byPolicy.effect !== "ImplicitDeny") return { allowed: byPolicy.effect === "Allow", decidedBy: { kind: "policy", effect: byPolicy.effect, ...byPolicy.statement }, policyVersion };
    const grant = await this.grantFor(access);
    return grant ? { allowed: true, decidedBy: { kind: "grant", grantId: grant.grantId }, policyVersion } : { allowed: false, decidedBy: { kind: "implicit" }, policyVersion };
  }
}

/** Stored policies, compiled once per (tenant, key, version); keys without one get the default policy. */
export function storedPolicies(load: (tenant: string, keyId: string, version: number) => Promise<{ policy: string } | undefined>, max = 10_000): PolicySource {
  const compiled = boundedLru<string, CompiledPolicy>({ max });
  return async (key) => {
    if (!key.policyVersion) return DEFAULT_POLICY;
    const id = `${key.tenant}/${key.keyId}/${key.policyVersion}`;
    const hit = compiled.get(id);
    if (hit) return hit;
    const stored = await load(key.tenant, key.keyId, key.policyVersion);
    if (!stored) throw new KmsError("KMSInternalException", `policy version ${key.policyVersion} of key ${key.keyId} is missing`);
    const policy = compilePolicy(stored.policy);
    compiled.set(id, policy);
    return policy;
  };
}
