import * as z from "zod";
import { WrappedRecord } from "../keys/model.js";
import { Role, TenantId } from "./principal.js";

export const PrincipalKind = z.enum(["user", "role", "service"]);

/** A user, role or service of a tenant; its roles apply to every credential it holds. */
export const PrincipalRecord = z.object({
  tenant: TenantId,
  principalId: z.string().min(1),
  kind: PrincipalKind,
  roles: z.array(Role),
  description: z.string(),
  createdAt: z.string(),
});
export type PrincipalRecord = z.infer<typeof PrincipalRecord>;

export const ApiKeyRecord = z.object({
  id: z.string(),
  tenant: TenantId,
  principalId: z.string().min(1),
  salt: z.string(),
  hash: z.string(),
  params: z.string(),
  createdAt: z.string(),
});
export type ApiKeyRecord = z.infer<typeof ApiKeyRecord>;

/** A SigV4 access key: its secret is kept wrapped by the HSM root key (SigV4 needs the secret itself, not a hash). */
export const AccessKeyRecord = z.object({
  accessKeyId: z.string(),
  tenant: TenantId,
  principalId: z.string().min(1),
  wrappedSecret: WrappedRecord,
  createdAt: z.string(),
  /** The SigV4 service it signs for: absent, the KMS API (`kms`); `kms-xks-proxy`, an XKS key store's door. */
  service: z.literal("kms-xks-proxy").optional(),
});
export type AccessKeyRecord = z.infer<typeof AccessKeyRecord>;

/** A session-token signing key: 32 bytes from the HSM RNG, wrapped by the HSM root key. */
export const TokenKeyRecord = z.object({ kid: z.string(), wrapped: WrappedRecord, createdAt: z.string() });
export type TokenKeyRecord = z.infer<typeof TokenKeyRecord>;

export const ConnectorRecord = z.object({
  connectorId: z.string(),
  /** Ed25519 public key, SPKI DER, base64. */
  publicKey: z.string(),
  createdAt: z.string(),
});
export type ConnectorRecord = z.infer<typeof ConnectorRecord>;

/** Principals and their credentials, connector credentials and session-token keys. */
export interface IdentityStore {
  getPrincipal(tenant: string, principalId: string): Promise<PrincipalRecord | undefined>;
  /** Creates the principal; AlreadyExistsException if the id is taken in the tenant. */
  createPrincipal(record: PrincipalRecord): Promise<void>;
  /** Replaces an existing principal; NotFoundException if there is none. */
  updatePrincipal(record: PrincipalRecord): Promise<void>;
  listPrincipals(tenant: string): Promise<PrincipalRecord[]>;
  deletePrincipal(tenant: string, principalId: string): Promise<void>;

  getApiKey(id: string): Promise<ApiKeyRecord | undefined>;
  /** Creates the record; fails if the id exists. */
  putApiKey(record: ApiKeyRecord): Promise<void>;
  /** The tenant's API keys (records hold only hashes). */
  listApiKeys(tenant: string): Promise<ApiKeyRecord[]>;
  /** Deletes the tenant's API key; NotFoundException if it has none by that id. */
  deleteApiKey(tenant: string, id: string): Promise<void>;

  getAccessKey(accessKeyId: string): Promise<AccessKeyRecord | undefined>;
  putAccessKey(record: AccessKeyRecord): Promise<void>;
  listAccessKeys(tenant: string): Promise<AccessKeyRecord[]>;
  deleteAccessKey(tenant: string, accessKeyId: string): Promise<void>;

  getTokenKey(kid: string): Promise<TokenKeyRecord | undefined>;
  /** Stores the key unless one with that kid exists; returns the stored one either way. */
  putTokenKey(record: TokenKeyRecord): Promise<TokenKeyRecord>;
  /** Deletes the signing keys of days before `kid` (tokens they signed have expired); returns their kids. */
  deleteTokenKeysBefore(kid: string): Promise<string[]>;

  getConnector(connectorId: string): Promise<ConnectorRecord | undefined>;
  /** Registers or replaces a connector's public key. */
  putConnector(record: ConnectorRecord): Promise<void>;
}
