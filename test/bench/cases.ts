import { randomBytes } from "node:crypto";
import { readFileSync, rmSync } from "node:fs";
import { join } from "node:path";
import { ROOT } from "../../infra/local/processes.js";
import { drive, phaseQuantile, summarize, type Summary } from "./stats.js";
import { runLoad, type BenchStack, type LoadResult } from "./local-stack.js";

/** What every case gets: the stack, the ceiling server, and a record of what it measured. */
export type CaseContext = { stack: BenchStack; ceilingUrl: string; total: number };
export type Figures = Record<string, LoadResult | Summary | number | string>;

const KIB = randomBytes(1024).toString("base64");
const json = (body: unknown) => JSON.stringify(body);
const ratio = (a: number, b: number) => Math.round((a / b) * 100) / 100;

async function newKey(stack: BenchStack, body: unknown = {}): Promise<string> {
  const created = await stack.call("POST", "/v1/keys", body);
  if (created.status !== 201) throw new Error(`create key: ${created.status} ${JSON.stringify(created.body)}`);
  return (created.body.keyMetadata as { keyId: string }).keyId;
}

const ok = (r: LoadResult, total: number, what: string) => {
  if ((r.statuses["200"] ?? 0) !== total) throw new Error(`${what} answered ${JSON.stringify(r.statuses)}`);
  return r;
};

/**
 * A: the ceiling (raw node:http + JSON + base64 + AES-256-GCM, key in memory); B: native encrypt
 * with a cached key (auth, key policy, durable audit on); C: the same through the AWS KMS protocol
 * with @aws-sdk/client-kms (SigV4). 1 KiB plaintext, each load from its own process.
 */
export async function caseABC(x: CaseContext, concurrency: number[]): Promise<Figures> {
  const out: Figures = {};
  const keyId = await newKey(x.stack);
  const access = await x.stack.call("POST", "/v1/access-keys", { principalId: "admin" });
  const credentials = access.body.accessKey as { accessKeyId: string; secretAccessKey: string };
  const auth = { authorization: `Bearer ${x.stack.adminToken}`, "content-type": "application/json" };
  for (const c of concurrency) {
    const a = await runLoad({ kind: "http", url: x.ceilingUrl, headers: { "content-type": "application/json" }, body: json({ plaintext: KIB }), total: x.total, concurrency: c });
    const b = ok(await runLoad({ kind: "http", url: `${x.stack.url}/v1/keys/${keyId}/encrypt`, headers: auth, body: json({ plaintext: KIB }), total: x.total, concurrency: c }), x.total, "B");
    const cc = ok(await runLoad({ kind: "kms", url: x.stack.url, region: "us-east-1", credentials, keyId, plaintextB64: KIB, total: x.total, concurrency: c }), x.total, "C");
    Object.assign(out, { [`A c=${c}`]: a, [`B c=${c}`]: b, [`C c=${c}`]: cc, [`B/A c=${c}`]: ratio(b.perSecond, a.perSecond), [`C/A c=${c}`]: ratio(cc.perSecond, a.perSecond) });
  }
  return out;
}

/**
 * X: the XKS proxy API's encrypt, as AWS KMS calls it (SigV4 for kms-xks-proxy, a new signature
 * per request), against the native encrypt (B) of the same key, 1 KiB, in the same run. AWS KMS
 * gives each XKS call 250 ms; the aim is p99 ≤ 20 ms on loopback.
 */
