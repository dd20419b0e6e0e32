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

  async getConnector(connectorId: string) {
    return this.connectors.get(connectorId);
  }

  async putConnector(record: ConnectorRecord) {
    this.connectors.set(record.connectorId, record);
  }
}
