/** One audit record per request, allowed or denied. Never plaintext, key material or secrets. */
export type AuditRecord = {
  time: string;
  requestId: string;
  tenant: string | undefined;
  principalId: string | undefined;
  credentialId: string | undefined;
  action: string;
  keyId: string | undefined;
  /** "ok" or the error code. */
  result: string;
  status: number;
  sourceIp: string | undefined;
  durationMs: number;
};

/** Where audit records go; `write` resolves once the record is durable. */
export interface AuditSink {
  write(record: AuditRecord): Promise<void>;
}
