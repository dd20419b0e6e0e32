import { randomBytes, randomUUID } from "node:crypto";
import type { IncomingMessage } from "node:http";
import type { Duplex } from "node:stream";
import { WebSocketServer, type WebSocket } from "ws";
import { isKmsError, KmsError } from "../../shared/errors.js";
import type { CallOpts } from "../../shared/hsm/port.js";
import type { Logger } from "../../shared/log.js";
import { LinkChannel, type Peer, type Requester } from "./channel.js";
import { answerOf, IDEMPOTENT, requestOn, type Build, type Hub, type ConnectorSummary, type Served } from "./link.js";
import { CloseCode, encodeFrame, MAX_FRAME_BYTES, parseFrame, ToHubFrame, type OpName, type RequestFrame, type ResponseFrame, type ToConnectorFrame } from "../../shared/protocol/frames.js";
import { challengeOf, closesOnMalformed, onFrame, opening, verdict, type LinkState } from "./handshake.js";

/** Checks a connector's challenge signature against the credential registered for it. */
export type ConnectorVerifier = (connectorId: string, message: Uint8Array, signature: Uint8Array) => Promise<boolean>;

type Pending = {
  op: OpName;
  build: (channel: LinkChannel) => unknown;
  opts: CallOpts;
  conn: Connection;
  channel: LinkChannel;
  request: RequestFrame;
  /** The connectors this call has been sent to, this one included. */
  tried: ReadonlySet<Connection>;
  resolve: (served: Served<OpName>) => void;
  reject: (err: KmsError) => void;
  timer: NodeJS.Timeout;
};

type Connection = {
  sessionId: string;
  ws: WebSocket;
  link: LinkState;
  peer?: Peer;
  inFlight: number;
  badFrames: number;
  alive: boolean;
};

export type HubOptions = {
  verify: ConnectorVerifier;
  /** This deployment's end of every request's sealed channel. */
  requester: Requester;
  log: Logger;
  authTimeoutMs?: number;
  heartbeatMs?: number;
  maxBadFrames?: number;
  /** Peers that have not yet proven who they are; more are refused at the upgrade (503), so a flood cannot crowd the hub. */
  maxUnauthenticated?: number;
};

/**
 * The `direct` hub: accepts connectors on the Node server's /connector endpoint, authenticates
 * them by challenge-response before sending them anything, balances requests across ready
 * connectors (least in-flight), enforces deadlines and retries idempotent operations on
 * another connector when one drops or answers with an HSM fault (HsmUnavailableException).
 */
export class ConnectorHub implements Hub {
  private readonly wss = new WebSocketServer({ noServer: true, maxPayload: MAX_FRAME_BYTES });
  private readonly connections = new Set<Connection>();
  private readonly pending = new Map<number, Pending>();
  private nextId = 1;
  private readonly heartbeat: NodeJS.Timeout;

  constructor(private readonly opts: HubOptions) {
    this.heartbeat = setInterval(() => this.sweep(), opts.heartbeatMs ?? 3_000);
    this.heartbeat.unref();
  }

  handleUpgrade(req: IncomingMessage, socket: Duplex, head: Buffer): void {
    const unauthenticated = [...this.connections].filter((c) => c.link.phase === "challenged" || c.link.phase === "verifying").length;
    if (unauthenticated >= (this.opts.maxUnauthenticated ?? 32)) {
      this.opts.log.warn("connector upgrade refused: too many unauthenticated peers", { unauthenticated });
      socket.end("HTTP/1.1 503 Service Unavailable\r\nConnection: close\r\nContent-Length: 0\r\n\r\n");
      return;
    }
    this.wss.handleUpgrade(req, socket, head, (ws) => this.accept(ws));
  }

  async ready(): Promise<ConnectorSummary[]> {
    return [...this.connections]
      .filter((c) => c.link.phase === "ready")
      .map((c) => ({ connectorId: c.link.connectorId ?? "", hsmIdentity: c.link.hello?.hsm.identity ?? "", inFlight: c.inFlight }));
  }

