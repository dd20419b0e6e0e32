import { describe, expect, it } from "vitest";
import { MAX_FRAME_BYTES, parseFrame, ToConnectorFrame, ToHubFrame } from "./frames.js";

describe("parseFrame", () => {
  it("accepts a valid request frame", () => {
    const from = { key: Buffer.alloc(32, 1).toString("base64"), notAfter: Date.now() + 60_000, signature: Buffer.alloc(64, 2).toString("base64") };
    const frame = { type: "request", id: 7, op: "random", params: { length: 16 }, deadline: Date.now() + 1000, requestId: "r1", from, mac: Buffer.alloc(32, 3).toString("base64") };
    const r = parseFrame(ToConnectorFrame, JSON.stringify(frame));
    expect(r).toEqual({ ok: true, frame });
  });

  it.each([
    ["not JSON", "{nope", "MalformedFrame"],
    ["binary", undefined, "MalformedFrame"],
    ["unknown type", JSON.stringify({ type: "launch", v: 1 }), "MalformedFrame"],
    ["unknown op", JSON.stringify({ type: "request", id: 1, op: "format", params: {}, deadline: 1, requestId: "x" }), "MalformedFrame"],
    ["oversized", JSON.stringify({ type: "challenge", v: 1, nonce: "A".repeat(MAX_FRAME_BYTES) }), "FrameTooLarge"],
  ])("refuses %s with a protocol error", (_name, data, code) => {
    const r = parseFrame(ToConnectorFrame, data);
    expect(r.ok).toBe(false);
    if (!r.ok) expect(r.error.code).toBe(code);
  });

  it("never echoes the payload in its error", () => {
    const secret = "c2VjcmV0LWtleS1tYXRlcmlhbA==";
    const r = parseFrame(ToHubFrame, JSON.stringify({ type: "auth", v: 1, connectorId: "bad id!", signature: secret }));
    expect(r.ok).toBe(false);
    expect(JSON.stringify(r)).not.toContain(secret);
  });

  it("accepts an error response with a known code only", () => {
    const ok = parseFrame(ToHubFrame, JSON.stringify({ type: "response", id: 1, ok: false, error: { code: "HsmUnavailableException", message: "m" } }));
    expect(ok.ok).toBe(true);
    const bad = parseFrame(ToHubFrame, JSON.stringify({ type: "response", id: 1, ok: false, error: { code: "Whatever", message: "m" } }));
    expect(bad.ok).toBe(false);
  });
});
