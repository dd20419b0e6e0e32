import { mkdirSync, writeFileSync } from "node:fs";
import { cpus, tmpdir, totalmem } from "node:os";
import { join } from "node:path";
import * as z from "zod";
import { ROOT } from "../../infra/local/processes.js";
import { caseABC, caseD, caseE, caseGJ, caseH, caseI, caseS, caseX, type CaseContext, type Figures } from "./cases.js";
import { benchLambdaLoad } from "./lambda-load.js";
import { benchLink } from "./link.js";
import { startBenchStack, startCeilingServer } from "./local-stack.js";
import { benchPolicyCost } from "./policy-cost.js";
import type { Summary } from "./stats.js";
import { checkTargets } from "./targets.js";

/**
 * `npm run bench [-- <cases>]`: bounded, loopback only, stops everything it starts. Cases A–J as
 * issue [7/7] defines them (A, B and C run together), X (the XKS door, issue [3/8]), and S, the soak, only when asked for
 * (`npm run bench -- S`, BENCH_SOAK_MINUTES long); prints each figure, the targets met or
 * missed, and writes test/bench/results/<date>.json and .md (the table to compare runs by).
 */
const CASES = ["A", "B", "C", "D", "E", "F", "G", "H", "I", "J", "X"] as const;
const Cases = z.array(z.enum([...CASES, "S"])).default([...CASES]);
const cases = new Set(Cases.parse(process.argv.length > 2 ? process.argv.slice(2).map((c) => c.toUpperCase()) : undefined));
/** Requests per row, the link's one-way delay, and G's key count: BENCH_TOTAL, BENCH_LINK_DELAY_MS, BENCH_KEYS. */
const Settings = z.object({
  total: z.coerce.number().int().min(100).max(100_000).default(5_000),
  delayMs: z.coerce.number().int().min(1).max(200).default(10),
  keys: z.coerce.number().int().min(100).max(100_000).default(10_000),
  soakMinutes: z.coerce.number().min(1).max(60).default(10),
});
const settings = Settings.parse({ total: process.env.BENCH_TOTAL, delayMs: process.env.BENCH_LINK_DELAY_MS, keys: process.env.BENCH_KEYS, soakMinutes: process.env.BENCH_SOAK_MINUTES });
// The pinned AWS SDK warns on Node 20 about its releases after January 2027.
process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= "true";
const say = (line = "") => process.stdout.write(`${line}\n`);

const machine = { cpus: cpus().length, model: cpus()[0]?.model ?? "unknown", memGiB: Math.round(totalmem() / 2 ** 30), node: process.version, date: new Date().toISOString() };
say(`machine: ${JSON.stringify(machine)}  (${settings.total} requests per row; link delay ${settings.delayMs} ms each way)`);

const isSummary = (v: unknown): v is Summary & { serverTiming?: Record<string, number>; serverTimingP99?: Record<string, number> } => typeof v === "object" && v !== null && "perSecond" in v;
const phases = (label: string, t: Record<string, number> | undefined) => (t && Object.keys(t).length ? `  server ${label} ms ${JSON.stringify(t)}` : "");
const describe = (v: Figures[string]) =>
  isSummary(v)
    ? `${String(v.perSecond).padStart(7)}/s  p50 ${v.p50} ms  p99 ${v.p99} ms  (n=${v.n})${phases("p50", v.serverTiming)}${phases("p99", v.serverTimingP99)}`
    : String(v);
const results: Figures = {};
const section = (title: string, figures: Figures) => {
  say(`\n${title}`);
  for (const [name, v] of Object.entries(figures)) say(`  ${name.padEnd(44)} ${describe(v)}`);
  Object.assign(results, figures);
};

