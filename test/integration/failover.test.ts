import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { RemoteHsm } from "../../functions/tunnel/remote-hsm.js";
import { isKmsError } from "../../shared/errors.js";
import type { WrappedKey } from "../../shared/hsm/port.js";
import { startTcpProxy } from "../support/tcp-proxy.js";
import { exitOf, startConnector, startFunctions, waitForHealth, type ConnectorProcess, type TestStack } from "../support/stack.js";

const binding = Buffer.from("failover-binding");

describe("several connectors: fail-over, outage and return", () => {
  let stack: TestStack;
  let hsm: RemoteHsm;
  let wrapped: WrappedKey;
  let material: Uint8Array;
  const connectors: ConnectorProcess[] = [];

  beforeAll(async () => {
    stack = await startFunctions();
    connectors.push(await startConnector(stack, "fo-a"), await startConnector(stack, "fo-b"));
    await waitForHealth(stack, (h) => h.hsm.connectors === 2);
    hsm = new RemoteHsm(stack.server.hub);
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
    expect((await stack.server.hub.ready()).map((c) => c.connectorId)).toEqual(["fo-b"]);
    expect(connectors[1]?.child.exitCode).toBeNull();
  });

  it("with every connector gone, requests fail fast with HsmUnavailableException, never hang", async () => {
    connectors[1]?.child.kill("SIGKILL");
    await waitForHealth(stack, (h) => h.hsm.connectors === 0);
    const started = Date.now();
    const results = await Promise.allSettled(Array.from({ length: 20 }, (_, i) => hsm.unwrap(wrapped, binding, { requestId: `o-${i}`, deadline: Date.now() + 2_000 })));
    expect(Date.now() - started).toBeLessThan(2_000);
    expect(results.every((r) => r.status === "rejected" && isKmsError(r.reason, "HsmUnavailableException"))).toBe(true);
  });

  it("a connector that comes back serves again within 2 s of dialling in", async () => {
    const started = Date.now();
    const back = await startConnector(stack, "fo-a");
    connectors.push(back);
    await waitForHealth(stack, (h) => h.hsm.connectors === 1, 15_000).catch((err: Error) => {
      throw new Error(`${err.message}\nconnector fo-a said:\n${back.output().slice(-3000)}`);
    });
    const ready = Date.now();
    expect(await hsm.unwrap(wrapped, binding, { requestId: "back", deadline: Date.now() + 2_000 })).toEqual(material);
    expect(Date.now() - ready).toBeLessThan(2_000);
    // Process start (Node + TypeScript loader + PKCS#11 login) included, for the record:
    expect(Date.now() - started).toBeLessThan(10_000);
  });

});

describe("graceful drain", () => {
  it("SIGTERM on one of two connectors: in-flight requests finish, new ones go to the other, none fails", async () => {
    const stack = await startFunctions();
    const a = await startConnector(stack, "drain-a");
    const b = await startConnector(stack, "drain-b");
    try {
      await waitForHealth(stack, (h) => h.hsm.connectors === 2);
      const hsm = new RemoteHsm(stack.server.hub);
      const dk = await hsm.generateDataKey(32, binding, { requestId: "d", deadline: Date.now() + 5_000, returnPlaintext: true });
      let failed = 0;
      let done = 0;
      let signalled = false;
      await Promise.all(
        Array.from({ length: 8 }, async () => {
          while (done + failed < 400) {
            const i = done + failed;
            await hsm.unwrap(dk.wrapped, binding, { requestId: `d-${i}`, deadline: Date.now() + 5_000 }).then(
              () => (done += 1),
              () => (failed += 1),
            );
            if (!signalled && done >= 100) {
              signalled = true;
              a.child.kill("SIGTERM");
            }
          }
        }),
      );
      expect(failed).toBe(0);
      expect(await exitOf(a.child)).toEqual({ code: 0, signal: null });
      expect((await stack.server.hub.ready()).map((c) => c.connectorId)).toEqual(["drain-b"]);
    } finally {
      await Promise.all([a.stop(), b.stop()]);
      await stack.close();
    }
  });
});

describe("deadlines", () => {
  it("a connector that answers too late fails the request at its deadline with DependencyTimeoutException", async () => {
    const stack = await startFunctions();
    const slowLink = await startTcpProxy(Number(new URL(stack.url).port), { delayMs: 150 });
    const connector = await startConnector({ ...stack, hubUrl: `ws://127.0.0.1:${slowLink.port}/connector` });
    try {
      await waitForHealth(stack, (h) => h.hsm.connectors === 1);
      const hsm = new RemoteHsm(stack.server.hub);
      let started = Date.now();
      const err = await hsm.random(8, { requestId: "late", deadline: Date.now() + 100 }).catch((e: unknown) => e);
      expect(isKmsError(err, "DependencyTimeoutException")).toBe(true);
      expect(Date.now() - started).toBeGreaterThanOrEqual(95);
      expect(Date.now() - started).toBeLessThan(400);
      started = Date.now();
      expect(await hsm.random(8, { requestId: "patient", deadline: Date.now() + 3_000 })).toHaveLength(8);
      expect(Date.now() - started).toBeGreaterThanOrEqual(300);
    } finally {
      await connector.stop();
      await slowLink.close();
      await stack.close();
    }
  });
});
