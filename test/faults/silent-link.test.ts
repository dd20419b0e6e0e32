import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { waitFor } from "../../infra/local/processes.js";
import { CONNECTOR_PATH } from "../../shared/protocol/frames.js";
import { startTcpProxy, type TcpProxy } from "../support/tcp-proxy.js";
import { apiOf, expectWholeAudit, getHealth, startConnector, startFunctions, waitForHealth, type ConnectorProcess, type TestStack } from "../support/stack.js";

const DEADLINE_MS = 2_000;
const HEARTBEAT_MS = 500;
const MAX_IN_FLIGHT = 4;
const MARGIN_MS = 1_500;

/**
 * A relay that keeps the connector's connection open and forwards nothing (a hung load balancer,
 * a half-dead NAT): nobody gets an error from the network, so only deadlines and heartbeats can
 * notice. Requests must end at their deadline, both ends must drop the link within a few
 * heartbeats, the connector must redial (a silent relay that accepts connections and never
 * completes a handshake included), and the hub must not queue more than the connector allows.
 */
describe("fault: a silent link between the connector and the hub", () => {
  let stack: TestStack;
  let proxy: TcpProxy;
  let connector: ConnectorProcess;
  const api = (method: string, path: string, body?: unknown) => apiOf(stack)(method, path, body);
  const timed = async (work: () => Promise<{ status: number; body: Record<string, unknown> }>) => {
    const started = Date.now();
    const r = await work();
    return { status: r.status, type: r.body.__type as string | undefined, ms: Date.now() - started };
  };
  const hsmEncrypt = () => timed(() => api("POST", "/v1/hsm-keys/hsm::0::silent-link/encrypt", { plaintext: "aGk=" }));
  const connectors = async () => (await getHealth(stack)).body.hsm.connectors;

  beforeAll(async () => {
    stack = await startFunctions({ requestTimeoutMs: DEADLINE_MS, env: { TETHER_CONNECTOR_HEARTBEAT_MS: String(HEARTBEAT_MS), TETHER_HEALTH_CACHE_MS: "0" } });
    proxy = await startTcpProxy(Number(new URL(stack.url).port));
    const hubUrl = `ws://127.0.0.1:${proxy.port}${CONNECTOR_PATH}`;
    connector = await startConnector({ ...stack, hubUrl }, "silent-link", { TETHER_HEARTBEAT_MS: String(HEARTBEAT_MS), TETHER_MAX_IN_FLIGHT: String(MAX_IN_FLIGHT) });
    await waitForHealth(stack, (h) => h.hsm.connectors === 1);
    expect((await api("POST", "/v1/hsm-keys", { label: "silent-link", keySpec: "AES_256" })).status).toBe(201);
  });
  afterAll(async () => {
    await connector?.stop();
    await proxy?.close();
    await stack?.close();
  });

  it("requests end at their deadline, at most maxInFlight wait on the silent connector, both ends drop it within a few heartbeats, and it comes back", async () => {
    expect((await hsmEncrypt()).status).toBe(200);
    proxy.freeze();
    const frozenAt = Date.now();
    const answers = await Promise.all(Array.from({ length: 3 * MAX_IN_FLIGHT }, () => hsmEncrypt()));
    const waited = answers.filter((a) => a.status === 503);
    const refused = answers.filter((a) => a.status === 429);
    expect(waited.length + refused.length, JSON.stringify(answers)).toBe(answers.length);
    // No more than the connector allows were sent down the silent link; the rest were refused at once, not queued.
    expect(waited.length).toBeLessThanOrEqual(MAX_IN_FLIGHT);
    for (const a of waited) {
      expect(["DependencyTimeoutException", "HsmUnavailableException"]).toContain(a.type);
      expect(a.ms).toBeLessThan(DEADLINE_MS + MARGIN_MS);
    }
    for (const a of refused) expect({ type: a.type, fast: a.ms < 1_000 }).toEqual({ type: "ThrottlingException", fast: true });

    // The hub drops the silent connector; the connector hangs up on the silent hub.
    await waitForHealth(stack, (h) => h.hsm.connectors === 0);
    const hubNoticedMs = Date.now() - frozenAt;
    expect(hubNoticedMs).toBeLessThan(4 * HEARTBEAT_MS + MARGIN_MS + DEADLINE_MS);
    await waitFor(async () => expect(connector.output()).toContain("the hub stopped answering"), { timeoutMs: 20 * HEARTBEAT_MS, what: "the connector to notice" });
    // With no connector, requests fail fast.
    expect(await hsmEncrypt()).toMatchObject({ status: 503, type: "HsmUnavailableException" });

    // While the relay stays silent, each dial's handshake times out and the connector dials again; once it forwards, it is back.
    const redials = () => connector.output().split("link closed, redialling").length - 1;
    const before = redials();
    await waitFor(async () => expect(redials()).toBeGreaterThanOrEqual(before + 2), { timeoutMs: 20 * HEARTBEAT_MS, what: "two more dials" });
    expect(await connectors()).toBe(0);
    proxy.thaw();
    await waitForHealth(stack, (h) => h.hsm.connectors === 1);
    expect((await hsmEncrypt()).status).toBe(200);
    await expectWholeAudit(stack);
  });
});
