import { describe, expect, it, vi } from "vitest";
import { MemoryHsm } from "../../shared/hsm/memory-hsm.js";
import { silentLogger } from "../../shared/log.js";
import { MemoryAuditStore } from "./memory-store.js";
import { boundEntry, canonical, genesis, MAX_RECORD_BYTES, recordHash, type AuditEntry, type AuditRecord } from "./record.js";
import type { AuditStore } from "./store.js";
import { CheckpointLog, HsmCheckpointSigner, type CheckpointSigner } from "./checkpoints.js";
import type { Checkpoint } from "./record.js";
import { verifyChain, verifyCheckpointLog } from "./verify.js";
import { AuditLanes, AuditWriter } from "./writer.js";
import { withDeadline } from "../deadline.js";

const entry = (i: number, tenant = "111122223333"): AuditEntry => ({
  time: new Date(Date.UTC(2026, 10, 22, 12, 0, 0, i)).toISOString(),
  requestId: `req-${i}`,
  tenant,
  principalId: "alice",
  action: "kms:Encrypt",
  result: "ok",
  status: 200,
  durationMs: 1,
});

/** Verifies the tenant's checkpoint log, then one writer's chain against the checkpoints that verified. */
async function verifyWriter(store: MemoryAuditStore, signer: CheckpointSigner, writer: string, o: { records?: AuditRecord[]; log?: Checkpoint[] } = {}) {
  const tenant = "111122223333";
  const log = verifyCheckpointLog(tenant, o.log ?? (await store.checkpoints(tenant)), await signer.publicKey());
  const chain = verifyChain(tenant, writer, o.records ?? (await store.chain(tenant, writer)), { checkpoints: log.valid.filter((c) => c.writer === writer), registered: true, signedBy: "" });
  return { ...chain, problems: [...log.problems, ...chain.problems] };
}

const setup = (store: AuditStore = new MemoryAuditStore(), opts = {}) => {
  const hsm = new MemoryHsm();
  const signer = new HsmCheckpointSigner(hsm);
  return { writer: new AuditWriter(store, signer, silentLogger, { checkpointMs: 60_000, ...opts }), signer, hsm };
};

describe("audit records: canonical hashing", () => {
  it("encodes with sorted keys and without absent fields (known answer)", () => {
    expect(canonical({ b: 1, a: { d: [2, "x"], c: undefined }, e: "é" })).toBe('{"a":{"d":[2,"x"]},"b":1,"e":"é"}');
    const r = { ...entry(1), writer: "w", seq: 1, prev: genesis("111122223333", "w") };
    expect(recordHash(r)).toBe(recordHash({ ...r, keyId: undefined }));
    expect(recordHash(r)).not.toBe(recordHash({ ...r, result: "AccessDeniedException" }));
    expect(recordHash(r)).toMatch(/^[0-9a-f]{64}$/);
  });
});

describe("audit records: bounded whatever the request", () => {
  const stored = (e: AuditEntry) => Buffer.byteLength(JSON.stringify({ ...boundEntry(e), writer: "lq3c5k2a-0123456789ab", seq: 999_999_999, prev: "f".repeat(64), hash: "f".repeat(64) }));

  it("a record of the most hostile request stays within MAX_RECORD_BYTES, and says what it reduced", () => {
    const wide = "😀".repeat(128) + "é".repeat(1_000); // 4-byte and 2-byte characters: length is not bytes
    const worst: AuditEntry = {
      ...entry(1),
      action: wide,
      keyId: wide,
      principalId: "漢".repeat(256),
      credentialId: "漢".repeat(256),
      clientRequestId: "漢".repeat(256),
      sourceIp: wide,
      encryptionContext: Object.fromEntries(Array.from({ length: 300 }, (_, i) => [`${i}`.padEnd(4_000, "漢"), "漢".repeat(4_000)])),
      keys: Array.from({ length: 1_000 }, (_, i) => `${i}`.padEnd(300, "漢")),
    };
    expect(stored(worst)).toBeLessThanOrEqual(MAX_RECORD_BYTES);
    expect(boundEntry(worst).reduced).toEqual(["action", "encryptionContext", "keyId", "keys", "sourceIp"]);
    expect(boundEntry({ ...entry(1), principalId: "漢".repeat(256) }).principalId).toBe("漢".repeat(256));
  });

  it("names every key of a 100-item batch", () => {
    const keys = Array.from({ length: 100 }, (_, i) => `hsm::0::${String(i).padEnd(51, "k")}`);
    expect(boundEntry({ ...entry(1), keys }).keys).toEqual(keys);
    expect(boundEntry({ ...entry(1), keys: [...keys, ...keys.map((k) => `${k}x`)] }).keys?.at(-1)).toMatch(/^…\d+ more$/);
  });
});

