import { sign, type KeyObject } from "node:crypto";
import WebSocket from "ws";
import type { Logger } from "../../shared/log.js";
import {
  challengeMessage,
  CloseCode,
  encodeFrame,
  MAX_FRAME_BYTES,
  parseFrame,
  PROTOCOL_VERSION,
  ToConnectorFrame,
  type HelloFrame,
  type RequestFrame,
  type ToHubFrame,
} from "../../shared/protocol/frames.js";
import { backoffDelay, DEFAULT_BACKOFF, type BackoffPolicy } from "./backoff.js";
import type { Dispatcher } from "./dispatch.js";

export type LinkOptions = {
  hubUrl: string;
  connectorId: string;
  credential: KeyObject;
  /** The connector's X25519 public key (base64), signed with each challenge. */
  sealingKey: string;
  dispatch: Dispatcher;
  hello: () => Omit<HelloFrame, "type" | "v">;
  maxInFlight: number;
  log: Logger;
  backoff?: BackoffPolicy;
  /** Ping interval; a link silent for two of them (or a handshake that long) is hung up on. */
  heartbeatMs?: number;
  /** Malformed frames tolerated from the hub before the connector hangs up. */
  maxBadFrames?: number;
};

/**
 * The connector's outbound link: dials the hub, answers its challenge (signing its sealing key
 * with it), announces the HSM, serves requests — none before the handshake completes — and
 * redials with jittered back-off whenever the link drops or falls silent (a relay that accepts
 * the connection and forwards nothing): a ping unanswered for an interval hangs up.
 */
export class ConnectorLink {
  private ws: WebSocket | undefined;
  private attempt = 0;
  private inFlight = 0;
  private draining = false;
  private reconnectTimer: NodeJS.Timeout | undefined;
  private heartbeat: NodeJS.Timeout | undefined;
  private idleWaiters: Array<() => void> = [];

  constructor(private readonly opts: LinkOptions) {}

  start(): void {
    this.connect();
  }

  private connect(): void {
    const { log } = this.opts;
    const heartbeatMs = this.opts.heartbeatMs ?? 3_000;
    const ws = new WebSocket(this.opts.hubUrl, { maxPayload: MAX_FRAME_BYTES, handshakeTimeout: 2 * heartbeatMs });
    this.ws = ws;
    let alive = true;
    let badFrames = 0;
    /** Welcomed and hello sent: only then are requests served. */
    let ready = false;
    ws.on("open", () => {
      log.info("link open, authenticating", { hub: this.opts.hubUrl });
      this.send({ type: "greet", v: PROTOCOL_VERSION });
      this.heartbeat = setInterval(() => {
        if (!alive) {
          log.warn("the hub stopped answering; hanging up", { silentForMs: heartbeatMs });
          return ws.terminate();
        }
        alive = false;
        ws.ping();
      }, heartbeatMs);
    });
    ws.on("pong", () => (alive = true));
    ws.on("ping", () => (alive = true));
    ws.on("message", (data, isBinary) => {
      alive = true;
      const parsed = parseFrame(ToConnectorFrame, isBinary ? undefined : data.toString("utf8"));
      if (!parsed.ok) {
        log.warn("refused a frame from the hub", { problem: parsed.error.code, detail: parsed.error.message });
        this.send(parsed.error);
        if (++badFrames > (this.opts.maxBadFrames ?? 10)) ws.close(CloseCode.protocolError, "too many malformed frames");
        return;
      }
      const frame = parsed.frame;
      switch (frame.type) {
        case "challenge": {
          const signature = sign(null, challengeMessage(frame.nonce, this.opts.connectorId, this.opts.sealingKey), this.opts.credential);
          this.send({ type: "auth", v: PROTOCOL_VERSION, connectorId: this.opts.connectorId, sealingKey: this.opts.sealingKey, signature: signature.toString("base64") });
          return;
        }
        case "welcome":
          if (ready) return;
          this.attempt = 0;
          log.info("link ready");
          this.send({ type: "hello", v: PROTOCOL_VERSION, ...this.opts.hello() });
          ready = true;
          return;
        case "request":
          if (!ready) {
            log.warn("refused a request before the handshake completed", { op: frame.op });
            this.send({ type: "protocolError", code: "Unauthorized", message: "no request before the handshake completes" });
            return;
          }
          void this.serve(frame);
          return;
        case "protocolError":
          log.warn("hub refused a frame", { problem: frame.code, detail: frame.message });
          return;
      }
    });
    ws.on("error", (err) => log.warn("link error", { error: err.message }));
    ws.on("close", (code) => {
      clearInterval(this.heartbeat);
      if (this.ws === ws) this.ws = undefined;
      if (this.draining) return;
      const delay = backoffDelay(this.attempt++, this.opts.backoff ?? DEFAULT_BACKOFF);
      log.warn("link closed, redialling", { code, delayMs: delay, attempt: this.attempt });
      this.reconnectTimer = setTimeout(() => this.connect(), delay);
    });
  }

  private async serve(frame: RequestFrame): Promise<void> {
    // While draining, requests that crossed our "draining" frame on the wire are still served.
    if (this.inFlight >= this.opts.maxInFlight) {
      this.send(this.opts.dispatch.refuse(frame, { code: "ThrottlingException", message: "connector is at its in-flight limit" }));
      return;
    }
    this.inFlight += 1;
    const started = performance.now();
    const response = await this.opts.dispatch.serve(frame);
    this.inFlight -= 1;
    this.opts.log.debug("served", {
      requestId: frame.requestId,
      op: frame.op,
      ok: response.ok,
      code: response.ok ? undefined : response.error.code,
      ms: Math.round(performance.now() - started),
    });
    this.send(response);
    if (this.inFlight === 0) for (const wake of this.idleWaiters.splice(0)) wake();
  }

  private send(frame: ToHubFrame): void {
    if (this.ws?.readyState === WebSocket.OPEN) this.ws.send(encodeFrame(frame));
  }

  /** Stops taking requests, lets those in flight finish (up to timeoutMs), then closes the link. */
  async drain(timeoutMs: number): Promise<void> {
    this.draining = true;
    this.send({ type: "draining", v: PROTOCOL_VERSION });
    clearTimeout(this.reconnectTimer);
    if (this.inFlight > 0) {
      await Promise.race([
        new Promise<void>((resolve) => this.idleWaiters.push(resolve)),
        new Promise<void>((resolve) => setTimeout(resolve, timeoutMs).unref()),
      ]);
    }
    clearInterval(this.heartbeat);
    this.ws?.close(CloseCode.goingAway, "connector shutting down");
  }
}
