import { KmsError } from "../../shared/errors.js";
import type { AuditSink } from "./writer.js";

/** A change Tether makes by itself (a scheduled destruction, an automatic rotation), for the audit trail. */
export type SystemChange = { tenant: string; action: string; keyId: string; requestId: string };

/**
 * Records changes Tether makes on its own as requests record theirs: an intent, durable before
 * the change, then the outcome. The principal is `tether:system`; the request id is that of the
 * request (or sweep) during which the change was due.
 */
export class SystemChanges {
  constructor(private readonly sink: AuditSink) {}

  async record<T>(change: SystemChange, apply: () => Promise<T>): Promise<T> {
    const base = { ...change, principalId: "tether:system", time: new Date().toISOString() };
    await this.sink.write({ ...base, phase: "intent", result: "pending", status: 0, durationMs: 0 });
    const started = performance.now();
    const ms = () => Math.round((performance.now() - started) * 100) / 100;
    let out: T;
    try {
      out = await apply();
    } catch (err) {
      await this.sink.write({ ...base, time: new Date().toISOString(), result: err instanceof KmsError ? err.code : "KMSInternalException", status: 0, durationMs: ms() });
      throw err;
    }
    await this.sink.write({ ...base, time: new Date().toISOString(), result: "ok", status: 0, durationMs: ms() });
    return out;
  }
}
