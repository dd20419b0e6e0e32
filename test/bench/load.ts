import { randomUUID } from "node:crypto";
import { readFileSync } from "node:fs";
import { Hash } from "@smithy/hash-node";
import { HttpRequest } from "@smithy/protocol-http";
import { SignatureV4 } from "@smithy/signature-v4";
import { Agent, request } from "node:http";
import { EncryptCommand, KMSClient } from "@aws-sdk/client-kms";
import * as z from "zod";
import { drive, phaseQuantile } from "./stats.js";

/**
 * The load generator, run as its own process so it does not share an event loop with the server
 * it measures. Args: a file holding one JSON object, named by argv[2]. Prints one JSON line: the Summary, the status
 * counts, and the median of each Server-Timing metric the server reported.
 *
 * Kinds: `http` sends one request shape to `url`, or to one of `paths` picked by Zipf(`zipf`)
 * (rank 1 most often); `kms` calls Encrypt with @aws-sdk/client-kms (SigV4) at `url`; `xks` calls
 * the XKS proxy API's encrypt at `url` as AWS KMS does (SigV4 for kms-xks-proxy, a fresh
 * kmsRequestId and signature per request).
 */
const Common = {
  total: z.number().int().min(1).max(1_000_000),
  concurrency: z.number().int().min(1).max(1_000),
  warmup: z.number().int().min(0).max(100_000).default(200),
};
const LoadArgs = z.discriminatedUnion("kind", [
  z.object({
    kind: z.literal("http"),
    url: z.url(),
    paths: z.array(z.string().startsWith("/")).max(100_000).optional(),
    zipf: z.number().min(0).max(3).default(1),
    method: z.enum(["GET", "POST"]).default("POST"),
    headers: z.record(z.string(), z.string()).default({}),
    body: z.string().default(""),
    ...Common,
  }),
  z.object({
    kind: z.literal("xks"),
    url: z.url(),
    credentials: z.object({ accessKeyId: z.string(), secretAccessKey: z.string() }),
    plaintextB64: z.string(),
    ...Common,
  }),
  z.object({
    kind: z.literal("kms"),
    url: z.url(),
    region: z.string(),
    credentials: z.object({ accessKeyId: z.string(), secretAccessKey: z.string() }),
    keyId: z.string(),
    plaintextB64: z.string(),
    ...Common,
  }),
]);
export type LoadArgs = z.input<typeof LoadArgs>;

const args = LoadArgs.parse(JSON.parse(readFileSync(process.argv[2] ?? "", "utf8")));
const agent = new Agent({ keepAlive: true, maxSockets: args.concurrency });
const statuses: Record<string, number> = {};
const timings = new Map<string, number[]>();
const count = (status: string) => (statuses[status] = (statuses[status] ?? 0) + 1);

/** Picks rank r (0-based) with probability ∝ 1/(r+1)^s, by inverting the cumulative distribution. */
function zipfPicker(n: number, s: number): () => number {
  const cdf = new Float64Array(n);
  let sum = 0;
  for (let r = 0; r < n; r++) cdf[r] = sum += 1 / (r + 1) ** s;
  return () => {
    const u = Math.random() * sum;
    let lo = 0;
    let hi = n - 1;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if ((cdf[mid] as number) < u) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  };
}

function httpOnce(a: Extract<z.infer<typeof LoadArgs>, { kind: "http" }>): () => Promise<void> {
  const target = new URL(a.url);
  const pick = a.paths?.length ? zipfPicker(a.paths.length, a.zipf) : undefined;
  return () =>
    new Promise((resolve, reject) => {
      const path = pick && a.paths ? (a.paths[pick()] as string) : target.pathname;
      const req = request({ agent, host: target.hostname, port: target.port, path, method: a.method, headers: { ...a.headers, "content-length": Buffer.byteLength(a.body) } }, (res) => {
        count(String(res.statusCode));
        for (const [, name, dur] of String(res.headers["server-timing"] ?? "").matchAll(/([\w-]+);dur=([\d.]+)/g)) {
          const list = timings.get(name as string) ?? [];
          list.push(Number(dur));
          timings.set(name as string, list);
        }
        res.resume();
        res.once("end", resolve);
        res.once("error", reject);
      });
      req.once("error", reject);
      req.end(a.body);
    });
}

function kmsOnce(a: Extract<z.infer<typeof LoadArgs>, { kind: "kms" }>): () => Promise<void> {
  const client = new KMSClient({ region: a.region, endpoint: a.url, credentials: a.credentials, requestHandler: { httpAgent: agent }, maxAttempts: 1 });
  const plaintext = Buffer.from(a.plaintextB64, "base64");
  return async () => {
    try {
      await client.send(new EncryptCommand({ KeyId: a.keyId, Plaintext: plaintext }));
      count("200");
    } catch (err) {
      count((err as { name?: string }).name ?? "error");
    }
  };
}

function xksOnce(a: Extract<z.infer<typeof LoadArgs>, { kind: "xks" }>): () => Promise<void> {
  const target = new URL(a.url);
  const signer = new SignatureV4({ credentials: a.credentials, region: "us-east-1", service: "kms-xks-proxy", sha256: Hash.bind(null, "sha256"), applyChecksum: false });
  const metadata = { kmsOperation: "Encrypt", awsPrincipalArn: "arn:aws:iam::123456789012:user/bench", kmsKeyArn: "arn:aws:kms:us-east-1:123456789012:key/bench" };
  return async () => {
    const body = JSON.stringify({ requestMetadata: { kmsRequestId: randomUUID(), ...metadata }, plaintext: a.plaintextB64, encryptionAlgorithm: "AES_GCM" });
    const signed = await signer.sign(new HttpRequest({ method: "POST", protocol: "http:", hostname: target.hostname, port: Number(target.port), path: target.pathname, headers: { host: target.host, "content-type": "application/json" }, body }));
    await new Promise<void>((resolve, reject) => {
      const req = request({ agent, host: target.hostname, port: target.port, path: target.pathname, method: "POST", headers: { ...(signed.headers as Record<string, string>), "content-length": Buffer.byteLength(body) } }, (res) => {
        count(String(res.statusCode));
        res.resume();
        res.once("end", resolve);
        res.once("error", reject);
      });
      req.once("error", reject);
      req.end(body);
    });
  };
}

const once = args.kind === "http" ? httpOnce(args) : args.kind === "xks" ? xksOnce(args) : kmsOnce(args);
await drive(args.warmup, args.concurrency, once);
for (const k of Object.keys(statuses)) delete statuses[k];
timings.clear();
const summary = await drive(args.total, args.concurrency, once);
agent.destroy();
process.stdout.write(`${JSON.stringify({ ...summary, statuses, serverTiming: phaseQuantile(timings, 0.5), serverTimingP99: phaseQuantile(timings, 0.99) })}\n`);