describe("AuditWriter", () => {
  it("group-commits: 200 concurrent writes in few batches, every chain in order, each caller answered once durable", async () => {
    const store = new MemoryAuditStore();
    let appends = 0;
    const counting: AuditStore = Object.assign(Object.create(store) as AuditStore, {
      append: async (records: readonly AuditRecord[], chains: readonly { tenant: string; writer: string; createdAt: string }[]) => {
        appends++;
        await new Promise((r) => setTimeout(r, 5));
        return store.append(records, chains);
      },
    });
    const { writer } = setup(counting);
    await Promise.all(Array.from({ length: 200 }, (_, i) => writer.write(entry(i, i % 2 ? "111122223333" : "444455556666"))));
    expect(store.records).toHaveLength(200);
    expect(appends).toBeLessThan(10);
    for (const tenant of ["111122223333", "444455556666"]) {
      const chain = await store.chain(tenant, writer.writer);
      expect(chain.map((r) => r.seq)).toEqual(Array.from({ length: 100 }, (_, i) => i + 1));
    }
    await writer.close();
  });

  it("a write made as the previous batch completes is written too (it does not wait forever in the queue)", async () => {
    // The caller's next write lands a few turns of the microtask queue after its first resolves:
    // try each, since the window between the queue's last check and the drain's end is a few turns.
    for (let turns = 0; turns < 8; turns++) {
      const { writer } = setup();
      const later = async () => {
        for (let i = 0; i < turns; i++) await null;
        await writer.write(entry(2));
        return "written";
      };
      const second = await Promise.race([writer.write(entry(1)).then(later), new Promise((r) => setTimeout(() => r("stuck in the queue"), 1_000))]);
      expect(second, `${turns} turns later`).toBe("written");
      await writer.close();
    }
  });

  it("a batch that cannot be written fails its requests and leaves no hole: the chain ends signed, a new one begins", async () => {
    const store = new MemoryAuditStore();
    const { writer, signer } = setup(store, { retries: 2 });
    await writer.write(entry(1));
    const first = writer.writer;
    store.failing = "refuse";
    await expect(writer.write(entry(2))).rejects.toMatchObject({ code: "KMSInternalException" });
    store.failing = false;
    await writer.write(entry(3));
    await writer.close();
    expect(writer.writer).not.toBe(first);
    expect((await store.chain("111122223333", first)).map((r) => r.requestId)).toEqual(["req-1"]);
    expect((await store.chain("111122223333", writer.writer)).map((r) => r.requestId)).toEqual(["req-3"]);
    for (const w of [first, writer.writer]) {
      const report = await verifyWriter(store, signer, w);
      expect(report.problems).toEqual([]);
      expect(report.checkpointedSeq).toBe(1);
    }
  });

  it("a batch whose answer was lost (written all the same) never leaves two records at one place in a chain", async () => {
    const store = new MemoryAuditStore();
    const { writer, signer } = setup(store, { retries: 1 });
    await writer.write(entry(1));
    store.failing = "lose-answer";
    await expect(writer.write(entry(2))).rejects.toThrow("the audit record could not be written");
    store.failing = false;
    await writer.write(entry(3)); // on the old writer: seq 2 again, with other contents
    await writer.write(entry(4));
    await writer.close();
    const chains = [...new Set(store.records.map((r) => r.writer))];
    expect(store.records.map((r) => r.requestId).sort()).toEqual(["req-1", "req-2", "req-3", "req-4"]);
    for (const w of chains) expect((await verifyWriter(store, signer, w)).problems).toEqual([]);
  });

  it("a caller waits for a paused database no longer than its deadline; an entry still queued then is never written", async () => {
    const store = new MemoryAuditStore();
    const { writer } = setup(store, { retries: 1, writeTimeoutMs: 60_000 });
    await writer.write(entry(1));
    store.failing = "hang";
    const started = Date.now();
    const inFlight = withDeadline(Date.now() + 300, () => writer.write(entry(2)));
    const queued = withDeadline(Date.now() + 300, () => writer.write(entry(3)));
    // Both are awaited at once: the two deadlines pass together.
    await Promise.all([expect(inFlight).rejects.toMatchObject({ code: "DependencyTimeoutException" }), expect(queued).rejects.toMatchObject({ code: "DependencyTimeoutException" })]);
    expect(Date.now() - started).toBeLessThan(2_000);
    expect(writer.backlog()).toBe(1); // the hung batch; entry 3 left the queue
  });

  it("a store call that never answers fails its batch after writeTimeoutMs, and the writer goes on", async () => {
    const store = new MemoryAuditStore();
    const { writer } = setup(store, { retries: 1, writeTimeoutMs: 200 });
    store.failing = "hang";
    await expect(writer.write(entry(1))).rejects.toMatchObject({ code: "DependencyTimeoutException" });
    store.failing = false;
    await writer.write(entry(2));
    expect(store.records.map((r) => r.requestId)).toEqual(["req-2"]);
  });

  it("a checkpoint round while a batch is being written signs only what is durable", async () => {
    vi.useFakeTimers({ toFake: ["setInterval"] });
    try {
      const store = new MemoryAuditStore();
      let release = () => {};
      const held = new Promise<void>((r) => (release = r));
      const gated: AuditStore = Object.assign(Object.create(store) as AuditStore, {
        append: async (records: readonly AuditRecord[], chains: readonly { tenant: string; writer: string; createdAt: string }[]) => {
          if (!records.some((r) => r.requestId === "req-2")) return store.append(records, chains);
          await held;
          throw new Error("the store is down");
        },
      });
      const { writer, signer } = setup(gated, { retries: 1 });
      await writer.write(entry(1));
      const first = writer.writer;
      const second = writer.write(entry(2));
      await vi.advanceTimersByTimeAsync(60_000); // the timer's round runs while record 2 is in flight
      release();
      await expect(second).rejects.toMatchObject({ code: "KMSInternalException" });
      await writer.close();
      const report = await verifyWriter(store, signer, first);
      expect(report.problems).toEqual([]);
      expect(report).toMatchObject({ lastSeq: 1, checkpointedSeq: 1 });
    } finally {
      vi.useRealTimers();
    }
  });

  it("a new chain's first batch is answered once its writer has signed it (what the sweeper extends from)", async () => {
    const store = new MemoryAuditStore();
    const { writer } = setup(store);
    await writer.write(entry(1));
    expect(store.checkpointList).toEqual([expect.objectContaining({ writer: writer.writer, seq: 1, by: "writer" })]);
    expect(await store.chains("111122223333")).toEqual([{ writer: writer.writer, signedN: 1 }]);
    await writer.write(entry(2));
    expect(store.checkpointList).toHaveLength(1);
    await writer.close();
  });

  it("a signer that hangs delays a new chain's first answer by firstCheckpointWaitMs, no longer", async () => {
    const store = new MemoryAuditStore();
    const hanging: CheckpointSigner = { sign: () => new Promise(() => undefined), publicKey: () => new Promise(() => undefined) };
    const writer = new AuditWriter(store, hanging, silentLogger, { checkpointMs: 60_000, firstCheckpointWaitMs: 50 });
    await writer.write(entry(1));
    expect(store.records.map((r) => r.requestId)).toEqual(["req-1"]);
  });
});

