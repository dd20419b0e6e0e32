import { generateKeyPairSync, randomBytes, sign } from "node:crypto";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import WebSocket from "ws";
import { challengeMessage, PROTOCOL_VERSION } from "../../shared/protocol/frames.js";
import { startConnector, startFunctions, waitForHealth, type ConnectorProcess, type TestStack } from "../support/stack.js";

type Rogue = { ws: WebSocket; frames: string[]; closed: Promise<number> };

const rogue = (url: string): Promise<Rogue> =>
  new Promise((resolve, reject) => {
    const ws = new WebSocket(url);
    const frames: string[] = [];
    const closed = new Promise<number>((r) => ws.on("close", (code) => r(code)));
    ws.on("message", (d) => frames.push(d.toString()));
    ws.on("open", () => resolve({ ws, frames, closed }));
    ws.on("error", reject);
  });

const firstFrame = async (r: Rogue): Promise<{ type: string; nonce: string }> => {
  for (let i = 0; i < 100 && r.frames.length === 0; i++) await new Promise((x) => setTimeout(x, 20));
  return JSON.parse(r.frames[0] as string) as { type: string; nonce: string };
};

const random = async (stack: TestStack) =>
  fetch(`${stack.url}/v1/random`, {
    method: "POST",
    headers: { authorization: `Bearer ${stack.adminToken}`, "content-type": "application/json" },
    body: JSON.stringify({ numberOfBytes: 16 }),
  });

describe("connector link: only authenticated connectors get requests", () => {
  let stack: TestStack;
  let connector: ConnectorProcess;

  beforeAll(async () => {
    stack = await startFunctions();
    connector = await startConnector(stack, "good-1");
    await waitForHealth(stack, (h) => h.status === "ok");
  });
  afterAll(async () => {
    await connector?.stop();
    await stack?.close();
  });

  it("challenges a new peer and receives no request while it stays unauthenticated", async () => {
    const r = await rogue(stack.hubUrl);
    const challenge = await firstFrame(r);
    expect(challenge.type).toBe("challenge");
    for (let i = 0; i < 10; i++) expect((await random(stack)).status).toBe(200);
    expect(r.frames.map((f) => (JSON.parse(f) as { type: string }).type)).toEqual(["challenge"]);
    expect(await r.closed).toBe(4408);
  }, 15_000);

  it("refuses an unknown connector id and a forged signature with 4401", async () => {
    const { privateKey } = generateKeyPairSync("ed25519");
    for (const connectorId of ["nobody", "good-1"]) {
      const r = await rogue(stack.hubUrl);
      const { nonce } = await firstFrame(r);
      const sealingKey = randomBytes(32).toString("base64");
      const signature = sign(null, challengeMessage(nonce, connectorId, sealingKey), privateKey).toString("base64");
      r.ws.send(JSON.stringify({ type: "auth", v: PROTOCOL_VERSION, connectorId, sealingKey, signature }));
      expect(await r.closed).toBe(4401);
      expect(r.frames.some((f) => f.includes('"request"'))).toBe(false);
    }
  });

  it("closes a peer that sends garbage, and only that peer", async () => {
    for (const garbage of ["not json", JSON.stringify({ type: "hello" }), Buffer.from([0, 1, 2]), "x".repeat(300_000)]) {
      const r = await rogue(stack.hubUrl);
      await firstFrame(r);
      r.ws.send(garbage);
      expect([4400, 1009]).toContain(await r.closed);
    }
    const h = await waitForHealth(stack, (x) => x.status === "ok");
    expect(h.hsm.connectors).toBe(1);
    expect((await random(stack)).status).toBe(200);
  });
});

describe("connector link: a flood of unauthenticated peers", () => {
  it("refuses upgrades beyond 32 waiting peers with 503, keeps serving, and accepts again once they are gone", async () => {
    const stack = await startFunctions();
    const connector = await startConnector(stack, "steady-1");
    try {
      await waitForHealth(stack, (h) => h.status === "ok");
      const waiting = await Promise.all(Array.from({ length: 32 }, () => rogue(stack.hubUrl)));
      await expect(rogue(stack.hubUrl)).rejects.toThrow(/503/);
      expect((await random(stack)).status).toBe(200);
      for (const r of waiting) r.ws.close();
      await Promise.all(waiting.map((r) => r.closed));
      const again = await rogue(stack.hubUrl);
      expect((await firstFrame(again)).type).toBe("challenge");
      again.ws.close();
    } finally {
      await connector.stop();
      await stack.close();
    }
  });
});

describe("connector link: one answer to the challenge", () => {
  it("a peer that floods auth frames is cut off after the first, and costs one credential lookup", async () => {
    const stack = await startFunctions();
    let lookups = 0;
    // Count lookups through the server's own identity store.
    const serverIdentity = stack.server.deps.identity as typeof stack.identity;
    const original = serverIdentity.getConnector.bind(serverIdentity);
    serverIdentity.getConnector = async (id: string) => {
      lookups += 1;
      return original(id);
    };
    try {
      const r = await rogue(stack.hubUrl);
      const { nonce } = await firstFrame(r);
      const { privateKey } = generateKeyPairSync("ed25519");
      const sealingKey = randomBytes(32).toString("base64");
      const signature = sign(null, challengeMessage(nonce, "flood", sealingKey), privateKey).toString("base64");
      for (let i = 0; i < 200; i++) r.ws.send(JSON.stringify({ type: "auth", v: PROTOCOL_VERSION, connectorId: "flood", sealingKey, signature }));
      expect(await r.closed).toBe(4401);
      expect(lookups).toBe(1);
    } finally {
      await stack.close();
    }
  });
});
