/**
 * The DynamoDB tables, defined once: infra/local creates them in DynamoDB Local and infra/aws
 * declares them for AWS from this same definition, so the two schemas cannot drift.
 *
 * Single-table design for `main` (all keys are strings):
 *   pk                         sk                 item
 *   CRED#<apiKeyId>            CRED               API key: tenant, principal, roles, scrypt hash
 *   CONNECTOR#<connectorId>    CONNECTOR          connector credential: Ed25519 public key (SPKI)
 *   AUDIT#<tenant>#<day>       <time>#<requestId> audit record
 * gsi1 (gsi1pk, gsi1sk) serves listings by tenant; `expiresAt` (epoch seconds) is the TTL.
 */
export type TableDefinition = {
  /** Logical name; the physical name is `<prefix>-<name>`. */
  name: string;
  partitionKey: string;
  sortKey: string;
  indexes: { name: string; partitionKey: string; sortKey: string }[];
  ttlAttribute: string;
};

export const MAIN_TABLE: TableDefinition = {
  name: "main",
  partitionKey: "pk",
  sortKey: "sk",
  indexes: [{ name: "gsi1", partitionKey: "gsi1pk", sortKey: "gsi1sk" }],
  ttlAttribute: "expiresAt",
};

export const TABLES: readonly TableDefinition[] = [MAIN_TABLE];

export const physicalTableName = (prefix: string, table: TableDefinition): string => `${prefix}-${table.name}`;
