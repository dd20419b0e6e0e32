import { randomInt } from "node:crypto";
import { setTimeout as sleep } from "node:timers/promises";
import { isKmsError, KmsError } from "../../shared/errors.js";
import type { CallOpts } from "../../shared/hsm/port.js";
import type { Logger } from "../../shared/log.js";
import { encodeFrame, parseFrame, ResponseFrame, type OpName, type RequestFrame } from "../../shared/protocol/frames.js";
import { LinkChannel, type Requester } from "./channel.js";
import type { HubConnection, HubStore } from "./hub-store.js";
import { answerOf, IDEMPOTENT, requestOn, type Build, type Hub, type ConnectorSummary, type Served } from "./link.js";
import type { ConnectionPoster } from "./management-api.js";

export type ApigwHubOptions = {
  store: HubStore;
  poster: ConnectionPoster;
  /** This deployment's end of every request's sealed channel. */
  requester: Requester;
  log: Logger;
  /** How long this instance trusts its view of the connected connectors. */
  connectionsTtlMs?: number;
};

/** The waits between reads of a reply after the first: doubling from 2 ms, at most 25 ms. */
const POLL_STEP_MS = 2;
const POLL_MAX_MS = 25;

/**
 * The `apigw` transport: connectors hold WebSocket connections to API Gateway, whose routes
 * ($connect, $default, $disconnect: see ApigwHubEvents) keep their state in DynamoDB. A request
 * is posted to a ready connection with the management API; the connector's reply reaches the
 * `$default` handler, which stores it; this instance reads it back.
 *
 * How it waits: it sleeps, then reads the reply and the connection's record in one strongly
 * consistent BatchGetItem, and sleeps again. The first read comes when replies have been arriving
 * (a moving average of post → reply stored, timed by the `$default` handler's clock, not by the
 * polls, so waiting cannot inflate it); later ones back off 2, 4, 8, 16, 25, 25… ms, none past
 * the deadline. A typical call costs 1–2 such reads (2 RCU each: two small items) plus the
 * reply's put and delete; a vanished connection record means the connector dropped.
 */
export class ApigwHub implements Hub {
  private view: { at: number; connections: Promise<HubConnection[]> } | undefined;
  /** Moving average of request posted → reply stored, in ms. */
  private replyMs = 10;

  constructor(private readonly o: ApigwHubOptions) {}

  async ready(): Promise<ConnectorSummary[]> {
    return (await this.connections()).filter((c) => c.state === "ready").map((c) => ({ connectorId: c.connectorId ?? "", hsmIdentity: c.hsmIdentity ?? "", inFlight: 0 }));
  }

  async call<O extends OpName>(op: O, build: Build<O>, opts: CallOpts): Promise<Served<O>> {
    const tried = new Set<string>();
    let fault: KmsError | undefined; // an HSM fault a connector answered an idempotent operation with
    for (;;) {
      const conn = await this.pick(tried);
      if (!conn) throw fault ?? new KmsError("HsmUnavailableException", tried.size ? `no other HSM connector could take ${op}` : "no HSM connector is connected");
      tried.add(conn.connectionId);
      const outcome = await this.exchange(conn, op, build, opts);
      if (outcome === "gone") {
        this.view = undefined;
        continue; // nothing was delivered: any operation may go elsewhere
      }
      if (outcome === "dropped") {
        this.view = undefined;
        if (IDEMPOTENT.has(op)) continue;
        throw new KmsError("HsmUnavailableException", `the HSM connector dropped during ${op}`);
      }
      try {
        return answerOf<O>(outcome.channel, outcome.request, outcome.answer);
      } catch (err) {
        if (!(isKmsError(err, "HsmUnavailableException") && IDEMPOTENT.has(op))) throw err;
        fault = err; // another connector may reach a healthy HSM
      }
    }
  }

  /** Posts one request and awaits its reply: the answer with its request and channel, "gone" (never delivered) or "dropped" (delivered, connector gone). */
  private async exchange(
    conn: HubConnection,
    op: OpName,
    build: (channel: LinkChannel) => unknown,
    opts: CallOpts,
  ): Promise<{ answer: ResponseFrame; request: RequestFrame; channel: LinkChannel } | "gone" | "dropped"> {
    // The sealing key the hub's $default handler recorded from the connector's signed auth.
    const channel = new LinkChannel(this.o.requester.keys(), { connectorId: conn.connectorId ?? "", sealingKey: new Uint8Array(Buffer.from(conn.sealingKey ?? "", "base64")) });
    if (opts.deadline <= Date.now()) throw timeout(op);
    const id = randomInt(1, 2 ** 47);
    const request = requestOn(channel, id, op, build, opts);
    const postedAt = Date.now();
    const posted = await this.o.poster.post(conn.connectionId, encodeFrame(request));
    if (posted === "gone") {
      await this.o.store.deleteConnection(conn.connectionId);
      return "gone";
    }
    let wait = Math.max(0, postedAt + this.replyMs - Date.now());
    let step = POLL_STEP_MS;
    for (;;) {
      const remaining = opts.deadline - Date.now();
      if (remaining <= 0) throw timeout(op);
      await sleep(Math.min(wait, remaining));
      wait = step;
      step = Math.min(step * 2, POLL_MAX_MS);
      const { reply, connected } = await this.o.store.pollReply(conn.connectionId, id);
      if (reply !== undefined) {
        this.replyMs = this.replyMs * 0.8 + Math.max(0, reply.storedAt - postedAt) * 0.2;
        void this.o.store.deleteReply(conn.connectionId, id).catch((err: Error) => this.o.log.warn("could not delete a read reply", { error: err.message }));
        const parsed = parseFrame(ResponseFrame, reply.frame);
        if (!parsed.ok) throw new KmsError("HsmUnavailableException", `the HSM connector's reply to ${op} was malformed`);
        return { answer: parsed.frame, request, channel };
      }
      if (!connected) return "dropped";
    }
  }

  /** A random ready connection not tried yet (instances cannot see each other's load; connectors refuse work beyond their limit). */
  private async pick(tried: ReadonlySet<string>): Promise<HubConnection | undefined> {
    const candidates = (await this.connections()).filter((c) => c.state === "ready" && !tried.has(c.connectionId));
    return candidates[randomInt(0, Math.max(candidates.length, 1))];
  }

  private connections(): Promise<HubConnection[]> {
    const now = Date.now();
    if (!this.view || now - this.view.at > (this.o.connectionsTtlMs ?? 2_000)) {
      const connections = this.o.store.listConnections();
      connections.catch(() => (this.view = undefined));
      this.view = { at: now, connections };
    }
    return this.view.connections;
  }
}

const timeout = (op: OpName) => new KmsError("DependencyTimeoutException", `HSM ${op} did not answer within its deadline`);
