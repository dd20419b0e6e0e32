import { Agent, request } from "node:http";
import * as z from "zod";
import { drive } from "./stats.js";

/**
 * The load generator, run as its own process so it does not share an event loop with the server
 * it measures. Args: one JSON object on argv[2]. Prints one JSON line: the Summary, the status
 * counts, and the median of each Server-Timing metric the server reported.
 */
const LoadArgs = z.object({
  url: z.url(),
  method: z.enum(["GET", "POST"]).default("POST"),
  headers: z.record(z.string(), z.string()).default({}),
  body: z.string().default(""),
  total: z.number().int().min(1).max(1_000_000),
  concurrency: z.number().int().min(1).max(1_000),
  warmup: z.number().int().min(0).max(100_000).default(200),
});
export type LoadArgs = z.input<typeof LoadArgs>;

const args = LoadArgs.parse(JSON.parse(process.argv[2] ?? "{}"));
const agent = new Agent({ keepAlive: true, maxSockets: args.concurrency });
const target = new URL(args.url);
const statuses: Record<string, number> = {};
const timings = new Map<string, number[]>();

const once = (): Promise<void> =>
  new Promise((resolve, reject) => {
    const req = request(
      { agent, host: target.hostname, port: target.port, path: target.pathname, method: args.method, headers: { ...args.headers, "content-length": Buffer.byteLength(args.body) } },
      (res) => {
        statuses[String(res.statusCode)] = (statuses[String(res.statusCode)] ?? 0) + 1;
        for (const [, name, dur] of String(res.headers["server-timing"] ?? "").matchAll(/([\w-]+);dur=([\d.]+)/g)) {
          const list = timings.get(name as string) ?? [];
          list.push(Number(dur));
          timings.set(name as string, list);
        }
        res.resume();
        res.once("end", resolve);
        res.once("error", reject);
      },
    );
    req.once("error", reject);
    req.end(args.body);
  });

await drive(args.warmup, args.concurrency, once);
for (const k of Object.keys(statuses)) delete statuses[k];
timings.clear();
const summary = await drive(args.total, args.concurrency, once);
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] ?? 0;
const serverTiming = Object.fromEntries([...timings].map(([name, xs]) => [name, Math.round(median(xs) * 1000) / 1000]));
agent.destroy();
process.stdout.write(`${JSON.stringify({ ...summary, statuses, serverTiming })}\n`);