const needsStack = [...cases].some((c) => c !== "F");
const ceiling = cases.has("A") || cases.has("B") || cases.has("C") ? await startCeilingServer() : undefined;
const stack = needsStack ? await startBenchStack() : undefined;
try {
  const x: CaseContext | undefined = stack ? { stack, ceilingUrl: ceiling?.url ?? "", total: settings.total } : undefined;
  if (x && (cases.has("A") || cases.has("B") || cases.has("C"))) {
    section("A/B/C: ceiling (raw node:http + AES-GCM) vs native encrypt vs AWS KMS protocol (@aws-sdk/client-kms, SigV4); cached key, auth + policy + audit on, 1 KiB", await caseABC(x, [1, 16, 50]));
    section("Key-policy decision, in process", await benchPolicyCost());
  }
  if (x && cases.has("D")) section(`D: HSM-resident key (one HSM call per request) vs B, on loopback and with the link delayed ${settings.delayMs} ms each way`, await caseD(x, [50], settings.delayMs));
  if (x && cases.has("E")) section("E: cold-key decrypt after a restart (unwrap through the connector), one at a time", await caseE(x, 100, settings.delayMs));
  if (x && cases.has("H")) section("H: batch encrypt, 100 items per call", await caseH(x, 16));
  if (x && cases.has("X")) section("X: XKS proxy API encrypt (AWS KMS's call: SigV4 kms-xks-proxy) vs native encrypt of the same key, 1 KiB", await caseX(x, [1, 16]));
  if (x && cases.has("I")) {
    section("I: start-up", await caseI(x));
    const lambda = await benchLambdaLoad(15);
    section(
      "I: Lambda handler module load (esbuild bundle as deployed; import in a fresh process, 15 runs)",
      Object.fromEntries(Object.entries(lambda).map(([name, v]) => [`I lambda ${name}`, `${v.kib} KiB, load p50 ${v.loadMsP50} ms (min ${v.loadMsMin}), ×${v.vsBaseline} of baseline`])),
    );
    Object.assign(results, Object.fromEntries(Object.entries(lambda).map(([name, v]) => [`I lambda ${name} load p50 ms`, v.loadMsP50])));
  }
  if (x && (cases.has("G") || cases.has("J"))) section(`G/J: ${settings.keys} keys under Zipf(1.0) encrypts; memory with all cached`, await caseGJ(x, settings.keys, 32));
  if (x && cases.has("S")) section(`S: soak, native encrypt at 16 connections for ${settings.soakMinutes} min; the functions' memory and event-loop delay, second window vs last`, await caseS(x, join(tmpdir(), `tether-soak-${process.pid}.jsonl`), settings.soakMinutes));
} finally {
  await stack?.stop();
  await ceiling?.stop();
}
if (cases.has("F")) section("F: unwrap round trips through the connector link vs direct pkcs11js (SoftHSM2, 2 sessions); apigw: emulated API Gateway + DynamoDB Local", await benchLink({ total: settings.total, concurrency: [1, 16, 64], apigwTotal: 1_000, apigwConcurrency: [1, 16] }));

const verdicts = checkTargets(results, settings.delayMs);
say("\nTargets");
for (const v of verdicts) say(`  ${v.met === undefined ? "–" : v.met ? "✓" : "✗"} ${v.target.padEnd(60)} ${v.measured}`);

const dir = join(ROOT, "test/bench/results");
mkdirSync(dir, { recursive: true });
const stamp = machine.date.slice(0, 19).replace(/:/g, "-");
writeFileSync(join(dir, `${stamp}.json`), `${JSON.stringify({ machine, settings, results, targets: verdicts }, null, 2)}\n`);
const md = [
  `# Benchmark ${machine.date}`,
  "",
  `Machine: ${machine.cpus} × ${machine.model}, ${machine.memGiB} GiB, Node ${machine.node}. ${settings.total} requests per row; link delay ${settings.delayMs} ms each way.`,
  "",
  "| figure | value |",
  "| --- | --- |",
  ...Object.entries(results).map(([name, v]) => `| ${name} | ${describe(v).trim().replace(/\|/g, "\\|")} |`),
  "",
  "| target | measured | met |",
  "| --- | --- | --- |",
  ...verdicts.map((v) => `| ${v.target} | ${v.measured} | ${v.met === undefined ? "not run" : v.met ? "yes" : "no"} |`),
  "",
].join("\n");
writeFileSync(join(dir, `${stamp}.md`), md);
say(`\nwritten: test/bench/results/${stamp}.json and .md`);
