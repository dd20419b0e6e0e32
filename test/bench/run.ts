import { cpus, totalmem } from "node:os";
import * as z from "zod";
import { benchLambdaLoad } from "./lambda-load.js";
import { benchLink } from "./link.js";
import { benchPolicyCost } from "./policy-cost.js";
import { benchRequestCost } from "./request-cost.js";
import type { Summary } from "./stats.js";

/**
 * `npm run bench [-- <cases>]`: bounded, loopback only, stops everything it starts.
 * Cases: B (request cost: A ceiling vs B native encrypt with auth, policy, audit), F (connector
 * link, direct and apigw), L (Lambda handler module load, bundled as deployed).
 */
const Cases = z.array(z.enum(["B", "F", "L"])).default(["B", "F", "L"]);
const cases = Cases.parse(process.argv.length > 2 ? process.argv.slice(2) : undefined);
const say = (line = "") => process.stdout.write(`${line}\n`);

const machine = { cpus: cpus().length, model: cpus()[0]?.model ?? "unknown", memGiB: Math.round(totalmem() / 2 ** 30), node: process.version };
say(`machine: ${JSON.stringify(machine)}`);

const row = (name: string, v: number | (Summary & { serverTiming?: Record<string, number> })) =>
  say(
    typeof v === "number"
      ? `  ${name.padEnd(16)} ${v}`
      : `  ${name.padEnd(16)} ${String(v.perSecond).padStart(7)}/s  p50 ${v.p50} ms  p99 ${v.p99} ms  (n=${v.n})${v.serverTiming && Object.keys(v.serverTiming).length ? `  server median ms: ${JSON.stringify(v.serverTiming)}` : ""}`,
  );

if (cases.includes("B")) {
  const cost = await benchRequestCost({ total: 5_000, concurrency: [1, 16, 50] });
  say("\nA/B: ceiling (raw node:http + AES-GCM) vs native encrypt, cached key, auth + policy + audit on (1 KiB)");
  for (const [name, v] of Object.entries(cost)) row(name, v);
  say("\nKey-policy decision cost, in process (cached key and policy)");
  for (const [name, v] of Object.entries(await benchPolicyCost())) row(name, v);
}
if (cases.includes("F")) {
  const link = await benchLink({ total: 5_000, concurrency: [1, 16, 64], apigwTotal: 1_000, apigwConcurrency: [1, 16] });
  say("\nF: unwrap through the connector link vs direct pkcs11js (SoftHSM2, 2 sessions); apigw: through the emulated API Gateway WebSocket API and DynamoDB Local");
  for (const [name, v] of Object.entries(link)) row(name, v);
}
if (cases.includes("L")) {
  say("\nL: Lambda handler module load (esbuild bundle as deployed; import in a fresh process, 15 runs each)");
  for (const [name, v] of Object.entries(await benchLambdaLoad(15))) say(`  ${name.padEnd(32)} ${String(v.kib).padStart(5)} KiB  load p50 ${v.loadMsP50} ms  min ${v.loadMsMin} ms  ×${v.vsBaseline} of baseline`);
}
