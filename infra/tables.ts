/**
 * The DynamoDB tables, defined once: infra/local creates them in DynamoDB Local and infra/aws
 * declares them for AWS from this same definition, so the two schemas cannot drift.
 *
 * Single-table design for `main` (all keys are strings): keys and their versions, policies, grants
 * and usage (KEY#…), aliases, principals, credentials, tenants, OIDC issuers, connectors and the
 * audit chains. Each store's file documents its items (functions/ *-store.ts); README.md has the
 * whole table. gsi1 (gsi1pk, gsi1sk) serves listings; `expiresAt` (epoch seconds) is the TTL.
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
