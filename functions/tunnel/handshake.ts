import { challengeMessage, PROTOCOL_VERSION, type HelloFrame, type ProtocolErrorFrame, type ResponseFrame, type ToConnectorFrame, type ToHubFrame } from "../../shared/protocol/frames.js";

/**
 * The hub's side of the link handshake, once for both hubs (the direct one in the Node server,
 * the API Gateway one in Lambda): a pure function of (state, frame) → (next state, frames to
 * send, what to do). The transports only carry it out: the direct hub keeps the state in memory,
 * the apigw hub in DynamoDB with conditional writes.
 *
 *   challenged ──auth──▶ verifying ──signature valid──▶ authenticated ──hello──▶ ready ──draining──▶ draining
 *
 * A challenge's nonce is answered once; nothing but the answer is accepted before the verdict;
 * requests go only to a ready (or draining) connector, and only its responses are taken.
 */
export type Phase = "challenged" | "verifying" | "authenticated" | "ready" | "draining";
export type LinkState = {
  phase: Phase;
  /** The challenge this connection must sign (base64). */
  nonce: string;
  /** Whether the hub sent its challenge unasked (the direct hub does; API Gateway lets a hub speak only once the connector has greeted). */
  challenged: boolean;
  connectorId?: string;
  /** The connector's X25519 key (base64), as it signed it with the challenge. */
  sealingKey?: string;
  hello?: HelloFrame;
};

/** Who the connector says it is, and the key it wants material sealed to: trusted once the signature checks. */
export type Claim = { connectorId: string; sealingKey: string };

export type Step =
  /** Nothing changes (a greet the challenge already answered, draining when not ready). */
  | { kind: "none"; send: ToConnectorFrame[] }
  /** Check the signature with the connector's registered credential, then call `verdict`. */
  | { kind: "verify"; next: LinkState; auth: Claim; message: Uint8Array; signature: Uint8Array }
  /** The connector's HSM is announced: it takes requests from now on. */
  | { kind: "ready"; next: LinkState; from: Phase }
  | { kind: "draining"; next: LinkState; from: Phase }
  /** A response to a request sent on this connection. */
  | { kind: "response"; frame: ResponseFrame }
  /** The connector refused one of the hub's frames. */
  | { kind: "peerRefused"; frame: ProtocolErrorFrame }
  /** Close the connection: the peer is not (or no longer) trusted. */
  | { kind: "refuse"; reason: string };

/** A new connection's state; `speakFirst`: the hub sends its challenge at once (`challengeOf`). */
export const opening = (nonce: string, speakFirst: boolean): LinkState => ({ phase: "challenged", nonce, challenged: speakFirst });

export const challengeOf = (state: LinkState): ToConnectorFrame => ({ type: "challenge", v: PROTOCOL_VERSION, nonce: state.nonce });

export function onFrame(state: LinkState, frame: ToHubFrame): Step {
  if (state.phase === "verifying") return { kind: "refuse", reason: "frame before authentication completed" };
  switch (frame.type) {
    case "greet":
      return { kind: "none", send: state.phase === "challenged" && !state.challenged ? [challengeOf(state)] : [] };
    case "auth":
      if (state.phase !== "challenged") return { kind: "refuse", reason: "already authenticated" };
      // The signature covers the challenge and the sealing key: a relay can swap neither.
      return {
        kind: "verify",
        next: { ...state, phase: "verifying" },
        auth: { connectorId: frame.connectorId, sealingKey: frame.sealingKey },
        message: challengeMessage(state.nonce, frame.connectorId, frame.sealingKey),
        signature: new Uint8Array(Buffer.from(frame.signature, "base64")),
      };
    case "hello":
      if (state.phase !== "authenticated") return { kind: "refuse", reason: state.phase === "challenged" ? "hello before authentication" : "hello twice" };
      return { kind: "ready", next: { ...state, phase: "ready", hello: frame }, from: state.phase };
    case "response":
      if (state.phase !== "ready" && state.phase !== "draining") return { kind: "refuse", reason: "response before hello" };
      return { kind: "response", frame };
    case "draining":
      return state.phase === "ready" ? { kind: "draining", next: { ...state, phase: "draining" }, from: state.phase } : { kind: "none", send: [] };
    case "protocolError":
      return { kind: "peerRefused", frame };
  }
}

/** The signature's verdict, for a connection that was verifying: welcome, or refuse. */
export function verdict(state: LinkState, auth: Claim, valid: boolean): { next: LinkState; send: ToConnectorFrame[] } | { refuse: string } {
  if (!valid || state.phase !== "verifying") return { refuse: "connector authentication failed" };
  return { next: { ...state, phase: "authenticated", connectorId: auth.connectorId, sealingKey: auth.sealingKey }, send: [{ type: "welcome", v: PROTOCOL_VERSION }] };
}

/** A malformed frame closes a connection that has not announced its HSM yet; later, the transport may tolerate a few. */
export const closesOnMalformed = (state: LinkState): boolean => state.phase === "challenged" || state.phase === "verifying" || state.phase === "authenticated";
