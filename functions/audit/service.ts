import pMap from "p-map";
import type { Principal } from "../identity/principal.js";
import type { Authorizer } from "../policy/authorizer.js";
import { CheckpointLog, checkpointSignatureValid, type CheckpointSigner } from "./checkpoints.js";
import type { AuditRecord, Checkpoint } from "./record.js";
import type { AuditQuery, AuditStore } from "./store.js";
import { continuation, verifyChain, verifyCheckpointLog, type ChainReport, type Problem } from "./verify.js";

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
    const [publicKey, registry, log] = await Promise.all([this.signer.publicKey(), this.store.chains(tenant), this.store.checkpoints(tenant)]);
    const registered = new Set(registry.map((c) => c.writer));
    const { problems, valid } = verifyCheckpointLog(tenant, log, publicKey);
    const checkpointsOf = new Map<string, Checkpoint[]>();
    for (const c of valid) {
      const list = checkpointsOf.get(c.writer);
      if (list) list.push(c);
      else checkpointsOf.set(c.writer, [c]);
    }
    const writers = new Set([...registered, ...checkpointsOf.keys()]);
    const signedBy = new Date(this.now() - this.opts.signedWithinMs).toISOString();
    const chains = await pMap(
      writers,
      async (writer) => verifyChain(tenant, writer, await this.store.chain(tenant, writer), { checkpoints: checkpointsOf.get(writer) ?? [], registered: registered.has(writer), signedBy }),
      { concurrency: 8 },
    );
    return { ok: problems.length === 0 && chains.every((c) => c.problems.length === 0), chains, checkpoints: log.length, problems };
  }

  /**
   * Signs the head of every chain of the tenant that holds unsigned records and has been idle for
   * `signIdleMs` (a frozen or dead writer). Only a chain its writer signed itself at least once
   * (every writer signs its chain's first batch before answering it), and only records that
   * continue, unbroken, from that chain's latest valid checkpoint: a chain planted in the table,
   * or one broken after its last checkpoint, is never vouched for; verify reports it as it is.
   * Reads each chain's registry entry, its latest checkpoint and the records after it, not the
   * chain's history. Returns the chains signed.
   */
  async signIdleChains(tenant: string): Promise<string[]> {
    const [publicKey, chains] = await Promise.all([this.signer.publicKey(), this.store.chains(tenant)]);
    const idleSince = new Date(this.now() - this.opts.signIdleMs).toISOString();
    const signed: string[] = [];
    for (const { writer, signedN } of chains) {
      if (signedN === undefined) continue;
      const from = await this.store.checkpoint(tenant, signedN);
      if (!from || from.tenant !== tenant || from.writer !== writer || !checkpointSignatureValid(from, publicKey)) continue;
      const head = continuation(from, await this.store.chainFrom(tenant, writer, from.seq));
      if (!head || head.seq === from.seq || head.time > idleSince) continue;
      await this.log.append({ tenant, writer, seq: head.seq, hash: head.hash, time: new Date(this.now()).toISOString(), by: "sweeper" });
      signed.push(writer);
    }
    return signed;
  }
}
