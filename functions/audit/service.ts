import type { Principal } from "../identity/principal.js";
import type { Authorizer } from "../policy/authorizer.js";
import type { CheckpointSigner } from "./checkpoints.js";
import type { AuditRecord } from "./record.js";
import type { AuditQuery, AuditStore } from "./store.js";
import { verifyChain, type ChainReport } from "./verify.js";

/** The tenant's audit trail for its admins and auditors: query it, and check that nothing was altered, removed or moved. */
export class AuditService {
  constructor(
    private readonly store: AuditStore,
    private readonly signer: CheckpointSigner,
    private readonly authorizer: Authorizer,
  ) {}

  async query(principal: Principal, q: AuditQuery): Promise<{ records: AuditRecord[]; cursor?: string }> {
    await this.authorizer.authorize(principal, "tether:ReadAudit", { tenant: principal.tenant });
    return this.store.query(principal.tenant, q);
  }

  /** Verifies every chain of the tenant against its hashes and its HSM-signed checkpoints. */
  async verify(principal: Principal): Promise<{ ok: boolean; chains: ChainReport[] }> {
    await this.authorizer.authorize(principal, "tether:ReadAudit", { tenant: principal.tenant });
    const publicKey = await this.signer.publicKey();
    const chains = await Promise.all(
      (await this.store.writers(principal.tenant)).map(async (writer) =>
        verifyChain(principal.tenant, writer, await this.store.chain(principal.tenant, writer), await this.store.checkpoints(principal.tenant, writer), publicKey),
      ),
    );
    return { ok: chains.every((c) => c.problems.length === 0), chains };
  }
}
