import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { TestProject } from "vitest/node";
import { bundleForNode } from "../../infra/aws/bundle.js";
import { ROOT } from "../../infra/local/processes.js";
import { startBackends } from "../../infra/local/stack.js";
import { killRecordedChildren } from "./children.js";

/** What every integration test file gets: one SoftHSM2 token and one in-memory DynamoDB Local per run. */
export type TestBackends = {
  stateDir: string;
  dynamoEndpoint: string;
  dynamoPid: number;
  softhsmConf: string;
  modulePath: string;
  tokenLabel: string;
  rootKeyLabel: string;
  userPinFile: string;
  soPinFile: string;
  functionsIdentity: { keyFile: string; publicKeyFile: string };
  /** The connector as one esbuild bundle, built once per run: every test starts it without a TypeScript loader. */
  connectorBundle: string;
};

declare module "vitest" {
  export interface ProvidedContext {
    backends: TestBackends;
  }
}

export default async function setup(project: TestProject) {
  const stateDir = mkdtempSync(join(tmpdir(), "tether-test-"));
  const say = (line: string) => process.stderr.write(`${line}\n`);
  const backends = await startBackends({ stateDir, persistent: false, say }).catch((err: unknown) => {
    rmSync(stateDir, { recursive: true, force: true });
    throw new Error(`integration tests need SoftHSM2 and DynamoDB Local: ${err instanceof Error ? err.message : String(err)}`);
  });
  // Under the repository's node_modules, so that the bundle finds pkcs11js (kept outside it); one per run.
  const bundles = join(ROOT, "node_modules", ".cache", "tether-test", String(process.pid));
  const { file: connectorBundle } = await bundleForNode("connector/main.ts", bundles);
  // Seen by the `leaks` project, which runs after this one (see test/support/leak-ledger.ts).
  process.env.TETHER_TEST_STATE_DIR = stateDir;
  process.env.TETHER_TEST_DYNAMO_ENDPOINT = backends.dynamo.endpoint;
  project.provide("backends", {
    stateDir,
    dynamoEndpoint: backends.dynamo.endpoint,
    dynamoPid: backends.dynamo.pid,
    softhsmConf: backends.token.conf,
    modulePath: backends.token.modulePath,
    tokenLabel: backends.token.tokenLabel,
    rootKeyLabel: backends.token.rootKeyLabel,
    userPinFile: backends.userPinFile,
    soPinFile: join(stateDir, "softhsm", "so-pin"),
    functionsIdentity: backends.functionsIdentity,
    connectorBundle,
  });
  return async () => {
    const left = killRecordedChildren(stateDir);
    if (left.length) process.stderr.write(`integration teardown: stopped ${left.length} process(es) a test left running (PIDs ${left.join(", ")})\n`);
    await backends.stop();
    rmSync(stateDir, { recursive: true, force: true });
    rmSync(bundles, { recursive: true, force: true });
  };
}
