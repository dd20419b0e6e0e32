import { randomBytes } from "node:crypto";
import * as z from "zod";
import type { Logger } from "../../shared/log.js";
import { challengeMessage, encodeFrame, PROTOCOL_VERSION, parseFrame, ToHubFrame, type ToConnectorFrame } from "../../shared/protocol/frames.js";
import type { ConnectorVerifier } from "./connections.js";
import type { HubConnection, HubStore } from "./hub-store.js";
import type { ConnectionPoster } from "./management-api.js";

export type ApigwHubEventsOptions = { store: HubStore; poster: ConnectionPoster; verify: ConnectorVerifier; log: Logger; requestTimeoutMs: number };

/**
 * The WebSocket routes of the `apigw` hub, one Lambda invocation per event. The connection's
 * state lives in DynamoDB (HubStore), so any instance can take any event:
 *
 *   $connect     record the connection with a fresh challenge nonce
 *   $default     greet → challenge; auth → verify the signature, welcome; hello → ready;
 *                response → store the reply for the function awaiting it; draining → draining
 *   $disconnect  forget the connection (functions awaiting its replies see it gone)
 *
 * API Gateway lets the hub speak only after the connector has, hence the connector's greet.
 */
export class ApigwHubEvents {
  constructor(private readonly o: ApigwHubEventsOptions) {}

  async connect(connectionId: string): Promise<void> {
    await this.o.store.putConnection({ connectionId, state: "connected", nonce: randomBytes(32).toString("base64"), connectedAt: new Date().toISOString() });
  }

  async disconnect(connectionId: string): Promise<void> {
    const conn = await this.o.store.getConnection(connectionId);
    await this.o.store.deleteConnection(connectionId);
    if (conn?.state === "ready") this.o.log.warn("connector disconnected", { connectorId: conn.connectorId, connectionId });
  }

  async message(connectionId: string, body: string | undefined): Promise<void> {
    const log = this.o.log.child({ connectionId });
    const conn = await this.o.store.getConnection(connectionId);
    if (!conn) return this.refuse(connectionId, log, "unknown connection");
    const parsed = parseFrame(ToHubFrame, body);
    if (!parsed.ok) {
      log.warn("refused a frame from a connector", { problem: parsed.error.code, detail: parsed.error.message, state: conn.state });
      await this.send(connectionId, parsed.error);
      // An unauthenticated peer gets no second chance.
      if (conn.state === "connected" || conn.state === "authenticated") await this.o.poster.close(connectionId);
      return;
    }
    const frame = parsed.frame;
    switch (frame.type) {
      case "greet":
        if (conn.state !== "connected") return;
        return this.send(connectionId, { type: "challenge", v: PROTOCOL_VERSION, nonce: conn.nonce });
      case "auth": {
        if (conn.state !== "connected") return this.refuse(connectionId, log, "already authenticated");
        // The signature covers the challenge and the sealing key: a relay can swap neither.
        const ok = await this.o.verify(frame.connectorId, challengeMessage(conn.nonce, frame.connectorId, frame.sealingKey), Buffer.from(frame.signature, "base64")).catch(() => false);
        // A nonce answers once: the next state no longer accepts an auth.
        if (!ok || !(await this.o.store.advance(connectionId, ["connected"], { state: "authenticated", connectorId: frame.connectorId, sealingKey: frame.sealingKey }))) {
          return this.refuse(connectionId, log, "connector authentication failed");
        }
        return this.send(connectionId, { type: "welcome", v: PROTOCOL_VERSION });
      }
      case "hello": {
        const next: Partial<HubConnection> & { state: "ready" } = { state: "ready", hsmIdentity: frame.hsm.identity, maxInFlight: frame.maxInFlight };
        if (!(await this.o.store.advance(connectionId, ["authenticated"], next))) return this.refuse(connectionId, log, "hello before authentication");
        log.info("connector ready", { connectorId: conn.connectorId, hsm: frame.hsm.identity, slots: frame.hsm.slots.length });
        return;
      }
      case "response": {
        if (conn.state !== "ready" && conn.state !== "draining") return this.refuse(connectionId, log, "response before hello");
        // The requester's deadline bounds how long anyone waits; the TTL only tidies.
        const expiresAt = Math.floor(Date.now() / 1000) + Math.ceil(this.o.requestTimeoutMs / 1000) + 300;
        return this.o.store.putReply(connectionId, frame.id, { frame: body ?? "", storedAt: Date.now() }, expiresAt);
      }
      case "draining":
        if (await this.o.store.advance(connectionId, ["ready"], { state: "draining" })) log.info("connector draining", { connectorId: conn.connectorId });
        return;
      case "protocolError":
        log.warn("connector refused a frame", { problem: frame.code, detail: frame.message });
        return;
    }
  }

  private async refuse(connectionId: string, log: Logger, reason: string): Promise<void> {
    log.warn("refused a connector", { reason });
    await this.send(connectionId, { type: "protocolError", code: "Unauthorized", message: reason });
    await this.o.poster.close(connectionId);
  }

  private async send(connectionId: string, frame: ToConnectorFrame): Promise<void> {
    await this.o.poster.post(connectionId, encodeFrame(frame));
  }
}

/** The part of API Gateway's WebSocket event the hub uses. */
const WebSocketEvent = z.object({
  requestContext: z.object({
    eventType: z.enum(["CONNECT", "MESSAGE", "DISCONNECT"]),
    connectionId: z.string().min(1).max(128),
  }),
  body: z.string().nullish(),
  isBase64Encoded: z.boolean().optional(),
});

export type WebSocketResult = { statusCode: number; body?: string };

/** The `$connect`, `$default` and `$disconnect` routes of the connectors' WebSocket API. */
export function createHubHandler(events: ApigwHubEvents) {
  return async (event: unknown): Promise<WebSocketResult> => {
    const parsed = WebSocketEvent.safeParse(event);
    if (!parsed.success) return { statusCode: 400, body: "not an API Gateway WebSocket event" };
    const { eventType, connectionId } = parsed.data.requestContext;
    switch (eventType) {
      case "CONNECT":
        await events.connect(connectionId);
        return { statusCode: 200 };
      case "DISCONNECT":
        await events.disconnect(connectionId);
        return { statusCode: 200 };
      case "MESSAGE":
        // Frames are JSON text; a binary frame (base64 here) is refused as malformed.
        await events.message(connectionId, parsed.data.isBase64Encoded ? undefined : (parsed.data.body ?? undefined));
        return { statusCode: 200 };
    }
  };
}

