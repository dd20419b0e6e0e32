import type { AddressInfo } from "node:net";
import WebSocket, { WebSocketServer } from "ws";
import { open, SealKeys, sealContext } from "../../shared/crypto/seal.js";

/** What an active relay between the connector and the hub tries. */
export type Attack =
  /** Replace the connector's sealing key (wherever a frame carries it) with the relay's: read what the functions seal to it. */
  | "swap-connector-key"
  /** Replace each request's requester key with the relay's: read what the connector seals back. */
  | "swap-requester-key"
  /** Turn every `verify` answer into "valid". */
  | "flip-verify"
  /** Send the connector a request of the relay's own (a copy of a real one, turned into `destroyKey`). */
  | "inject-request"
  | "none";

type Json = Record<string, unknown>;
type Seen = { op: string; requestId: string; requesterKey?: string };

export type RelayMitm = {
  url: string;
  attack: Attack;
  /** Plaintexts the relay managed to open (must stay empty). */
  readonly opened: Uint8Array[];
  /** Answers the connector gave to the relay's own requests. */
  readonly injectedAnswers: Json[];
  /** Set to the label a `destroyKey` injection should target (as the HSM names it). */
  injectTarget: string;
  /** How the hub answered the connector's authentication through this relay: welcomed or refused. */
  handshake: Promise<"welcome" | "refused">;
  close(): Promise<void>;
};

const b64 = (k: Uint8Array) => Buffer.from(k).toString("base64");

/**
 * An active man in the middle on the connector's link (what API Gateway, an egress proxy that
 * inspects TLS, or anyone holding the relay could be): it accepts the connector's WebSocket,
 * dials the hub, forwards frames both ways, and rewrites them as `attack` says. It tries to open
 * every sealed payload it sees with the keys it substituted, and records what it could read.
 * Protocol-agnostic on purpose: it rewrites any field that holds a key, wherever the frame has it.
 */
export async function startRelayMitm(hubUrl: string, attack: Attack = "none"): Promise<RelayMitm> {
  const asConnector = new SealKeys("connector");
  const asRequester = new SealKeys("requester");
  const connectorKeys = new Set<string>();
  const requests = new Map<number, Seen>();
  let settle: (verdict: "welcome" | "refused") => void = () => undefined;
  const handshake = new Promise<"welcome" | "refused">((resolve) => (settle = resolve));
  const state: RelayMitm = { url: "", attack, opened: [], injectedAnswers: [], injectTarget: "", handshake, close: async () => undefined };
  let injectedId = 0;

  const tryOpen = (mine: SealKeys, peerKey: string | undefined, box: unknown, seen: Seen) => {
    if (typeof box !== "string" || !peerKey) return;
    try {
      state.opened.push(open(mine, new Uint8Array(Buffer.from(peerKey, "base64")), new Uint8Array(Buffer.from(box, "base64")), sealContext(seen.requestId, seen.op)));
    } catch {
      // sealed to someone else: as it should be
    }
  };

  const wss = new WebSocketServer({ host: "127.0.0.1", port: 0 });
  wss.on("connection", (down) => {
    const up = new WebSocket(hubUrl);
    const toHub: string[] = [];
    up.on("open", () => {
      for (const m of toHub.splice(0)) up.send(m);
    });
    const sendUp = (m: string) => (up.readyState === WebSocket.OPEN ? up.send(m) : toHub.push(m));

    down.on("message", (data) => {
      const frame = JSON.parse(data.toString()) as Json;
      // The connector's key, wherever it travels (the hello of protocol 1, the auth of protocol 2).
      if (typeof frame.sealingKey === "string") {
        connectorKeys.add(frame.sealingKey);
        if (state.attack === "swap-connector-key") frame.sealingKey = b64(asConnector.publicKey);
      }
      if (frame.type === "response") {
        if (frame.id === injectedId) state.injectedAnswers.push(frame);
        const seen = requests.get(Number(frame.id));
        const result = frame.result as Json | undefined;
        if (seen && result) {
          for (const key of connectorKeys) tryOpen(asRequester, key, result.sealed, seen);
          if (state.attack === "flip-verify" && result.valid === false) result.valid = true;
        }
      }
      sendUp(JSON.stringify(frame));
    });

    up.on("message", (data) => {
      const frame = JSON.parse(data.toString()) as Json;
      if (frame.type === "welcome") settle("welcome");
      if (frame.type === "protocolError" && frame.code === "Unauthorized") settle("refused");
      if (frame.type === "request") {
        const params = (frame.params ?? {}) as Json;
        const from = frame.from as Json | undefined;
        const requesterKey = (typeof params.sealTo === "string" ? params.sealTo : undefined) ?? (typeof from?.key === "string" ? from.key : undefined);
        const seen = { op: String(frame.op), requestId: String(frame.requestId), requesterKey };
        requests.set(Number(frame.id), seen);
        tryOpen(asConnector, requesterKey, params.sealed, seen);
        if (state.attack === "swap-requester-key") {
          if (typeof params.sealTo === "string") params.sealTo = b64(asRequester.publicKey);
          if (from && typeof from.key === "string") from.key = b64(asRequester.publicKey);
        }
        if (state.attack === "inject-request" && state.injectTarget && injectedId === 0) {
          injectedId = Number(frame.id) + 1_000_000;
          const [slot, label] = ["0", state.injectTarget];
          down.send(JSON.stringify({ ...frame, id: injectedId, op: "destroyKey", params: { slot, label } }));
        }
      }
      down.send(JSON.stringify(frame));
    });

    up.on("close", (code) => {
      if (code === 4401) settle("refused");
    });
    const closeBoth = () => {
      down.close();
      up.close();
    };
    down.on("close", closeBoth);
    up.on("close", closeBoth);
    down.on("error", () => undefined);
    up.on("error", () => undefined);
  });
  await new Promise<void>((resolve) => wss.once("listening", resolve));
  state.url = `ws://127.0.0.1:${(wss.address() as AddressInfo).port}/connector`;
  state.close = () =>
    new Promise<void>((resolve) => {
      for (const client of wss.clients) client.terminate();
      wss.close(() => resolve());
    });
  return state;
}
