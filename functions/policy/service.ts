import { KmsError } from "../../shared/errors.js";
import type { EncryptionContext } from "../../shared/crypto/envelope.js";
import type { Principal, Role } from "../identity/principal.js";
import type { KeyDirectory } from "../keys/directory.js";
import type { KeyStore } from "../keys/store.js";
import type { KeyAction } from "./actions.js";
import type { Authorizer, Decision } from "./authorizer.js";
import { DEFAULT_POLICY_TEXT } from "./default-policy.js";
import { checkNewPolicy } from "./lockout.js";

export type SimulateInput = {
  principal?: { id: string; roles: Role[] } | undefined;
  action: KeyAction;
  keyId: string;
  encryptionContext?: EncryptionContext | undefined;
  sourceIp?: string | undefined;
  time?: string | undefined;
  requestTags?: Record<string, string> | undefined;
  tagKeys?: string[] | undefined;
  grantTokens?: string[] | undefined;
};

/** Key policies: read, replace (versioned, with AWS's lockout safety check), roll back; and simulate decisions. */
export class KeyPolicyService {
  constructor(
    private readonly keys: KeyDirectory,
    private readonly store: KeyStore,
    private readonly authorizer: Authorizer,
  ) {}

  async get(principal: Principal, keyId: string): Promise<{ policy: string; policyVersion: number }> {
    const key = await this.keys.authorized(principal, keyId, "kms:GetKeyPolicy");
    return { policy: await this.textOf(key.tenant, key.keyId, key.policyVersion), policyVersion: key.policyVersion ?? 0 };
  }

  /**
   * Replaces the key's policy with a new version. Refuses (MalformedPolicyDocumentException) a
   * policy that would stop the caller from changing it again, unless `bypassLockoutCheck`.
   */
  async put(principal: Principal, keyId: string, policy: string, bypassLockoutCheck = false): Promise<number> {
    const key = await this.keys.authorized(principal, keyId, "kms:PutKeyPolicy");
    checkNewPolicy(policy, principal, key, bypassLockoutCheck);
    const next = await this.keys.write(principal.tenant, key.keyId, (current) => {
      const version = (current.policyVersion ?? 0) + 1;
      const record = { ...current, policyVersion: version, revision: current.revision + 1 };
      return { record, put: () => this.store.putPolicy(record, { version, policy, createdAt: new Date(this.keys.now()).toISOString(), createdBy: principal.principalId }) };
    });
    return next.policyVersion ?? 0;
  }

  /** Every stored version, oldest first; version 0 is the default policy every key starts with. */
  async versions(principal: Principal, keyId: string) {
    const key = await this.keys.authorized(principal, keyId, "kms:GetKeyPolicy");
    const stored = await this.store.listPolicies(key.tenant, key.keyId);
    return { current: key.policyVersion ?? 0, versions: [{ version: 0, createdAt: key.createdAt, createdBy: "tether" }, ...stored.map(({ policy: _text, ...v }) => v)] };
  }

  /** Puts an earlier version back in force, as a new version (history is never rewritten). */
  async rollback(principal: Principal, keyId: string, version: number, bypassLockoutCheck = false): Promise<number> {
    const key = await this.keys.authorized(principal, keyId, "kms:PutKeyPolicy");
    if (version > (key.policyVersion ?? 0)) throw new KmsError("NotFoundException", `key ${key.keyId} has no policy version ${version}`);
    return this.put(principal, key.keyId, await this.textOf(key.tenant, key.keyId, version), bypassLockoutCheck);
  }

  /**
   * Would this principal be allowed this action on this key, with this context — and which
   * statement or grant decides. A tenant-level right (tenant admins, key admins, auditors): it
   * reads any key of the tenant, whatever the key's own policy says.
   */
  async simulate(caller: Principal, input: SimulateInput): Promise<Decision> {
    await this.authorizer.authorize(caller, "tether:SimulatePolicy", { tenant: caller.tenant });
    const key = await this.keys.read(caller.tenant, input.keyId);
    const at = input.time ? new Date(input.time) : undefined;
    const principal: Principal = {
      tenant: caller.tenant,
      principalId: input.principal?.id ?? caller.principalId,
      roles: input.principal?.roles ?? caller.roles,
      credentialId: "simulated",
      ...(input.sourceIp ? { sourceIp: input.sourceIp } : {}),
      ...(input.grantTokens ? { grantTokens: input.grantTokens } : {}),
    };
    return this.authorizer.decideKey({ principal, action: input.action, key, encryptionContext: input.encryptionContext, requestTags: input.requestTags, tagKeys: input.tagKeys, at });
  }

  private async textOf(tenant: string, keyId: string, version: number | undefined): Promise<string> {
    if (!version) return DEFAULT_POLICY_TEXT;
    const stored = await this.store.getPolicy(tenant, keyId, version);
    if (!stored) throw new KmsError("NotFoundException", `key ${keyId} has no policy version ${version}`);
    return stored.policy;
  }
}
