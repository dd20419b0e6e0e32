import { spawnSync } from "node:child_process";
import { generateKeyPairSync } from "node:crypto";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { bundleForNode, LAMBDA_ENTRIES } from "../../infra/aws/bundle.js";

export type LoadFigure = { kib: number; loadMsP50: number; loadMsMin: number; vsBaseline: number };

/** The environment SST gives the functions (nothing is contacted at module load). */
const LAMBDA_ENV = {
  TETHER_TABLE: "tether-prod-main",
  TETHER_FUNCTIONS_IDENTITY_KEY: generateKeyPairSync("ed25519").privateKey.export({ type: "pkcs8", format: "pem" }).toString(),
  TETHER_REGION: "us-east-1",
  TETHER_HUB_ENDPOINT: "https://abc123.execute-api.us-east-1.amazonaws.com/prod",
  TETHER_OPERATOR_TENANT: "123456789012",
  AWS_REGION: "us-east-1",
  AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: "true",
};

/**
 * Lambda cold start, the part Tether controls: each handler bundled as deployed (esbuild, esm,
 * minified), then imported `runs` times, each in a fresh Node process, timing the import alone.
 * The baseline, in the same run: a bundle that only builds a DynamoDB client.
 */
export async function benchLambdaLoad(runs: number): Promise<Record<string, LoadFigure>> {
  const dir = mkdtempSync(join(tmpdir(), "tether-lambda-"));
  try {
    const entries: Record<string, string> = { "baseline (DynamoDB client only)": "test/bench/dynamodb-client-only.ts", ...LAMBDA_ENTRIES };
    const measured: Record<string, { kib: number; times: number[] }> = {};
    for (const [name, entry] of Object.entries(entries)) {
      const { file, bytes } = await bundleForNode(entry, dir);
      const times: number[] = [];
      for (let i = 0; i < runs; i++) {
        // Sequential by design: one child at a time, so runs do not compete for the CPU.
        const child = spawnSync(process.execPath, ["--input-type=module", "-e", `const t = performance.now(); await import(${JSON.stringify(file)}); process.stdout.write(String(performance.now() - t));`], {
          env: { PATH: process.env.PATH ?? "", ...LAMBDA_ENV },
          encoding: "utf8",
          timeout: 30_000,
        });
        if (child.status !== 0) throw new Error(`loading the ${name} bundle failed: ${child.stderr.slice(0, 500)}`);
        times.push(Number(child.stdout));
      }
      times.sort((a, b) => a - b);
      measured[name] = { kib: Math.round(bytes / 1024), times };
    }
    const p50 = (t: number[]) => t[Math.floor(t.length / 2)] ?? 0;
    const baseline = p50(Object.values(measured)[0]?.times ?? []);
    return Object.fromEntries(
      Object.entries(measured).map(([name, m]) => [name, { kib: m.kib, loadMsP50: Math.round(p50(m.times)), loadMsMin: Math.round(m.times[0] ?? 0), vsBaseline: Math.round((p50(m.times) / baseline) * 100) / 100 }]),
    );
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
