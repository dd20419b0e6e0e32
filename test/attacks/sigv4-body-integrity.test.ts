import { execFile } from "node:child_process";
import { createServer, request } from "node:http";
import type { AddressInfo } from "node:net";
import { promisify } from "node:util";
import { EncryptCommand, KMSClient } from "@aws-sdk/client-kms";
import { Hash } from "@smithy/hash-node";
import { HttpRequest } from "@smithy/protocol-http";
import { SignatureV4 } from "@smithy/signature-v4";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ensureCommand } from "../../infra/local/prereqs.js";
import { accessKeyFor, startConnector, startFunctions, waitForHealth, type ConnectorProcess, type TestStack } from "../support/stack.js";

const run = promisify(execFile);

type Captured = { headers: Record<string, string>; body: string };

/**
 * Guarantee attacked: a SigV4 signature vouches for the whole request, body included. Whoever
 * captures one signed request (a log, a proxy, a browser extension) must not be able to send
 * another body under its signature: encrypt their own plaintext, decrypt another ciphertext, or
 * turn a DescribeKey into a ScheduleKeyDeletion.
 */
describe("attack: replaying a captured SigV4 signature with another body", () => {
  let stack: TestStack;
  let connector: ConnectorProcess;
  let credentials: { accessKeyId: string; secretAccessKey: string };
  let keyId = "";

  beforeAll(async () => {
    ensureCommand("curl");
    stack = await startFunctions();
    connector = await startConnector(stack);
    await waitForHealth(stack, (h) => h.status === "ok");
    credentials = await accessKeyFor(stack);
    const res = await fetch(`${stack.url}/v1/keys`, { method: "POST", headers: { authorization: `Bearer ${stack.adminToken}`, "content-type": "application/json" }, body: "{}" });
    keyId = ((await res.json()) as { keyMetadata: { keyId: string } }).keyMetadata.keyId;
  });
  afterAll(async () => {
    await connector?.stop();
    await stack?.close();
  });

  /** What the AWS SDK for JavaScript puts on the wire for a command, signed, without sending it. */
  async function signedBySdk(command: EncryptCommand): Promise<Captured> {
    const kms = new KMSClient({ endpoint: stack.url, region: "us-east-1", credentials, maxAttempts: 1 });
    let captured: Captured | undefined;
    kms.middlewareStack.add(
      (_next) => async (args) => {
        const req = args.request as HttpRequest;
        captured = { headers: { ...req.headers }, body: String(req.body) };
        throw new Error("captured, not sent");
      },
      { step: "deserialize", name: "capture", priority: "low" },
    );
    await kms.send(command).catch(() => undefined);
    kms.destroy();
    if (!captured) throw new Error("the SDK sent nothing");
    return captured;
  }

  /** Sends the captured headers (Content-Length included: the attacker keeps the length) with `body`. */
  const send = (c: Captured, body: string) => {
    const { host: _host, ...headers } = c.headers;
    return fetch(`${stack.url}/`, { method: "POST", headers, body });
  };
  // As long as the victim's body, so that even a signed Content-Length matches.
  const otherBody = () => JSON.stringify({ KeyId: keyId, Plaintext: Buffer.from("attacker plaintext").toString("base64") });

  it("the JS SDK signs x-amz-content-sha256; the body must still hash to it", async () => {
    const c = await signedBySdk(new EncryptCommand({ KeyId: keyId, Plaintext: Buffer.from("victim's plaintext") }));
    expect(c.headers.authorization).toContain("x-amz-content-sha256");
    expect(otherBody().length).toBe(c.body.length);
    const res = await send(c, otherBody());
    expect(res.status).toBe(400);
    expect(((await res.json()) as { __type: string }).__type).toBe("InvalidSignatureException");
    // The request as signed still works.
    expect((await send(c, c.body)).status).toBe(200);
  });

  it("UNSIGNED-PAYLOAD is refused: a KMS signature always covers the body", async () => {
    const signer = new SignatureV4({ credentials, region: "us-east-1", service: "kms", sha256: Hash.bind(null, "sha256") });
    const url = new URL(stack.url);
    const signed = await signer.sign(
      new HttpRequest({
        method: "POST",
        protocol: "http:",
        hostname: url.hostname,
        port: Number(url.port),
        path: "/",
        headers: { host: url.host, "content-type": "application/x-amz-json-1.1", "x-amz-target": "TrentService.Encrypt", "x-amz-content-sha256": "UNSIGNED-PAYLOAD" },
        body: "{}",
      }),
    );
    const res = await send({ headers: signed.headers, body: "" }, otherBody());
    expect(res.status).toBe(400);
    expect(((await res.json()) as { __type: string }).__type).toBe("InvalidSignatureException");
  });

  it("curl --aws-sigv4 (no x-amz-content-sha256, as botocore): works, and a changed body fails", async () => {
    const body = JSON.stringify({ KeyId: keyId, Plaintext: Buffer.from("from curl").toString("base64") });
    const curl = (data: string) =>
      run("curl", ["-s", "-w", "\n%{http_code}", "--aws-sigv4", "aws:amz:us-east-1:kms", "--user", `${credentials.accessKeyId}:${credentials.secretAccessKey}`, "-H", "X-Amz-Target: TrentService.Encrypt", "-H", "Content-Type: application/x-amz-json-1.1", "--data-binary", data, `${stack.url}/`]);
    const ok = await curl(body);
    expect(ok.stdout.trim().split("\n").at(-1)).toBe("200");
    expect(JSON.parse(ok.stdout.trim().split("\n")[0] ?? "{}")).toMatchObject({ KeyId: expect.stringContaining(keyId) });
    // Capture what curl signs (sent to a listener that keeps it), then deliver it with another body.
    const sent = await new Promise<Record<string, string>>((resolve) => {
      const trap = createServer((req, res) => {
        resolve(Object.fromEntries(Object.entries(req.headers).map(([k, v]) => [k, String(v)])));
        res.writeHead(500).end();
        trap.close();
      }).listen(0, "127.0.0.1");
      const curlTo = (port: number) => run("curl", ["-s", "--aws-sigv4", "aws:amz:us-east-1:kms", "--user", `${credentials.accessKeyId}:${credentials.secretAccessKey}`, "-H", "X-Amz-Target: TrentService.Encrypt", "-H", "Content-Type: application/x-amz-json-1.1", "--data-binary", body, `http://127.0.0.1:${port}/`]);
      trap.once("listening", () => void curlTo((trap.address() as AddressInfo).port).catch(() => undefined));
    });
    expect(sent.authorization).toMatch(/^AWS4-HMAC-SHA256 /);
    expect(sent["x-amz-content-sha256"]).toBeUndefined();
    const forged = await new Promise<number>((resolve, reject) => {
      const { "content-length": _length, ...headers } = sent;
      const req = request(`${stack.url}/`, { method: "POST", headers }, (res) => {
        res.resume();
        resolve(res.statusCode ?? 0);
      });
      req.on("error", reject);
      req.end(otherBody());
    });
    expect(forged).toBe(400);
  });
});
