import { z } from "zod";
import { Role, TenantId } from "./principal.js";

export const ApiKeyRecord = z.object({
  id: z.string(),
  tenant: TenantId,
  principalId: z.string().min(1),
  roles: z.array(Role),
  salt: z.string(),
  hash: z.string(),
  params: z.string(),
  createdAt: z.string(),
});
export type ApiKeyRecord = z.infer<typeof ApiKeyRecord>;

export const ConnectorRecord = z.object({
  connectorId: z.string(),
  /** Ed25519 public key, SPKI DER, base64. */
  publicKey: z.string(),
  createdAt: z.string(),
});
export type ConnectorRecord = z.infer<typeof ConnectorRecord>;

/** Credentials: API keys and connector credentials. */
export interface IdentityStore {
  getApiKey(id: string): Promise<ApiKeyRecord | undefined>;
  /** Creates the record; fails if the id exists. */
  putApiKey(record: ApiKeyRecord): Promise<void>;
  /** The tenant's API keys (records hold only hashes). */
  listApiKeys(tenant: string): Promise<ApiKeyRecord[]>;
  /** Deletes the tenant's API key; NotFoundException if it has none by that id. */
  deleteApiKey(tenant: string, id: string): Promise<void>;
  getConnector(connectorId: string): Promise<ConnectorRecord | undefined>;
  /** Registers or replaces a connector's public key. */
  putConnector(record: ConnectorRecord): Promise<void>;
}
