import { createWriteStream, type WriteStream } from "node:fs";

/** One line per HSM call the connector made. Never key material, plaintext or PINs. */
export type HsmCallRecord = {
  time: string;
  op: string;
  slot?: string;
  label?: string;
  requestId: string;
  result: string;
  durationMs: number;
};

export interface HsmAudit {
  record(entry: HsmCallRecord): void;
  close(): Promise<void>;
}

/**
 * An append-only JSON-lines file (opened with O_APPEND, mode 0600). Lines recorded in the same
 * turn of the event loop go out in one write.
 */
export class FileHsmAudit implements HsmAudit {
  private readonly out: WriteStream;
  private pending: string[] = [];

  constructor(path: string) {
    this.out = createWriteStream(path, { flags: "a", mode: 0o600 });
  }

  record(entry: HsmCallRecord): void {
    if (this.pending.length === 0) setImmediate(() => this.flush());
    this.pending.push(`${JSON.stringify(entry)}\n`);
  }

  private flush(): void {
    if (this.pending.length === 0) return;
    this.out.write(this.pending.join(""));
    this.pending = [];
  }

  close(): Promise<void> {
    this.flush();
    return new Promise((resolve) => this.out.end(resolve));
  }
}

export const noAudit: HsmAudit = { record: () => undefined, close: async () => undefined };
