import { generateKeyPairSync, verify } from "node:crypto";
import { describe, expect, it } from "vitest";
import { SealKeys } from "../../shared/crypto/seal.js";
import { requesterCertMessage } from "../../shared/protocol/frames.js";
import { LinkChannel, Requester } from "./channel.js";

const identity = generateKeyPairSync("ed25519");

describe("the functions' end of the sealed channel", () => {
  it("rotates its key pair every minute, each certified by the functions' identity until a minute after", () => {
    let t = 1_000_000;
    const requester = new Requester(identity.privateKey, () => t);
    const first = requester.keys();
    expect(verify(null, requesterCertMessage(first.cert.key, first.cert.notAfter), identity.publicKey, Buffer.from(first.cert.signature, "base64"))).toBe(true);
    expect(first.cert.notAfter).toBe(t + 120_000);
    t += 59_999;
    expect(requester.keys()).toBe(first);
    t += 1;
    expect(requester.keys()).not.toBe(first);
  });

  it("refuses an answer without the channel's MAC, or with a MAC over something else", () => {
    const requester = new Requester(identity.privateKey);
    const connector = new SealKeys("connector");
    const channel = new LinkChannel(requester.keys(), { connectorId: "c", sealingKey: connector.publicKey });
    const request = channel.request({ id: 1, op: "verify", params: {}, deadline: Date.now() + 1_000, requestId: "r" });
    expect(() => channel.checkAnswer(request, { type: "response", id: 1, ok: true, result: { valid: true } })).toThrow(expect.objectContaining({ code: "HsmUnavailableException" }));
    expect(() => channel.checkAnswer(request, { type: "response", id: 1, ok: true, result: { valid: true }, mac: request.mac })).toThrow(/did not authenticate/);
  });
});
