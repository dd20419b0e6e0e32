import { PutItemCommand, type DynamoDBClient } from "@aws-sdk/client-dynamodb";
import { marshall } from "@aws-sdk/util-dynamodb";
import type { AuditRecord, AuditSink } from "./sink.js";

/** Writes each record to the main table, partitioned by tenant and day. */
export class DynamoAuditSink implements AuditSink {
  constructor(
    private readonly db: DynamoDBClient,
    private readonly table: string,
  ) {}

  async write(record: AuditRecord): Promise<void> {
    const day = record.time.slice(0, 10);
    await this.db.send(
      new PutItemCommand({
        TableName: this.table,
        Item: marshall(
          { pk: `AUDIT#${record.tenant ?? "anonymous"}#${day}`, sk: `${record.time}#${record.requestId}`, ...record },
          { removeUndefinedValues: true },
        ),
        ConditionExpression: "attribute_not_exists(pk)",
      }),
    );
  }
}
