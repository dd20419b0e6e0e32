import { describe, expect, it } from "vitest";
import { challengeMessage, PROTOCOL_VERSION, type ToHubFrame } from "../../shared/protocol/frames.js";
import { closesOnMalformed, onFrame, opening, verdict, type LinkState, type Phase } from "./handshake.js";

const v = PROTOCOL_VERSION;
const sealingKey = Buffer.alloc(32, 7).toString("base64");
const frames = {
  greet: { type: "greet", v },
  auth: { type: "auth", v, connectorId: "c1", sealingKey, signature: Buffer.alloc(64, 1).toString("base64") },
  hello: { type: "hello", v, hsm: { identity: "SoftHSM", slots: [] }, ops: [], maxInFlight: 8 },
  response: { type: "response", id: 1, ok: true, result: {} },
  draining: { type: "draining", v },
  protocolError: { type: "protocolError", code: "MalformedFrame", message: "?" },
} satisfies Record<ToHubFrame["type"], ToHubFrame>;

const at = (phase: Phase, challenged = true): LinkState => ({ phase, nonce: Buffer.alloc(32, 9).toString("base64"), challenged, ...(phase === "challenged" || phase === "verifying" ? {} : { connectorId: "c1", sealingKey }) });

describe("the link handshake (one state machine for both hubs)", () => {
  it("walks challenged → verifying → authenticated → ready → draining, and binds the signature to the nonce and the sealing key", () => {
    const start = opening(at("challenged").nonce, true);
    const verify = onFrame(start, frames.auth);
    expect(verify).toMatchObject({ kind: "verify", next: { phase: "verifying" }, auth: { connectorId: "c1", sealingKey } });
    if (verify.kind !== "verify") throw new Error("unreachable");
    expect(Buffer.from(verify.message)).toEqual(Buffer.from(challengeMessage(start.nonce, "c1", sealingKey)));
    const welcomed = verdict(verify.next, verify.auth, true);
    expect(welcomed).toMatchObject({ next: { phase: "authenticated", connectorId: "c1", sealingKey }, send: [{ type: "welcome" }] });
    if ("refuse" in welcomed) throw new Error("unreachable");
    const ready = onFrame(welcomed.next, frames.hello);
    expect(ready).toMatchObject({ kind: "ready", next: { phase: "ready", hello: { maxInFlight: 8 } } });
    if (ready.kind !== "ready") throw new Error("unreachable");
    expect(onFrame(ready.next, frames.response)).toMatchObject({ kind: "response" });
    const draining = onFrame(ready.next, frames.draining);
    expect(draining).toMatchObject({ kind: "draining", next: { phase: "draining" } });
    if (draining.kind !== "draining") throw new Error("unreachable");
    expect(onFrame(draining.next, frames.response)).toMatchObject({ kind: "response" });
  });

  it("a greet gets the challenge only from a hub that has not sent it (API Gateway), and only before authentication", () => {
    expect(onFrame(at("challenged", false), frames.greet)).toEqual({ kind: "none", send: [{ type: "challenge", v, nonce: at("challenged").nonce }] });
    expect(onFrame(at("challenged", true), frames.greet)).toEqual({ kind: "none", send: [] });
    expect(onFrame(at("ready", false), frames.greet)).toEqual({ kind: "none", send: [] });
  });

  // attack: every frame out of its turn, from a peer that is not (yet) trusted, is refused and closes the link.
  it.each([
    ["a second auth (replaying the nonce's answer)", "authenticated", "auth", "already authenticated"],
    ["an auth on a ready link", "ready", "auth", "already authenticated"],
    ["hello before authentication", "challenged", "hello", "hello before authentication"],
    ["hello twice", "ready", "hello", "hello twice"],
    ["a response before hello", "authenticated", "response", "response before hello"],
    ["a response from an unauthenticated peer", "challenged", "response", "response before hello"],
    ["anything while the signature is checked", "verifying", "hello", "frame before authentication completed"],
    ["a greet while the signature is checked", "verifying", "greet", "frame before authentication completed"],
  ] as const)("refuses %s", (_name, phase, frame, reason) => {
    expect(onFrame(at(phase), frames[frame])).toEqual({ kind: "refuse", reason });
  });

  it("an invalid signature, or a verdict for a link that is not verifying, refuses", () => {
    const auth = { connectorId: "c1", sealingKey };
    expect(verdict(at("verifying"), auth, false)).toEqual({ refuse: "connector authentication failed" });
    expect(verdict(at("challenged"), auth, true)).toEqual({ refuse: "connector authentication failed" });
    expect(verdict(at("authenticated"), auth, true)).toEqual({ refuse: "connector authentication failed" });
  });

  it("draining before ready changes nothing; a peer's protocol error is only reported", () => {
    expect(onFrame(at("authenticated"), frames.draining)).toEqual({ kind: "none", send: [] });
    expect(onFrame(at("ready"), frames.protocolError)).toEqual({ kind: "peerRefused", frame: frames.protocolError });
  });

  it("a malformed frame closes a link that has not announced its HSM; a ready link's transport may tolerate a few", () => {
    expect((["challenged", "verifying", "authenticated", "ready", "draining"] as const).map((p) => closesOnMalformed(at(p)))).toEqual([true, true, true, false, false]);
  });
});