describe("AuditLanes", () => {
  it("spreads concurrent writes over several writers, each chain complete and verifiable", async () => {
    const store = new MemoryAuditStore();
    const signer = new HsmCheckpointSigner(new MemoryHsm());
    const lanes = new AuditLanes([0, 1, 2].map(() => new AuditWriter(store, signer, silentLogger, { checkpointMs: 60_000 })));
    await Promise.all(Array.from({ length: 90 }, (_, i) => lanes.write(entry(i))));
    await lanes.close();
    const writers = (await store.chains("111122223333")).map((c) => c.writer);
    expect(writers).toHaveLength(3);
    const reports = await Promise.all(writers.map((w) => verifyWriter(store, signer, w)));
    expect(reports.reduce((n, r) => n + r.records, 0)).toBe(90);
    expect(reports.every((r) => r.records > 0 && r.problems.length === 0 && r.uncheckpointed === 0)).toBe(true);
  });
});

describe("verify: every kind of tampering is detected and named", () => {
  const written = async () => {
    const store = new MemoryAuditStore();
    const { writer, signer } = setup(store, { checkpointEvery: 5 });
    for (let i = 1; i <= 10; i++) await writer.write(entry(i));
    await writer.close();
    const tenant = "111122223333";
    const check = (records: AuditRecord[], log = store.checkpointList) => verifyWriter(store, signer, writer.writer, { records, log });
    return { records: await store.chain(tenant, writer.writer), check, store };
  };

  it("an untouched chain verifies, fully checkpointed by the HSM key", async () => {
    const { records, check } = await written();
    expect(await check(records)).toMatchObject({ records: 10, lastSeq: 10, checkpointedSeq: 10, uncheckpointed: 0, problems: [] });
  });

  it("a modified record", async () => {
    const { records, check } = await written();
    const altered = records.map((r) => (r.seq === 4 ? { ...r, result: "ok", principalId: "mallory" } : r));
    expect((await check(altered)).problems).toEqual([expect.objectContaining({ seq: 4, requestId: "req-4", problem: "modified" })]);
  });

  it("a modified record whose hash was recomputed (the next record's link breaks)", async () => {
    const { records, check } = await written();
    const altered = records.map((r) => {
      if (r.seq !== 4) return r;
      const { hash: _old, ...rest } = { ...r, principalId: "mallory" };
      return { ...rest, hash: recordHash(rest) };
    });
    expect((await check(altered)).problems).toEqual([expect.objectContaining({ seq: 4, problem: "modified" })]);
  });

  it("a deleted record, and deleted records at the end", async () => {
    const { records, check } = await written();
    expect((await check(records.filter((r) => r.seq !== 6))).problems).toEqual([expect.objectContaining({ seq: 6, problem: "missing" })]);
    expect((await check(records.filter((r) => r.seq <= 8))).problems).toEqual([expect.objectContaining({ seq: 10, problem: "truncated" })]);
  });

  it("re-ordered records", async () => {
    const { records, check } = await written();
    const swapped = [...records];
    [swapped[2], swapped[3]] = [swapped[3] as AuditRecord, swapped[2] as AuditRecord];
    const problems = (await check(swapped)).problems;
    expect(problems.map((p) => p.problem)).toContain("reordered");
    expect(problems.map((p) => p.seq)).toEqual(expect.arrayContaining([3, 4]));
  });

  it("a forged checkpoint", async () => {
    const { records, check, store } = await written();
    const last = store.checkpointList.at(-1);
    if (!last) throw new Error("no checkpoint");
    const forged = [...store.checkpointList, { ...last, n: last.n + 1, seq: 12, hash: "0".repeat(64) }];
    expect((await check(records, forged)).problems).toEqual([expect.objectContaining({ seq: last.n + 1, problem: "forged-checkpoint" })]);
  });

  it("a checkpoint deleted from the log, and a log whose tail was deleted and then continued", async () => {
    const { records, check, store } = await written();
    const log = store.checkpointList;
    expect(log.length).toBeGreaterThanOrEqual(2);
    expect((await check(records, log.filter((c) => c.n !== 1))).problems).toEqual([expect.objectContaining({ seq: 1, problem: "missing-checkpoint" })]);
  });

  it("a log whose tail was deleted and then continued shows it: the signer had seen more", async () => {
    const store = new MemoryAuditStore();
    const { signer } = setup(store);
    const log = new CheckpointLog(store, signer);
    const head = { tenant: "111122223333", writer: "w", hash: "h".repeat(64), time: new Date().toISOString(), by: "writer" as const };
    await log.append({ ...head, seq: 1 });
    await log.append({ ...head, seq: 2 });
    store.checkpointList.splice(1); // an attacker deletes checkpoint 2; the writer carries on
    const continued = await log.append({ ...head, seq: 3 });
    expect(continued).toMatchObject({ n: 2, seen: 2 });
    const { problems } = verifyCheckpointLog("111122223333", store.checkpointList, await signer.publicKey());
    expect(problems).toEqual([expect.objectContaining({ seq: 2, problem: "missing-checkpoint" })]);
  });
});
