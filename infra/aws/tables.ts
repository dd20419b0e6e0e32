/// <reference path="../../.sst/platform/config.d.ts" />
import { MAIN_TABLE, TABLES, type TableDefinition } from "../tables";

/**
 * The DynamoDB tables on AWS, declared from the same definition infra/local creates in DynamoDB
 * Local (infra/tables.ts), so the two cannot drift. Typechecked against SST's generated platform
 * types by `npm run typecheck:infra` ([6/7]); nothing is deployed from this machine.
 */
export function createTables(): { main: sst.aws.Dynamo } {
  if (TABLES.length !== 1) throw new Error("infra/aws declares one table; declare the new ones here too");
  return { main: dynamo(MAIN_TABLE) };
}

function dynamo(t: TableDefinition): sst.aws.Dynamo {
  const keys = [t.partitionKey, t.sortKey, ...t.indexes.flatMap((i) => [i.partitionKey, i.sortKey])];
  return new sst.aws.Dynamo(`Table${t.name[0]?.toUpperCase()}${t.name.slice(1)}`, {
    fields: Object.fromEntries(keys.map((k) => [k, "string" as const])),
    primaryIndex: { hashKey: t.partitionKey, rangeKey: t.sortKey },
    globalIndexes: Object.fromEntries(t.indexes.map((i) => [i.name, { hashKey: i.partitionKey, rangeKey: i.sortKey }])),
    ttl: t.ttlAttribute,
  });
}
