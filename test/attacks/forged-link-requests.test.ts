import { generateKeyPairSync } from "node:crypto";
import { describe, expect, it } from "vitest";
import { mac, SealKeys } from "../../shared/crypto/seal.js";
import { toB64 } from "../../shared/protocol/codec.js";
import { requestMacInput } from "../../shared/protocol/frames.js";
import { MemoryHsm } from "../../shared/hsm/memory-hsm.js";
import type { RequestFrame } from "../../shared/protocol/frames.js";
import { LinkChannel, Requester } from "../../functions/tunnel/channel.js";
import { noAudit } from "../../connector/audit.js";
import { Guard } from "../../connector/guard.js";
import { createDispatcher } from "../../connector/tunnel/dispatch.js";

/**
 * Guarantee attacked: the connector acts only on requests the functions made. Whoever holds the
 * relay (or reaches the connector's link) cannot replay a request, alter one, or make one with a
 * requester key the functions' identity did not certify, or that is expired.
 */
// The functions' end of the channel, as the hub builds it (functions/tunnel/channel.ts).
const functions = generateKeyPairSync("ed25519");
const connectorKeys = new SealKeys("connector");

const setup = (o: { trusted?: ReturnType<typeof generateKeyPairSync>["publicKey"][]; now?: () => number } = {}) => {
  const hsm = new MemoryHsm();
  const dispatcher = createDispatcher({
    wrapping: hsm,
    resident: hsm,
    keys: connectorKeys,
    trusted: o.trusted ?? [functions.publicKey],
    guard: new Guard({ allowedOps: ["*"], allowedLabels: ["*"], ratePerSecond: 1_000, burst: 1_000 }),
    audit: noAudit,
    ...(o.now ? { now: o.now } : {}),
  });
  const channel = new LinkChannel(new Requester(functions.privateKey).keys(), { connectorId: "c", sealingKey: connectorKeys.publicKey });
  const request = (id: number, deadline = Date.now() + 5_000): RequestFrame => channel.request({ id, op: "random", params: { length: 8 }, deadline, requestId: `r-${id}` });
  return { dispatcher, channel, request };
};

describe("the connector authenticates every request before serving it", () => {
  it("serves a request the functions certify, and authenticates its answer", async () => {
    const { dispatcher, channel, request } = setup();
    const frame = request(1);
    const answer = await dispatcher.serve(frame);
    expect(answer).toMatchObject({ ok: true });
    expect(() => channel.checkAnswer(frame, answer)).not.toThrow();
  });

  it("refuses a replay, an altered request, an untrusted identity, an expired certificate and a far deadline", async () => {
    const { dispatcher, request } = setup();
    const refused = async (frame: RequestFrame) => {
      const answer = await dispatcher.serve(frame);
      expect(answer.ok).toBe(false);
      return answer.ok ? "" : answer.error.code;
    };
    const once = request(2);
    await dispatcher.serve(once);
    expect(await refused(once)).toBe("AuthenticationFailedException");
    expect(await refused({ ...request(3), params: { length: 1_000 } })).toBe("AuthenticationFailedException");
    expect(await refused({ ...request(4), op: "listKeys" })).toBe("AuthenticationFailedException");
    expect(await refused(request(5, Date.now() + 10 * 60_000))).toBe("AuthenticationFailedException");

    const stranger = setup({ trusted: [generateKeyPairSync("ed25519").publicKey] });
    expect(await stranger.dispatcher.serve(stranger.request(6))).toMatchObject({ ok: false, error: { code: "AuthenticationFailedException" } });
    const later = setup({ now: () => Date.now() + 3 * 60_000 });
    expect(await later.dispatcher.serve(later.request(7, Date.now() + 4 * 60_000))).toMatchObject({ ok: false, error: { code: "AuthenticationFailedException" } });
  });

  it("a certified signature seen on the wire cannot certify another key (the relay's)", async () => {
    const { dispatcher, channel } = setup();
    const binding = toB64(Buffer.from("tenant/key/1"));
    const seen = channel.request({ id: 10, op: "generateDataKey", params: { length: 32, binding, returnPlaintext: false }, deadline: Date.now() + 5_000, requestId: "r-10" });
    const answer = await dispatcher.serve(seen);
    expect(answer.ok).toBe(true);
    // The relay keeps the certificate's signature and puts its own key beside it.
    const relay = new SealKeys("requester");
    const body = { id: 11, op: "unwrap" as const, params: { wrapped: (answer as { result: { wrapped: unknown } }).result.wrapped, binding }, deadline: Date.now() + 5_000, requestId: "evil" };
    const forged: RequestFrame = { type: "request", ...body, from: { ...seen.from, key: toB64(relay.publicKey) }, mac: mac(relay, connectorKeys.publicKey, requestMacInput(body)) };
    const refused = await dispatcher.serve(forged);
    expect(refused).toMatchObject({ ok: false, error: { code: "AuthenticationFailedException" } });
    expect("result" in refused).toBe(false);
  });

  it("a request's MAC spelled another way (base64 padding, spare bits) is still a replay", async () => {
    const { dispatcher, request } = setup();
    const frame = request(20);
    expect((await dispatcher.serve(frame)).ok).toBe(true);
    const raw = Buffer.from(frame.mac, "base64");
    const spellings = new Set([raw.toString("base64").replace(/=+$/, "")]);
    const last = frame.mac.replace(/=+$/, "").at(-1) ?? "A";
    const alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    for (let spare = 0; spare < 4; spare++) spellings.add(`${frame.mac.replace(/=+$/, "").slice(0, -1)}${alphabet[(alphabet.indexOf(last) & ~3) | spare]}`);
    for (const spelling of spellings) {
      const answer = await dispatcher.serve({ ...frame, mac: spelling });
      expect(answer.ok, spelling).toBe(false);
    }
  });
});