export async function caseX(x: CaseContext, concurrency: number[]): Promise<Figures> {
  const out: Figures = {};
  const name = `bench-${randomBytes(3).toString("hex")}`;
  const store = await x.stack.call("POST", "/v1/xks-key-stores", { name, uriPathPrefix: `bench/${name}` });
  if (store.status !== 201) throw new Error(`create XKS key store: ${store.status} ${JSON.stringify(store.body)}`);
  const credentials = store.body.credential as { accessKeyId: string; secretAccessKey: string };
  const policy = {
    Version: "2012-10-17",
    Statement: [
      { Sid: "admins", Effect: "Allow", Principal: { Tether: "role:tenantAdmin" }, Action: "kms:*", Resource: "*" },
      { Sid: "xks", Effect: "Allow", Principal: { Tether: `xks-key-store.${name}` }, Action: ["kms:Encrypt", "kms:Decrypt"], Resource: "*" },
    ],
  };
  const keyId = await newKey(x.stack, { policy });
  const auth = { authorization: `Bearer ${x.stack.adminToken}`, "content-type": "application/json" };
  for (const c of concurrency) {
    const xks = ok(await runLoad({ kind: "xks", url: `${x.stack.url}/bench/${name}/kms/xks/v1/keys/${keyId}/encrypt`, credentials, plaintextB64: KIB, total: x.total, concurrency: c }), x.total, "X");
    const b = ok(await runLoad({ kind: "http", url: `${x.stack.url}/v1/keys/${keyId}/encrypt`, headers: auth, body: json({ plaintext: KIB }), total: x.total, concurrency: c }), x.total, "B");
    Object.assign(out, { [`X c=${c}`]: xks, [`B (same key) c=${c}`]: b, [`X/B p50 c=${c}`]: ratio(xks.p50, b.p50), [`X/B p99 c=${c}`]: ratio(xks.p99, b.p99) });
  }
  return out;
}

/**
 * D: encrypt with an HSM-resident key (one HSM call per request through the connector), on
 * loopback and with the link delayed by `delayMs` each way; B measured alongside under the same
 * delay (a cached key never crosses the link).
 */
export async function caseD(x: CaseContext, concurrency: number[], delayMs: number): Promise<Figures> {
  const out: Figures = {};
  const label = `bench-${randomBytes(3).toString("hex")}`;
  const created = await x.stack.call("POST", "/v1/hsm-keys", { label, keySpec: "AES_256" });
  if (created.status !== 201) throw new Error(`create HSM key: ${created.status} ${JSON.stringify(created.body)}`);
  const keyId = await newKey(x.stack);
  const auth = { authorization: `Bearer ${x.stack.adminToken}`, "content-type": "application/json" };
  const hsmUrl = `${x.stack.url}/v1/hsm-keys/${(created.body.key as { keyId: string }).keyId}/encrypt`;
  const bUrl = `${x.stack.url}/v1/keys/${keyId}/encrypt`;
  for (const [link, delay] of [
    ["loopback", 0],
    [`+${delayMs}ms`, delayMs],
  ] as const) {
    x.stack.setLinkDelay(delay);
    for (const c of concurrency) {
      const d = ok(await runLoad({ kind: "http", url: hsmUrl, headers: auth, body: json({ plaintext: KIB }), total: x.total, concurrency: c }), x.total, "D");
      const b = ok(await runLoad({ kind: "http", url: bUrl, headers: auth, body: json({ plaintext: KIB }), total: x.total, concurrency: c }), x.total, "B");
      Object.assign(out, { [`D ${link} c=${c}`]: d, [`B ${link} c=${c}`]: b, [`B/D req/s ${link} c=${c}`]: ratio(b.perSecond, d.perSecond), [`D/B p50 ${link} c=${c}`]: ratio(d.p50, b.p50) });
    }
  }
  x.stack.setLinkDelay(0);
  return out;
}

/**
 * E: cold-key decrypt, the first use of each key after a restart of the functions (an unwrap
 * through the connector), one at a time: on loopback and through the delayed link.
 */
export async function caseE(x: CaseContext, keys: number, delayMs: number): Promise<Figures> {
  const blobs: { loopback: string[]; wan: string[] } = { loopback: [], wan: [] };
  for (const set of ["loopback", "wan"] as const) {
    for (let i = 0; i < keys; i++) {
      const keyId = await newKey(x.stack);
      const enc = await x.stack.call("POST", `/v1/keys/${keyId}/encrypt`, { plaintext: KIB });
      blobs[set].push(String(enc.body.ciphertextBlob));
    }
  }
  await x.stack.restartFunctions();
  const out: Figures = {};
  for (const [set, delay] of [
    ["loopback", 0],
    ["wan", delayMs],
  ] as const) {
    x.stack.setLinkDelay(delay);
    const durations: number[] = [];
    const phases = new Map<string, number[]>();
    const started = performance.now();
    for (const ciphertextBlob of blobs[set]) {
      const t = performance.now();
      const dec = await x.stack.call("POST", "/v1/decrypt", { ciphertextBlob });
      if (dec.status !== 200) throw new Error(`E decrypt: ${dec.status} ${JSON.stringify(dec.body)}`);
      durations.push(performance.now() - t);
      for (const [name, ms] of Object.entries(dec.serverTiming)) phases.set(name, [...(phases.get(name) ?? []), ms]);
    }
    out[`E cold decrypt ${set === "wan" ? `+${delayMs}ms` : "loopback"}`] = {
      ...summarize(durations, performance.now() - started),
      serverTiming: phaseQuantile(phases, 0.5),
      serverTimingP99: phaseQuantile(phases, 0.99),
    } as Figures[string];
  }
  x.stack.setLinkDelay(0);
  return out;
}

