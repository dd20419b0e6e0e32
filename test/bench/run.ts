import { cpus, totalmem } from "node:os";
import { benchLink } from "./link.js";

/** `npm run bench`: bounded, loopback only, stops everything it starts. */
const machine = { cpus: cpus().length, model: cpus()[0]?.model ?? "unknown", memGiB: Math.round(totalmem() / 2 ** 30), node: process.version };
process.stdout.write(`machine: ${JSON.stringify(machine)}\n`);
const link = await benchLink({ total: 5_000, concurrency: [1, 16, 64] });
process.stdout.write("\nF: unwrap through the connector link vs direct pkcs11js (SoftHSM2, 2 sessions)\n");
for (const [name, v] of Object.entries(link)) {
  process.stdout.write(typeof v === "number" ? `  ${name.padEnd(16)} ${v}\n` : `  ${name.padEnd(16)} ${String(v.perSecond).padStart(7)}/s  p50 ${v.p50} ms  p99 ${v.p99} ms  (n=${v.n})\n`);
}
