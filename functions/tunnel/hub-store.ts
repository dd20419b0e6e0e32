import * as z from "zod";

/**
 * The `apigw` hub's state, which no function instance may keep to itself: the connectors
 * connected to the API Gateway WebSocket API, and their replies awaiting the function that asked.
 */
export const HubConnection = z.object({
  /** API Gateway's connection id. */
  connectionId: z.string().min(1).max(128),
  /** The handshake's phase (handshake.ts): challenged → (challenge answered) authenticated → (hello) ready → draining. */
  state: z.enum(["challenged", "authenticated", "ready", "draining"]),
  /** The challenge this connection must sign (base64). */
  nonce: z.string(),
  connectedAt: z.string(),
  connectorId: z.string().optional(),
  hsmIdentity: z.string().optional(),
  /** The connector's X25519 key (base64), as it signed it with the challenge: material sent to it is sealed to this. */
  sealingKey: z.string().optional(),
  maxInFlight: z.number().int().optional(),
});
export type HubConnection = z.infer<typeof HubConnection>;
export type HubConnectionState = HubConnection["state"];

export type StoredReply = { frame: string; storedAt: number };

export interface HubStore {
  putConnection(c: HubConnection): Promise<void>;
  getConnection(connectionId: string): Promise<HubConnection | undefined>;
  /** Moves a connection on from one of `from`; false when it is gone or in another state. */
  advance(connectionId: string, from: readonly HubConnectionState[], next: Partial<HubConnection> & { state: HubConnectionState }): Promise<boolean>;
  deleteConnection(connectionId: string): Promise<void>;
  listConnections(): Promise<HubConnection[]>;

  /** Stores a connector's response frame (JSON text) for request `id` sent on that connection, with when it arrived (epoch ms). */
  putReply(connectionId: string, id: number, reply: StoredReply, expiresAt: number): Promise<void>;
  /** One strongly consistent read of both: the reply if it has arrived, and whether the connection still exists. */
  pollReply(connectionId: string, id: number): Promise<{ reply?: StoredReply; connected: boolean }>;
  deleteReply(connectionId: string, id: number): Promise<void>;
}
