import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { WsHsm } from "../../functions/tunnel/ws-hsm.js";
import { isKmsError } from "../../shared/errors.js";
import type { WrappedKey } from "../../shared/hsm/port.js";
import { startConnector, startFunctions, waitForHealth, type ConnectorProcess, type TestStack } from "../support/stack.js";

const binding = Buffer.from("failover-binding");

describe("several connectors: fail-over, outage and return", () => {
  let stack: TestStack;
  let hsm: WsHsm;
  let wrapped: WrappedKey;
  let material: Uint8Array;
  const connectors: ConnectorProcess[] = [];

  beforeAll(async () => {
    stack = await startFunctions();
    connectors.push(await startConnector(stack, "fo-a"), await startConnector(stack, "fo-b"));
    await waitForHealth(stack.url, (h) => h.hsm.connectors === 2);
    hsm = new WsHsm(stack.server.hub);
    const dk = await hsm.generateDataKey(32, binding, { requestId: "setup", deadline: Date.now() + 5_000, returnPlaintext: true });
    wrapped = dk.wrapped;
    material = dk.plaintext as Uint8Array;
  });
  afterAll(async () => {
    await Promise.all(connectors.map((c) => c.stop()));
    await stack?.close();
  });

  it("kill -9 of one connector during a stream of unwraps fails no request", async () => {
    const total = 400;
    let done = 0;
    let failed = 0;
    let killed = false;
    const worker = async () => {
      while (done + failed < total) {
        const i = done + failed;
        try {
          const out = await hsm.unwrap(wrapped, binding, { requestId: `s-${i}`, deadline: Date.now() + 5_000 });
          expect(out).toEqual(material);
          done += 1;
        } catch {
          failed += 1;
        }
        if (!killed && done >= total / 4) {
          killed = true;
          connectors[0]?.child.kill("SIGKILL");
        }
      }
    };
    await Promise.all(Array.from({ length: 8 }, worker));
    expect(killed).toBe(true);
    expect(failed).toBe(0);
    expect(done).toBeGreaterThanOrEqual(total);
    expect(stack.server.hub.ready().map((c) => c.connectorId)).toEqual(["fo-b"]);
    expect(connectors[1]?.child.exitCode).toBeNull();
  });

  it("with every connector gone, requests fail fast with HsmUnavailableException, never hang", async () => {
    connectors[1]?.child.kill("SIGKILL");
    await waitForHealth(stack.url, (h) => h.hsm.connectors === 0);
    const started = Date.now();
    const results = await Promise.allSettled(Array.from({ length: 20 }, (_, i) => hsm.unwrap(wrapped, binding, { requestId: `o-${i}`, deadline: Date.now() + 2_000 })));
    expect(Date.now() - started).toBeLessThan(2_000);
    expect(results.every((r) => r.status === "rejected" && isKmsError(r.reason, "HsmUnavailableException"))).toBe(true);
  });

  it("a connector that comes back serves again within 2 s of dialling in", async () => {
    const started = Date.now();
    const back = await startConnector(stack, "fo-a");
    connectors.push(back);
    await waitForHealth(stack.url, (h) => h.hsm.connectors === 1, 15_000);
    const ready = Date.now();
    expect(await hsm.unwrap(wrapped, binding, { requestId: "back", deadline: Date.now() + 2_000 })).toEqual(material);
    expect(Date.now() - ready).toBeLessThan(2_000);
    // Process start (Node + TypeScript loader + PKCS#11 login) included, for the record:
    expect(Date.now() - started).toBeLessThan(10_000);
  });

  it("a request whose connector answers too late fails at its deadline with DependencyTimeoutException", async () => {
    const started = Date.now();
    const err = await hsm.unwrap(wrapped, binding, { requestId: "late", deadline: Date.now() + 1 }).catch((e: unknown) => e);
    expect(isKmsError(err, "DependencyTimeoutException")).toBe(true);
    expect(Date.now() - started).toBeLessThan(500);
  });
});
