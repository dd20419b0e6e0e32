import { KmsError } from "../../shared/errors.js";
import type { CallOpts } from "../../shared/hsm/port.js";
import { Ops, type OpName, type OpParams, type OpResult } from "../../shared/protocol/frames.js";

/** What a request may depend on about the connector that serves it. */
export type Peer = { connectorId: string; sealingKey: Uint8Array };

/** An operation's parameters, or a builder for them when they depend on the connector chosen (material sealed to its key). */
export type ParamsOrBuilder<O extends OpName> = OpParams<O> | ((peer: Peer) => OpParams<O>);

export type ConnectorSummary = { connectorId: string; hsmIdentity: string; inFlight: number };

/**
 * How the functions reach connectors. Two transports: `ConnectorHub` (direct: the Node server
 * hosts the WebSocket endpoint) and `ApigwHub` (API Gateway WebSocket API, state in DynamoDB).
 */
export interface ConnectorLink {
  /** Sends one operation to a ready connector and resolves with its validated result, or rejects with a KmsError by the deadline. */
  call<O extends OpName>(op: O, params: ParamsOrBuilder<O>, opts: CallOpts): Promise<OpResult<O>>;
  /** Connectors that are authenticated and have announced their HSM. */
  ready(): Promise<ConnectorSummary[]>;
}

/** Operations that may be sent again to another connector when one drops mid-request. */
export const IDEMPOTENT: ReadonlySet<OpName> = new Set<OpName>(["health", "random", "unwrap", "decrypt", "verify", "getPublicKey", "listKeys"]);

/** A connector's result, validated against its operation's schema (both transports). */
export function validResult<O extends OpName>(op: O, result: unknown): OpResult<O> {
  const parsed = Ops[op].result.safeParse(result);
  if (!parsed.success) throw new KmsError("KMSInternalException", `connector returned an invalid ${op} result`);
  return parsed.data as OpResult<O>;
}

export const paramsBuilder = <O extends OpName>(params: ParamsOrBuilder<O>): ((peer: Peer) => unknown) =>
  typeof params === "function" ? (params as (peer: Peer) => unknown) : () => params;
