import type { Principal } from "../identity/principal.js";
import type { Authorizer } from "../policy/authorizer.js";
import { CheckpointLog, type CheckpointSigner } from "./checkpoints.js";
import type { AuditRecord } from "./record.js";
import type { AuditQuery, AuditStore } from "./store.js";
import { verifyChain, verifyCheckpointLog, type ChainReport, type Problem } from "./verify.js";

export type AuditReport = { ok: boolean; chains: ChainReport[]; checkpoints: number; problems: Problem[] };

export type AuditServiceOptions = {
  /** Records older than this must be vouched for by a signed checkpoint (verify reports them otherwise). */
  signedWithinMs: number;
  /** The sweeper signs a chain whose newest record is this old and still unsigned (its writer froze or died). */
  signIdleMs: number;
  now?: () => number;
};

/**
 * The tenant's audit trail for its admins and auditors: query it, and check that nothing was
 * altered, removed, moved or hidden. Also signs, for the sweeper, chains their writers left
 * unsigned.
 */
export class AuditService {
  private readonly log: CheckpointLog;
  private readonly now: () => number;

  constructor(
    private readonly store: AuditStore,
    private readonly signer: CheckpointSigner,
    private readonly authorizer: Authorizer,
    private readonly opts: AuditServiceOptions,
  ) {
    this.log = new CheckpointLog(store, signer);
    this.now = opts.now ?? Date.now;
  }

  async query(principal: Principal, q: AuditQuery): Promise<{ records: AuditRecord[]; cursor?: string }> {
    await this.authorizer.authorize(principal, "tether:ReadAudit", { tenant: principal.tenant });
    return this.store.query(principal.tenant, q);
  }

  /**
   * Verifies the tenant's checkpoint log, then every chain — those the registry lists and those
   * the log names — against its hashes and its signed checkpoints.
   */
  async verify(principal: Principal): Promise<AuditReport> {
    await this.authorizer.authorize(principal, "tether:ReadAudit", { tenant: principal.tenant });
    const tenant = principal.tenant;
    const [publicKey, registered, log] = await Promise.all([this.signer.publicKey(), this.store.writers(tenant), this.store.checkpoints(tenant)]);
    const { problems, valid } = verifyCheckpointLog(tenant, log, publicKey);
    const writers = new Set([...registered, ...valid.map((c) => c.writer)]);
    const signedBy = new Date(this.now() - this.opts.signedWithinMs).toISOString();
    const chains = await Promise.all(
      [...writers].map(async (writer) =>
        verifyChain(tenant, writer, await this.store.chain(tenant, writer), { checkpoints: valid.filter((c) => c.writer === writer), registered: registered.includes(writer), signedBy }),
      ),
    );
    return { ok: problems.length === 0 && chains.every((c) => c.problems.length === 0), chains, checkpoints: log.length, problems };
  }

  /**
   * Signs the head of every chain of the tenant that holds unsigned records and has been idle for
   * `signIdleMs` (a frozen or dead writer), once its records verify. Returns the chains signed.
   */
  async signIdleChains(tenant: string): Promise<string[]> {
    const [registered, log] = await Promise.all([this.store.writers(tenant), this.store.checkpoints(tenant)]);
    const idleSince = new Date(this.now() - this.opts.signIdleMs).toISOString();
    const signed: string[] = [];
    for (const writer of new Set([...registered, ...log.map((c) => c.writer)])) {
      const records = await this.store.chain(tenant, writer);
      const last = records.at(-1);
      const signedSeq = Math.max(0, ...log.filter((c) => c.writer === writer).map((c) => c.seq));
      if (!last || last.seq <= signedSeq || last.time > idleSince) continue;
      // Never vouch for a chain that is already broken: verify reports it as it is.
      const check = verifyChain(tenant, writer, records, { checkpoints: [], registered: true, signedBy: "" });
      if (check.problems.length || last.seq !== records.length) continue;
      await this.log.append({ tenant, writer, seq: last.seq, hash: last.hash, time: new Date(this.now()).toISOString(), by: "sweeper" });
      signed.push(writer);
    }
    return signed;
  }
}
