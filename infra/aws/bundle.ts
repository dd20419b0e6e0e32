import { build } from "esbuild";
import { join } from "node:path";

/** The Lambda entry points, as infra/aws/functions.ts names them. */
export const LAMBDA_ENTRIES = { http: "functions/lambda.ts", hub: "functions/lambda-hub.ts", sweeper: "functions/lambda-sweeper.ts" } as const;
export type LambdaName = keyof typeof LAMBDA_ENTRIES;

/**
 * Bundles an entry point the way SST deploys the Lambda handlers (infra/aws/functions.ts: esm,
 * minified, node20): the handlers, so their size and module load can be measured and the bundles
 * exercised here, and the Node server (functions/node.ts) and the connector (connector/main.ts)
 * as production builds. ESM bundles of CommonJS dependencies need `require` for Node built-ins:
 * the banner provides it, as SST's does. pkcs11js (a native addon) stays outside, resolved from
 * the node_modules above the bundle.
 */
export async function bundleForNode(entry: string, outDir: string): Promise<{ file: string; bytes: number }> {
  const file = join(outDir, `${entry.replace(/^functions\//, "").replace(/\.ts$/, "")}.mjs`);
  const out = await build({
    entryPoints: [entry],
    outfile: file,
    bundle: true,
    platform: "node",
    target: "node20",
    format: "esm",
    minify: true,
    metafile: true,
    external: ["pkcs11js"],
    logLevel: "warning",
    banner: { js: "import { createRequire as __tetherRequire } from 'node:module'; const require = __tetherRequire(import.meta.url);" },
  });
  return { file, bytes: Object.values(out.metafile.outputs)[0]?.bytes ?? 0 };
}