/** H: batch encrypt, 100 items of 1 KiB per call, against B at the same concurrency. */
export async function caseH(x: CaseContext, concurrency: number): Promise<Figures> {
  const keyId = await newKey(x.stack);
  const auth = { authorization: `Bearer ${x.stack.adminToken}`, "content-type": "application/json" };
  const calls = Math.max(100, Math.round(x.total / 20));
  const h = ok(await runLoad({ kind: "http", url: `${x.stack.url}/v1/batch/encrypt`, headers: auth, body: json({ items: Array.from({ length: 100 }, () => ({ keyId, plaintext: KIB })) }), total: calls, concurrency }), calls, "H");
  const b = ok(await runLoad({ kind: "http", url: `${x.stack.url}/v1/keys/${keyId}/encrypt`, headers: auth, body: json({ plaintext: KIB }), total: x.total, concurrency }), x.total, "B");
  return { [`H batch calls c=${concurrency}`]: h, [`H items/s c=${concurrency}`]: h.perSecond * 100, [`B c=${concurrency}`]: b, [`H/B items c=${concurrency}`]: ratio(h.perSecond * 100, b.perSecond) };
}

type CacheStats = { hits: number; misses: number; loads: number; evictions: number; size: number };
const cacheStats = async (x: CaseContext) => ((await (await fetch(`${x.stack.url}/health`)).json()) as { keyCache: CacheStats }).keyCache;

/**
 * G: 10,000 keys, encrypt requests picking a key by Zipf(1.0), with the unwrapped-key cache at
 * 10% of the keys and then larger than the key set: hit ratio, HSM unwraps per second (cache
 * loads), single-flight (loads ≤ misses), requests per second. J: the functions' RSS with every
 * key cached.
 */
export async function caseGJ(x: CaseContext, keys: number, concurrency: number): Promise<Figures> {
  const ids: string[] = [];
  await drive(keys, 32, async () => ids.push(await newKey(x.stack)));
  const out: Figures = { "G keys": keys };
  const auth = { authorization: `Bearer ${x.stack.adminToken}`, "content-type": "application/json" };
  const paths = ids.map((id) => `/v1/keys/${id}/encrypt`);
  const run = (total: number, warmup = 0) => runLoad({ kind: "http", url: x.stack.url, paths, zipf: 1, headers: auth, body: json({ plaintext: KIB }), total, concurrency, warmup });
  for (const [name, entries, warmup] of [
    ["cache 10%", Math.round(keys / 10), 2 * keys],
    ["cache > keys", 2 * keys, 0],
  ] as const) {
    await x.stack.restartFunctions({ TETHER_KEY_CACHE_ENTRIES: String(entries) });
    if (warmup) await run(warmup);
    else {
      out["J RSS MiB, started, nothing cached"] = x.stack.functionsRssMiB();
      await drive(keys, 32, async (i) => void (await x.stack.call("POST", paths[i] as string, { plaintext: KIB }))); // every key once: the cache now holds them all
      // V8 shrinks a heap grown under load once the process idles (its memory reducer): measure what stays.
      await new Promise((r) => setTimeout(r, 12_000));
      out["J RSS MiB, all keys cached"] = x.stack.functionsRssMiB();
    }
    const before = await cacheStats(x);
    const measured = await run(x.total * 2);
    const after = await cacheStats(x);
    const hits = after.hits - before.hits;
    const misses = after.misses - before.misses;
    const loads = after.loads - before.loads;
    Object.assign(out, {
      [`G ${name}: req`]: measured,
      [`G ${name}: hit ratio`]: Math.round((hits / (hits + misses)) * 1000) / 1000,
      [`G ${name}: HSM unwraps/s`]: Math.round(loads / measured.seconds),
      [`G ${name}: loads/misses`]: misses ? ratio(loads, misses) : 0,
    });
  }
  // The best any cache of 10% can do under Zipf(1.0): the share of requests for the top 10% of keys.
  const harmonic = (n: number) => Array.from({ length: n }, (_, i) => 1 / (i + 1)).reduce((a, b) => a + b, 0);
  out["G cache 10%: ideal hit ratio (top 10% of keys)"] = Math.round((harmonic(keys / 10) / harmonic(keys)) * 1000) / 1000;
  return out;
}

