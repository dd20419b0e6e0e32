import { execFile } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ensureAwsCli } from "../../infra/local/prereqs.js";
import { rememberSecrets } from "../support/leak-ledger.js";
import { accessKeyFor, startConnector, startFunctions, waitForHealth, type ConnectorProcess, type TestStack } from "../support/stack.js";

/** AWS CLI v2 (Debian's awscli) against Tether with a Tether-issued access key in a shared-credentials file. */
describe("AWS CLI: aws kms encrypt / decrypt --endpoint-url", () => {
  let stack: TestStack;
  let connector: ConnectorProcess;
  let dir: string;
  let aws: string;
  let env: Record<string, string>;

  beforeAll(async () => {
    aws = ensureAwsCli();
    stack = await startFunctions();
    connector = await startConnector(stack, "aws-cli");
    await waitForHealth(stack, (h) => h.status === "ok");
    const accessKey = await accessKeyFor(stack);
    dir = mkdtempSync(join(tmpdir(), "tether-cli-"));
    writeFileSync(join(dir, "credentials"), `[tether]\naws_access_key_id = ${accessKey.accessKeyId}\naws_secret_access_key = ${accessKey.secretAccessKey}\n`, { mode: 0o600 });
    env = { PATH: process.env.PATH ?? "", HOME: dir, AWS_SHARED_CREDENTIALS_FILE: join(dir, "credentials"), AWS_CONFIG_FILE: join(dir, "config"), AWS_PROFILE: "tether", AWS_REGION: "us-east-1", AWS_PAGER: "" };
  });
  afterAll(async () => {
    await stack?.close();
    await connector?.stop();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  /** Runs the CLI without blocking this process's event loop (the functions under test run in it). */
  const cli = (...args: string[]) =>
    new Promise<{ status: number; out: string; err: string }>((resolve) => {
      execFile(aws, [...args, "--endpoint-url", stack.url, "--output", "text"], { env, encoding: "utf8", timeout: 60_000 }, (error, stdout, stderr) =>
        resolve({ status: error ? Number(error.code ?? 1) : 0, out: stdout.trim(), err: stderr.trim() }),
      );
    });

  it("creates a key, encrypts a file with an encryption context and decrypts it back; a wrong context fails with AWS's error", async () => {
    const created = await cli("kms", "create-key", "--description", "from the AWS CLI", "--query", "KeyMetadata.KeyId");
    expect(created.err).toBe("");
    const keyId = created.out;
    expect(keyId).toMatch(/^[0-9a-f-]{36}$/);
    const secret = "a secret for the AWS CLI round trip";
    rememberSecrets(secret);
    writeFileSync(join(dir, "plain.txt"), secret);
    const enc = await cli("kms", "encrypt", "--key-id", keyId, "--plaintext", `fileb://${join(dir, "plain.txt")}`, "--encryption-context", "app=cli", "--query", "CiphertextBlob");
    expect(enc.status).toBe(0);
    writeFileSync(join(dir, "cipher.bin"), Buffer.from(enc.out, "base64"));
    const dec = await cli("kms", "decrypt", "--ciphertext-blob", `fileb://${join(dir, "cipher.bin")}`, "--encryption-context", "app=cli", "--query", "Plaintext");
    expect(dec.status).toBe(0);
    expect(Buffer.from(dec.out, "base64").toString()).toBe(secret);
    const wrong = await cli("kms", "decrypt", "--ciphertext-blob", `fileb://${join(dir, "cipher.bin")}`, "--encryption-context", "app=other");
    expect(wrong.status).not.toBe(0);
    expect(wrong.err).toContain("InvalidCiphertextException");
  });
});
