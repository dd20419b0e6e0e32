import { randomBytes } from "node:crypto";
import * as z from "zod";
import type { Logger } from "../../shared/log.js";
import { encodeFrame, parseFrame, ToHubFrame, type ToConnectorFrame } from "../../shared/protocol/frames.js";
import { closesOnMalformed, onFrame, opening, verdict, type LinkState } from "./handshake.js";
import type { ConnectorVerifier } from "./connections.js";
import type { HubStore } from "./hub-store.js";
import type { ConnectionPoster } from "./management-api.js";

export type ApigwHubEventsOptions = { store: HubStore; poster: ConnectionPoster; verify: ConnectorVerifier; log: Logger; requestTimeoutMs: number };

/**
 * The WebSocket routes of the `apigw` hub, one Lambda invocation per event. The connection's
 * state lives in DynamoDB (HubStore), so any instance can take any event:
 *
 *   $connect     record the connection with a fresh challenge nonce
 *   $default     the handshake's step for the frame (handshake.ts, as the direct hub); a response
 *                is stored for the function awaiting it
 *   $disconnect  forget the connection (functions awaiting its replies see it gone)
 *
 * API Gateway lets the hub speak only after the connector has, hence the connector's greet.
 */
export class ApigwHubEvents {
  constructor(private readonly o: ApigwHubEventsOptions) {}

  async connect(connectionId: string): Promise<void> {
    const link = opening(randomBytes(32).toString("base64"), false);
    await this.o.store.putConnection({ connectionId, state: "challenged", nonce: link.nonce, connectedAt: new Date().toISOString() });
  }

  async disconnect(connectionId: string): Promise<void> {
    const conn = await this.o.store.getConnection(connectionId);
    await this.o.store.deleteConnection(connectionId);
    if (conn?.state === "ready") this.o.log.warn("connector disconnected", { connectorId: conn.connectorId, connectionId });
  }

  /** Carries out the handshake's step for a frame (handshake.ts), each state change a conditional write. */
  async message(connectionId: string, body: string | undefined): Promise<void> {
    const log = this.o.log.child({ connectionId });
    const conn = await this.o.store.getConnection(connectionId);
    if (!conn) return this.refuse(connectionId, log, "unknown connection");
    const link: LinkState = { phase: conn.state, nonce: conn.nonce, challenged: false, ...(conn.connectorId ? { connectorId: conn.connectorId } : {}) };
    const parsed = parseFrame(ToHubFrame, body);
    if (!parsed.ok) {
      log.warn("refused a frame from a connector", { problem: parsed.error.code, detail: parsed.error.message, state: conn.state });
      await this.send(connectionId, parsed.error);
      if (closesOnMalformed(link)) await this.o.poster.close(connectionId);
      return;
    }
    const step = onFrame(link, parsed.frame);
    switch (step.kind) {
      case "none":
        for (const frame of step.send) await this.send(connectionId, frame);
        return;
      case "refuse":
        return this.refuse(connectionId, log, step.reason);
      case "verify": {
        const valid = await this.o.verify(step.auth.connectorId, step.message, step.signature).catch(() => false);
        const outcome = verdict(step.next, step.auth, valid);
        // A nonce answers once: the write succeeds only from the state that accepted the auth.
        if ("refuse" in outcome || !(await this.o.store.advance(connectionId, [conn.state], { state: "authenticated", connectorId: step.auth.connectorId, sealingKey: step.auth.sealingKey }))) {
          return this.refuse(connectionId, log, "connector authentication failed");
        }
        for (const frame of outcome.send) await this.send(connectionId, frame);
        return;
      }
      case "ready": {
        const hello = step.next.hello;
        if (!(await this.o.store.advance(connectionId, [conn.state], { state: "ready", hsmIdentity: hello?.hsm.identity ?? "", maxInFlight: hello?.maxInFlight ?? 1 }))) return this.refuse(connectionId, log, "hello before authentication");
        log.info("connector ready", { connectorId: conn.connectorId, hsm: hello?.hsm.identity, slots: hello?.hsm.slots.length });
        return;
      }
      case "draining":
        if (await this.o.store.advance(connectionId, [conn.state], { state: "draining" })) log.info("connector draining", { connectorId: conn.connectorId });
        return;
      case "response": {
        // The requester's deadline bounds how long anyone waits; the TTL only tidies.
        const expiresAt = Math.floor(Date.now() / 1000) + Math.ceil(this.o.requestTimeoutMs / 1000) + 300;
        return this.o.store.putReply(connectionId, step.frame.id, { frame: body ?? "", storedAt: Date.now() }, expiresAt);
      }
      case "peerRefused":
        log.warn("connector refused a frame", { problem: step.frame.code, detail: step.frame.message });
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

