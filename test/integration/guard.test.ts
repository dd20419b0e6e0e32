import { readFileSync } from "node:fs";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { RemoteHsm } from "../../functions/tunnel/remote-hsm.js";
import { waitFor } from "../../infra/local/processes.js";
import { isKmsError } from "../../shared/errors.js";
import { startConnector, startFunctions, waitForHealth, type ConnectorProcess, type TestStack } from "../support/stack.js";

const code = async (p: Promise<unknown>) => p.then(() => "resolved", (err: unknown) => (isKmsError(err) ? err.code : String(err)));
const call = () => ({ requestId: `g-${Math.random().toString(36).slice(2)}`, deadline: Date.now() + 5_000 });

describe("the connector's own guard: allow-lists and rate limit, whatever the cloud asks", () => {
  let stack: TestStack;
  let connector: ConnectorProcess & { auditFile: string };
  let hsm: RemoteHsm;

  beforeAll(async () => {
    stack = await startFunctions();
    connector = await startConnector(stack, "guarded", {
      TETHER_ALLOWED_OPS: "createKey,destroyKey,encrypt,decrypt,random",
      TETHER_ALLOWED_LABELS: "app-*",
      TETHER_RATE_PER_SECOND: "5",
      TETHER_RATE_BURST: "30",
    });
    await waitForHealth(stack, (h) => h.status === "ok");
    hsm = new RemoteHsm(stack.server.hub);
  });
  afterAll(async () => {
    await connector?.stop();
    await stack?.close();
  });

  it("refuses operations outside the list", async () => {
    expect(await code(hsm.generateDataKey(32, Buffer.from("b"), { ...call(), returnPlaintext: true }))).toBe("AccessDeniedException");
    expect(await code(hsm.listKeys("0", call()))).toBe("AccessDeniedException");
    expect(await hsm.random(8, call())).toHaveLength(8);
  });

  it("refuses key labels outside the list", async () => {
    expect(await code(hsm.createKey({ slot: "0", label: "payroll" }, "AES_256", { sensitive: true }, call()))).toBe("AccessDeniedException");
    await hsm.createKey({ slot: "0", label: "app-guarded" }, "AES_256", { sensitive: true }, call());
    await hsm.destroyKey({ slot: "0", label: "app-guarded" }, call());
  });

  it("throttles beyond its rate and records every refusal in its local audit", async () => {
    const results = await Promise.all(Array.from({ length: 60 }, () => code(hsm.random(4, call()))));
    expect(results.filter((r) => r === "ThrottlingException").length).toBeGreaterThan(20);
    expect(results.filter((r) => r === "resolved").length).toBeGreaterThan(0);
    // The connector appends its audit records as it goes.
    await waitFor(
      async () => {
        const lines = readFileSync(connector.auditFile, "utf8").trim().split("\n").map((l) => JSON.parse(l) as { op: string; result: string; label?: string });
        expect(lines).toContainEqual(expect.objectContaining({ op: "createKey", label: "payroll", result: "AccessDeniedException" }));
        expect(lines).toContainEqual(expect.objectContaining({ op: "generateDataKey", result: "AccessDeniedException" }));
        expect(lines.filter((l) => l.op === "random" && l.result === "ThrottlingException").length).toBeGreaterThanOrEqual(results.filter((r) => r === "ThrottlingException").length);
      },
      { timeoutMs: 5_000, what: "the connector's audit of the refusals" },
    );
  });
});
