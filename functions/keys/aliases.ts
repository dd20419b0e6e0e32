import { KmsError } from "../../shared/errors.js";
import type { Principal } from "../identity/principal.js";
import type { Authorizer } from "../policy/authorizer.js";
import { ALIAS_NAME, type KeyDirectory } from "./directory.js";
import type { AliasRecord, KeyStore } from "./store.js";

/** Aliases (`alias/...`): a tenant's names for its keys, authorized on the keys they name, as AWS KMS does. */
export class AliasService {
  constructor(
    private readonly directory: KeyDirectory,
    private readonly store: KeyStore,
    private readonly authorizer: Authorizer,
  ) {}

  async create(principal: Principal, aliasName: string, targetKeyId: string): Promise<AliasRecord> {
    checkAliasName(aliasName);
    const key = await this.directory.authorized(principal, targetKeyId, "kms:CreateAlias");
    const alias: AliasRecord = { tenant: principal.tenant, aliasName, keyId: key.keyId, createdAt: new Date(this.directory.now()).toISOString() };
    await this.store.createAlias(alias);
    return alias;
  }

  /** As AWS: kms:UpdateAlias on the key the alias names now AND on the new key; the write happens only if the alias still names the key checked. */
  async update(principal: Principal, aliasName: string, targetKeyId: string): Promise<AliasRecord> {
    const current = await this.existing(principal, aliasName);
    await this.directory.authorized(principal, current.keyId, "kms:UpdateAlias");
    const key = await this.directory.authorized(principal, targetKeyId, "kms:UpdateAlias");
    const alias: AliasRecord = { ...current, keyId: key.keyId, updatedAt: new Date(this.directory.now()).toISOString() };
    await this.store.updateAlias(alias, current.keyId);
    this.directory.forgetAlias(principal.tenant, aliasName);
    return alias;
  }

  /** As AWS: kms:DeleteAlias on the key the alias names. */
  async delete(principal: Principal, aliasName: string): Promise<void> {
    const current = await this.existing(principal, aliasName);
    await this.directory.authorized(principal, current.keyId, "kms:DeleteAlias");
    await this.store.deleteAlias(principal.tenant, aliasName, current.keyId);
    this.directory.forgetAlias(principal.tenant, aliasName);
  }

  async list(principal: Principal, keyId?: string): Promise<AliasRecord[]> {
    await this.authorizer.authorize(principal, "kms:ListAliases", { tenant: principal.tenant });
    const all = await this.store.listAliases(principal.tenant);
    if (!keyId) return all;
    const target = await this.directory.resolve(principal.tenant, keyId);
    return all.filter((a) => a.keyId === target);
  }

  private async existing(principal: Principal, aliasName: string): Promise<AliasRecord> {
    checkAliasName(aliasName);
    const alias = await this.store.getAlias(principal.tenant, aliasName);
    if (!alias) throw new KmsError("NotFoundException", `alias ${aliasName} does not exist`);
    return alias;
  }
}

function checkAliasName(name: string): void {
  if (!ALIAS_NAME.test(name)) throw new KmsError("ValidationException", "an alias name is alias/ followed by letters, digits, / _ or -");
  if (name.startsWith("alias/aws/")) throw new KmsError("ValidationException", "alias/aws/ is reserved");
}
