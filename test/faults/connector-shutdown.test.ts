import { describe, expect, it } from "vitest";
import { RemoteHsm } from "../../functions/tunnel/remote-hsm.js";
import { exitOf, startConnector, startFunctions, waitForHealth } from "../support/stack.js";

const binding = Buffer.from("shutdown-binding");

/**
 * Fault: a connector told to stop (SIGTERM: a deploy, a systemd restart) while requests keep
 * arriving. Calls already on the HSM's threads must finish before the module is finalized:
 * C_Finalize under a running C_*Async call crashes the process (SIGSEGV) instead of a clean exit.
 */
describe("fault: SIGTERM while requests keep arriving", () => {
  it("the connector exits cleanly every time, and no request gets a wrong answer", async () => {
    const stack = await startFunctions();
    try {
      for (let round = 0; round < 6; round++) {
        const connector = await startConnector(stack, `term-${round}`);
        await waitForHealth(stack, (h) => h.hsm.connectors === 1);
        const hsm = new RemoteHsm(stack.server.hub);
        const dk = await hsm.generateDataKey(32, binding, { requestId: `dk-${round}`, deadline: Date.now() + 5_000, returnPlaintext: true });
        const outcome = { ok: 0, wrong: 0, failed: 0 };
        let stop = false;
        const load = Promise.all(
          Array.from({ length: 16 }, async (_, w) => {
            for (let i = 0; !stop; i++) {
              await hsm.unwrap(dk.wrapped, binding, { requestId: `u-${round}-${w}-${i}`, deadline: Date.now() + 2_000 }).then(
                (key) => (Buffer.from(key).equals(Buffer.from(dk.plaintext ?? [])) ? outcome.ok++ : outcome.wrong++),
                () => outcome.failed++,
              );
              // A refusal can come back without touching the event loop: let timers and exits run.
              await new Promise((r) => setImmediate(r));
            }
          }),
        );
        // Stop it at a different point of the load each round.
        await expect.poll(() => outcome.ok, { timeout: 10_000, interval: 5 }).toBeGreaterThanOrEqual(40 + round * 37);
        connector.child.kill("SIGTERM");
        // Waits for the exit itself; the timer only bounds the wait, so that a connector that never exits fails with a name.
        let bound: NodeJS.Timeout | undefined;
        const exit = await Promise.race([exitOf(connector.child), new Promise((r) => (bound = setTimeout(() => r("still running 15 s after SIGTERM"), 15_000)))]);
        clearTimeout(bound);
        stop = true;
        await load;
        await connector.stop();
        expect(exit, `round ${round}`).toEqual({ code: 0, signal: null });
        expect(outcome.wrong).toBe(0);
      }
    } finally {
      await stack.close();
    }
  });
});