  /**
   * Sends one operation to the least-busy ready connector and awaits its authenticated, validated
   * result. `build` makes the parameters for the channel to the connector chosen (material sealed
   * on it); it runs again if the request fails over to another connector.
   */
  call<O extends OpName>(op: O, build: Build<O>, opts: CallOpts): Promise<Served<O>> {
    return new Promise<Served<OpName>>((resolve, reject) => this.send(op, build, opts, resolve, reject, new Set())) as Promise<Served<O>>;
  }

  private send(op: OpName, build: (channel: LinkChannel) => unknown, opts: CallOpts, resolve: (served: Served<OpName>) => void, reject: (e: KmsError) => void, tried: ReadonlySet<Connection>, fault?: KmsError): void {
    const conn = this.pick(tried);
    if (!conn?.peer) return reject(fault ?? this.unavailable());
    const remaining = opts.deadline - Date.now();
    if (remaining <= 0) return reject(new KmsError("DependencyTimeoutException", "the HSM call's deadline passed"));
    const id = this.nextId++;
    const channel = new LinkChannel(this.opts.requester.keys(), conn.peer);
    let request: RequestFrame;
    try {
      request = requestOn(channel, id, op, build, opts);
    } catch (err) {
      return reject(err as KmsError);
    }
    const timer = setTimeout(() => {
      this.settle(id)?.reject(new KmsError("DependencyTimeoutException", `HSM ${op} did not answer within its deadline`));
    }, remaining);
    this.pending.set(id, { op, build, opts, conn, channel, request, tried: new Set([...tried, conn]), resolve, reject, timer });
    conn.inFlight += 1;
    this.write(conn, request);
  }

  /** The ready connector not tried yet with the fewest requests in flight, below the limit it announced. */
  private pick(tried: ReadonlySet<Connection>): Connection | undefined {
    let best: Connection | undefined;
    for (const c of this.connections) {
      if (c.link.phase !== "ready" || tried.has(c) || c.ws.readyState !== c.ws.OPEN) continue;
      if (c.inFlight >= (c.link.hello?.maxInFlight ?? 1)) continue;
      if (!best || c.inFlight < best.inFlight) best = c;
    }
    return best;
  }

  private unavailable(): KmsError {
    const busy = [...this.connections].some((c) => c.link.phase === "ready");
    return busy
      ? new KmsError("ThrottlingException", "every HSM connector is at its in-flight limit")
      : new KmsError("HsmUnavailableException", "no HSM connector is connected");
  }

  private settle(id: number): Pending | undefined {
    const p = this.pending.get(id);
    if (!p) return undefined;
    this.pending.delete(id);
    clearTimeout(p.timer);
    p.conn.inFlight -= 1;
    return p;
  }

  private accept(ws: WebSocket): void {
    const conn: Connection = { sessionId: randomUUID(), ws, link: opening(randomBytes(32).toString("base64"), true), inFlight: 0, badFrames: 0, alive: true };
    const log = this.opts.log.child({ connectorSession: conn.sessionId });
    this.connections.add(conn);
    const authTimer = setTimeout(() => {
      if (conn.link.phase === "challenged" || conn.link.phase === "verifying") ws.close(CloseCode.authTimeout, "authentication timed out");
    }, this.opts.authTimeoutMs ?? 5_000);
    ws.on("pong", () => (conn.alive = true));
    ws.on("message", (data, isBinary) => {
      conn.alive = true;
      void this.receive(conn, isBinary ? undefined : data.toString("utf8"), log);
    });
    ws.on("error", (err) => log.warn("connector socket error", { error: err.message }));
    ws.on("close", (code) => {
      clearTimeout(authTimer);
      this.connections.delete(conn);
      if (conn.link.phase === "ready") log.warn("connector disconnected", { connectorId: conn.link.connectorId, code, inFlight: conn.inFlight });
      this.failOver(conn);
    });
    this.write(conn, challengeOf(conn.link));
  }

