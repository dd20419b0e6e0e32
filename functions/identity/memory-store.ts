import { KmsError } from "../../shared/errors.js";
import type { ApiKeyRecord, ConnectorRecord, IdentityStore } from "./store.js";

/** IdentityStore in memory, for unit tests. */
export class MemoryIdentityStore implements IdentityStore {
  readonly apiKeys = new Map<string, ApiKeyRecord>();
  readonly connectors = new Map<string, ConnectorRecord>();

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

  async getConnector(connectorId: string) {
    return this.connectors.get(connectorId);
  }

  async putConnector(record: ConnectorRecord) {
    this.connectors.set(record.connectorId, record);
  }
}
