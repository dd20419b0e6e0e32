import { describe, expect, it } from "vitest";
import { MemoryHsm } from "../../shared/hsm/memory-hsm.js";
import { silentLogger } from "../../shared/log.js";
import type { Authorizer } from "../policy/authorizer.js";
import { HsmCheckpointSigner, type CheckpointSigner } from "./checkpoints.js";
import { MemoryAuditStore } from "./memory-store.js";
import { recordHash, type AuditEntry } from "./record.js";
import { AuditService } from "./service.js";
import { AuditWriter } from "./writer.js";

const tenant = "111122223333";
const entry = (i: number): AuditEntry => ({ time: new Date(Date.UTC(2026, 10, 22, 12, 0, 0, i)).toISOString(), requestId: `req-${i}`, tenant, action: "kms:Encrypt", result: "ok", status: 200, durationMs: 1 });
const unusedAuthorizer = {} as Authorizer;

/** A writer that signs its chain's first batch, then freezes (signs nothing more), with `n` records. */
async function frozenChain(store: MemoryAuditStore, signer: CheckpointSigner, n: number) {
  let signs = 0;
  const once: CheckpointSigner = { publicKey: () => signer.publicKey(), sign: (body) => (signs++ === 0 ? signer.sign(body) : new Promise(() => undefined)) };
  const writer = new AuditWriter(store, once, silentLogger, { checkpointMs: 3_600_000, checkpointEvery: 1_000_000, firstCheckpointWaitMs: 1_000 });
  for (let i = 1; i <= n; i++) await writer.write(entry(i));
  return writer.writer;
}

describe("AuditService.signIdleChains (the sweeper)", () => {
  const setup = () => {
    const store = new MemoryAuditStore();
    const signer = new HsmCheckpointSigner(new MemoryHsm());
    const service = new AuditService(store, signer, unusedAuthorizer, { signedWithinMs: 60_000, signIdleMs: 1_000, now: () => Date.UTC(2026, 10, 22, 13) });
    return { store, signer, service };
  };

  it("signs the idle tail of a chain its writer signed once, reading only what follows its last checkpoint", async () => {
    const { store, signer, service } = setup();
    const writer = await frozenChain(store, signer, 5);
    let fullReads = 0;
    const chain = store.chain.bind(store);
    store.chain = (t, w) => (fullReads++, chain(t, w));
    expect(await service.signIdleChains(tenant)).toEqual([writer]);
    expect(fullReads).toBe(0);
    expect(store.checkpointList.map((c) => [c.seq, c.by])).toEqual([
      [1, "writer"],
      [5, "sweeper"],
    ]);
    expect(await store.chains(tenant)).toEqual([{ writer, signedN: 2 }]);
    expect(await service.signIdleChains(tenant)).toEqual([]);
  });

  it("does not sign a tail that was altered after the last checkpoint", async () => {
    const { store, signer, service } = setup();
    await frozenChain(store, signer, 4);
    const victim = store.records[2];
    if (!victim) throw new Error("no record 3");
    const { hash: _h, ...rest } = { ...victim, action: "kms:Decrypt" };
    store.records[2] = { ...rest, hash: recordHash(rest) };
    expect(await service.signIdleChains(tenant)).toEqual([]);
  });

  it("does not sign a chain whose registry entry points at another chain's checkpoint", async () => {
    const { store, signer, service } = setup();
    const honest = await frozenChain(store, signer, 2);
    const writer = "planted";
    const unhashed = { ...entry(9), writer, seq: 1, prev: "0".repeat(64) };
    await store.append([{ ...unhashed, hash: recordHash(unhashed) }], [{ tenant, writer, createdAt: unhashed.time }]);
    const registry = await store.chains(tenant);
    expect(registry.map((c) => c.writer)).toEqual([honest, writer]);
    // What an attacker with table access would write into the planted chain's registry entry.
    await store.markSigned({ ...(store.checkpointList[0] as (typeof store.checkpointList)[0]), writer, seq: 1 });
    expect(await service.signIdleChains(tenant)).toEqual([honest]);
  });

  it("leaves an active chain to its writer", async () => {
    const { store, signer } = setup();
    const service = new AuditService(store, signer, unusedAuthorizer, { signedWithinMs: 60_000, signIdleMs: 1_000, now: () => Date.UTC(2026, 10, 22, 12, 0, 0, 500) });
    await frozenChain(store, signer, 3);
    expect(await service.signIdleChains(tenant)).toEqual([]);
  });
});
