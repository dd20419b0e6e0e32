import { z } from "zod";
import { createLogger } from "../shared/log.js";
import { loadFunctionsConfig } from "./config.js";
import { buildHubEvents } from "./deps.js";
import type { ApigwHubEvents } from "./tunnel/apigw-events.js";

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

const config = loadFunctionsConfig();
export const handler = createHubHandler(buildHubEvents(config, createLogger({ name: "hub", level: config.logLevel })));
