import { KmsError } from "../../shared/errors.js";
import type { AccessKeyRecord, ApiKeyRecord, ConnectorRecord, IdentityStore, PrincipalRecord, TokenKeyRecord } from "./store.js";

/** IdentityStore in memory, for unit tests. */
export class MemoryIdentityStore implements IdentityStore {
  readonly principals = new Map<string, PrincipalRecord>();
  readonly apiKeys = new Map<string, ApiKeyRecord>();
  readonly accessKeys = new Map<string, AccessKeyRecord>();
  readonly tokenKeys = new Map<string, TokenKeyRecord>();
  readonly connectors = new Map<string, ConnectorRecord>();

  async getPrincipal(tenant: string, principalId: string) {
    return this.principals.get(`${tenant}/${principalId}`);
  }

  async createPrincipal(record: PrincipalRecord) {
    const id = `${record.tenant}/${record.principalId}`;
    if (this.principals.has(id)) throw new KmsError("AlreadyExistsException", `principal ${record.principalId} exists`);
    this.principals.set(id, record);
  }

  async updatePrincipal(record: PrincipalRecord) {
    const id = `${record.tenant}/${record.principalId}`;
    if (!this.principals.has(id)) throw new KmsError("NotFoundException", `principal ${record.principalId} does not exist`);
    this.principals.set(id, record);
  }

  async listPrincipals(tenant: string) {
    return [...this.principals.values()].filter((p) => p.tenant === tenant);
  }

  async deletePrincipal(tenant: string, principalId: string) {
    if (!this.principals.delete(`${tenant}/${principalId}`)) throw new KmsError("NotFoundException", `principal ${principalId} does not exist`);
  }

  async getApiKey(id: string) {
    return this.apiKeys.get(id);
  }

  async putApiKey(record: ApiKeyRecord) {
    if (this.apiKeys.has(record.id)) throw new KmsError("KMSInvalidStateException", "that API key id exists");
    this.apiKeys.set(record.id, record);
  }

  async listApiKeys(tenant: string) {
    return [...this.apiKeys.values()].filter((k) => k.tenant === tenant);
  }

  async deleteApiKey(tenant: string, id: string) {
    if (this.apiKeys.get(id)?.tenant !== tenant) throw new KmsError("NotFoundException", `API key ${id} does not exist`);
    this.apiKeys.delete(id);
  }

  async getAccessKey(accessKeyId: string) {
    return this.accessKeys.get(accessKeyId);
  }

  async putAccessKey(record: AccessKeyRecord) {
    if (this.accessKeys.has(record.accessKeyId)) throw new KmsError("KMSInvalidStateException", "that access key id exists");
    this.accessKeys.set(record.accessKeyId, record);
  }

  async listAccessKeys(tenant: string) {
    return [...this.accessKeys.values()].filter((k) => k.tenant === tenant);
  }

  async deleteAccessKey(tenant: string, accessKeyId: string) {
    if (this.accessKeys.get(accessKeyId)?.tenant !== tenant) throw new KmsError("NotFoundException", `access key ${accessKeyId} does not exist`);
    this.accessKeys.delete(accessKeyId);
  }

  async getTokenKey(kid: string) {
    return this.tokenKeys.get(kid);
  }

  async deleteTokenKeysBefore(kid: string) {
    const old = [...this.tokenKeys.keys()].filter((k) => k < kid);
    for (const k of old) this.tokenKeys.delete(k);
    return old;
  }

  async putTokenKey(record: TokenKeyRecord) {
    const existing = this.tokenKeys.get(record.kid);
    if (existing) return existing;
    this.tokenKeys.set(record.kid, record);
    return record;
  }

  async getConnector(connectorId: string) {
    return this.connectors.get(connectorId);
  }

  async putConnector(record: ConnectorRecord) {
    this.connectors.set(record.connectorId, record);
  }
}