/** I: process start to listening, and to the first successful encrypt (a cold key: unwrap through the connector). */
export async function caseI(x: CaseContext): Promise<Figures> {
  const keyId = await newKey(x.stack);
  const { spawnedAt, listeningMs } = await x.stack.restartFunctions();
  let firstEncryptMs = 0;
  for (;;) {
    const res = await x.stack.call("POST", `/v1/keys/${keyId}/encrypt`, { plaintext: KIB }).catch(() => undefined);
    if (res?.status === 200) {
      firstEncryptMs = Math.round(performance.now() - spawnedAt);
      break;
    }
    await new Promise((r) => setTimeout(r, 5));
  }
  return { "I start → listening ms": listeningMs, "I start → first encrypt ms": firstEncryptMs };
}

type ProcessSample = { t: number; rssMiB: number; loopDelayP99Ms: number; liveHeapMiB?: number };

/**
 * S (opt-in: `npm run bench -- S`): a soak. Native encrypt with a cached key at 16 connections
 * for `minutes`, the functions process (restarted with test/bench/process-stats.mjs preloaded)
 * sampling its RSS and event-loop delay every second and its live JS heap (after a full GC)
 * every ten. The second window (the first is warm-up) is compared with the last: none of them
 * may trend upward.
 */
export async function caseS(x: CaseContext, statsFile: string, minutes: number): Promise<Figures> {
  await x.stack.restartFunctions({ NODE_OPTIONS: `--expose-gc --import=${join(ROOT, "test/bench/process-stats.mjs")}`, TETHER_BENCH_STATS_FILE: statsFile });
  const keyId = await newKey(x.stack);
  const auth = { authorization: `Bearer ${x.stack.adminToken}`, "content-type": "application/json" };
  const started = Date.now();
  const durationMs = minutes * 60_000;
  const statuses: Record<string, number> = {};
  let requests = 0;
  while (Date.now() - started < durationMs) {
    const r = await runLoad({ kind: "http", url: `${x.stack.url}/v1/keys/${keyId}/encrypt`, headers: auth, body: json({ plaintext: KIB }), total: 5_000, concurrency: 16, warmup: 0 });
    requests += r.n;
    for (const [status, n] of Object.entries(r.statuses)) statuses[status] = (statuses[status] ?? 0) + n;
  }
  const ended = Date.now();
  await x.stack.restartFunctions(); // stops the sampling process: the file is whole
  const samples = readFileSync(statsFile, "utf8").trim().split("\n").map((l) => JSON.parse(l) as ProcessSample);
  rmSync(statsFile, { force: true });
  const window = Math.min(60_000, durationMs / 4);
  const during = (from: number, to: number) => samples.filter((s) => s.t >= from && s.t < to);
  const start = during(started + window, started + 2 * window);
  const end = during(ended - window, ended);
  const median = (xs: ProcessSample[], f: keyof ProcessSample) => {
    const sorted = xs.flatMap((s) => s[f] ?? []).sort((a, b) => a - b);
    return Math.round((sorted[Math.floor(sorted.length / 2)] ?? 0) * 100) / 100;
  };
  const out: Figures = { "S requests": requests, "S statuses": JSON.stringify(statuses), "S req/s": Math.round((requests / (ended - started)) * 1000) };
  const windows = Array.from({ length: Math.floor(durationMs / window) }, (_, i) => during(started + i * window, started + (i + 1) * window));
  for (const [label, f] of [["RSS MiB", "rssMiB"], ["live heap MiB", "liveHeapMiB"]] as const) out[`S ${label} by window`] = windows.map((w) => median(w, f)).join(" → ");
  for (const [label, f] of [["RSS MiB", "rssMiB"], ["live heap MiB", "liveHeapMiB"], ["loop delay p99 ms", "loopDelayP99Ms"]] as const) {
    const [a, b] = [median(start, f), median(end, f)];
    Object.assign(out, { [`S ${label} start`]: a, [`S ${label} end`]: b, [`S ${label} end/start`]: ratio(b, a) });
  }
  return out;
}