  /** Carries out the handshake's step for a frame (handshake.ts); responses settle the call they answer. */
  private async receive(conn: Connection, text: string | undefined, log: Logger): Promise<void> {
    const parsed = parseFrame(ToHubFrame, text);
    if (!parsed.ok) {
      log.warn("refused a frame from a connector", { problem: parsed.error.code, detail: parsed.error.message, state: conn.link.phase });
      this.write(conn, parsed.error);
      // An unauthenticated peer gets no second chance; an authenticated one a few.
      if (closesOnMalformed(conn.link) || ++conn.badFrames > (this.opts.maxBadFrames ?? 10)) conn.ws.close(CloseCode.protocolError, "malformed frames");
      return;
    }
    const step = onFrame(conn.link, parsed.frame);
    switch (step.kind) {
      case "none":
        for (const frame of step.send) this.write(conn, frame);
        return;
      case "refuse":
        return this.refuse(conn, log, step.reason);
      case "verify": {
        conn.link = step.next;
        const valid = await this.opts.verify(step.auth.connectorId, step.message, step.signature).catch(() => false);
        const outcome = verdict(conn.link, step.auth, valid && conn.ws.readyState === conn.ws.OPEN);
        if ("refuse" in outcome) return this.refuse(conn, log, outcome.refuse);
        conn.link = outcome.next;
        conn.peer = { connectorId: step.auth.connectorId, sealingKey: new Uint8Array(Buffer.from(step.auth.sealingKey, "base64")) };
        for (const frame of outcome.send) this.write(conn, frame);
        return;
      }
      case "ready":
        conn.link = step.next;
        log.info("connector ready", { connectorId: conn.link.connectorId, hsm: step.next.hello?.hsm.identity, slots: step.next.hello?.hsm.slots.length });
        return;
      case "draining":
        conn.link = step.next;
        log.info("connector draining", { connectorId: conn.link.connectorId, inFlight: conn.inFlight });
        return;
      case "response": {
        const p = this.pending.get(step.frame.id);
        if (!p || p.conn !== conn) return; // late answer after a deadline or fail-over
        this.settle(step.frame.id);
        this.answer(p, step.frame);
        return;
      }
      case "peerRefused":
        log.warn("connector refused a frame", { problem: step.frame.code, detail: step.frame.message });
        return;
    }
  }

  private refuse(conn: Connection, log: Logger, reason: string): void {
    log.warn("refused a connector", { reason, state: conn.link.phase });
    this.write(conn, { type: "protocolError", code: "Unauthorized", message: reason });
    conn.ws.close(CloseCode.unauthorized, "unauthorized");
  }

  /** A connector's answer; an HSM fault on an idempotent operation goes to a connector not tried yet, if there is one. */
  private answer(p: Pending, frame: ResponseFrame): void {
    try {
      p.resolve(answerOf(p.channel, p.request, frame));
    } catch (err) {
      if (isKmsError(err, "HsmUnavailableException") && IDEMPOTENT.has(p.op)) this.send(p.op, p.build, p.opts, p.resolve, p.reject, p.tried, err);
      else p.reject(err as KmsError);
    }
  }

  /** A connector dropped: resend its idempotent requests elsewhere, fail the others. */
  private failOver(conn: Connection): void {
    for (const [id, p] of this.pending) {
      if (p.conn !== conn) continue;
      this.settle(id);
      if (IDEMPOTENT.has(p.op)) this.send(p.op, p.build, p.opts, p.resolve, p.reject, p.tried);
      else p.reject(new KmsError("HsmUnavailableException", `the HSM connector dropped during ${p.op}`));
    }
  }

  private sweep(): void {
    for (const conn of this.connections) {
      if (!conn.alive) {
        this.opts.log.warn("a connector stopped answering; dropping it", { connectorId: conn.link.connectorId, inFlight: conn.inFlight });
        conn.ws.terminate();
        continue;
      }
      conn.alive = false;
      conn.ws.ping();
    }
  }

  private write(conn: Connection, frame: ToConnectorFrame): void {
    if (conn.ws.readyState === conn.ws.OPEN) conn.ws.send(encodeFrame(frame));
  }

  close(): void {
    clearInterval(this.heartbeat);
    for (const conn of this.connections) conn.ws.close(CloseCode.goingAway, "server shutting down");
    this.wss.close();
  }
}
