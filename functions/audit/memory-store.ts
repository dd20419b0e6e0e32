import type { AuditRecord, Checkpoint } from "./record.js";
import type { AuditQuery, AuditStore, RegisteredChain } from "./store.js";

/** AuditStore in memory, for unit tests; `records` is every record in write order. */
export class MemoryAuditStore implements AuditStore {
  readonly records: AuditRecord[] = [];
  readonly checkpointList: Checkpoint[] = [];
  private readonly registry = new Map<string, Map<string, RegisteredChain>>();
  /**
   * A database outage for the next appends: "refuse" fails them; "lose-answer" writes them, then
   * fails (the answer lost to a timeout); "hang" never answers (a paused database).
   */
  failing: false | "refuse" | "lose-answer" | "hang" = false;

  async append(records: readonly AuditRecord[], newChains: readonly { tenant: string; writer: string; createdAt: string }[]) {
    if (this.failing === "refuse") throw new Error("the store is down");
    if (this.failing === "hang") return new Promise<void>(() => undefined);
    for (const c of newChains) this.registry.set(c.tenant, (this.registry.get(c.tenant) ?? new Map()).set(c.writer, { writer: c.writer }));
    const taken = records.find((r) => this.records.some((t) => t.tenant === r.tenant && t.writer === r.writer && t.seq === r.seq));
    if (taken) throw new Error(`audit segment for ${taken.writer}/${taken.seq} exists with other records`);
    this.records.push(...records);
    if (this.failing === "lose-answer") throw new Error("no answer in time");
  }

  async lastCheckpoint(tenant: string) {
    return (await this.checkpoints(tenant)).at(-1);
  }

  async putCheckpoint(checkpoint: Checkpoint) {
    if (this.checkpointList.some((c) => c.tenant === checkpoint.tenant && c.n === checkpoint.n)) return false;
    this.checkpointList.push(checkpoint);
    return true;
  }

  async chains(tenant: string) {
    return [...(this.registry.get(tenant)?.values() ?? [])].map((c) => ({ ...c }));
  }

  async chain(tenant: string, writer: string) {
    return this.records.filter((r) => r.tenant === tenant && r.writer === writer).sort((a, b) => a.seq - b.seq);
  }

  async chainFrom(tenant: string, writer: string, seq: number) {
    return this.records.filter((r) => r.tenant === tenant && r.writer === writer && r.seq >= seq).sort((a, b) => a.seq - b.seq);
  }

  async markSigned(c: Checkpoint) {
    const entry = this.registry.get(c.tenant)?.get(c.writer);
    const signedSeq = this.checkpointList.find((s) => s.tenant === c.tenant && s.n === entry?.signedN)?.seq ?? 0;
    if (entry && c.seq > signedSeq) entry.signedN = c.n;
  }

  async checkpoint(tenant: string, n: number) {
    return this.checkpointList.find((c) => c.tenant === tenant && c.n === n);
  }

  async checkpoints(tenant: string) {
    return this.checkpointList.filter((c) => c.tenant === tenant).sort((a, b) => a.n - b.n);
  }

  async query(tenant: string, q: AuditQuery) {
    const matching = this.records
      .filter((r) => r.tenant === tenant && r.time >= q.from && r.time <= q.to)
      .filter((r) => (!q.keyId || r.keyId === q.keyId || (r.keys ?? []).includes(q.keyId)) && (!q.principalId || r.principalId === q.principalId) && (!q.action || r.action === q.action) && (!q.result || r.result === q.result))
      .sort((a, b) => a.time.localeCompare(b.time));
    const start = q.cursor ? Number(Buffer.from(q.cursor, "base64url").toString()) : 0;
    const records = matching.slice(start, start + q.limit);
    return start + q.limit < matching.length ? { records, cursor: Buffer.from(String(start + q.limit)).toString("base64url") } : { records };
  }
}
