import type { AuditRecord, AuditSink } from "./sink.js";

/** AuditSink in memory, for unit tests. */
export class MemoryAuditSink implements AuditSink {
  readonly records: AuditRecord[] = [];

  async write(record: AuditRecord): Promise<void> {
    this.records.push(record);
  }
}
