import { KmsError } from "../../shared/errors.js";
import type { CallOpts } from "../../shared/hsm/port.js";
import { Ops, type OpName, type OpParams, type OpResult, type RequestFrame, type ResponseFrame } from "../../shared/protocol/frames.js";
import type { LinkChannel } from "./channel.js";

export type { Peer } from "./channel.js";

/** An operation's parameters, built for the channel to the connector chosen (material is sealed on it). */
export type Build<O extends OpName> = (channel: LinkChannel) => OpParams<O>;

/** A call's validated result, with the channel it was served on (to open what it sealed). */
export type Served<O extends OpName> = { result: OpResult<O>; channel: LinkChannel };

export type ConnectorSummary = { connectorId: string; hsmIdentity: string; inFlight: number };

/**
 * How the functions reach connectors. Two transports: `ConnectorHub` (direct: the Node server
 * hosts the WebSocket endpoint) and `ApigwHub` (API Gateway WebSocket API, state in DynamoDB).
 */
export interface Hub {
  /**
   * Sends one operation to a ready connector and resolves with its validated, authenticated
   * result, or rejects with a KmsError by the deadline. `build` runs again for another connector
   * if the request fails over.
   */
  call<O extends OpName>(op: O, build: Build<O>, opts: CallOpts): Promise<Served<O>>;
  /** Connectors that are authenticated and have announced their HSM. */
  ready(): Promise<ConnectorSummary[]>;
}

/** Operations that may be sent again to another connector when one drops mid-request. */
export const IDEMPOTENT: ReadonlySet<OpName> = new Set<OpName>(["health", "random", "unwrap", "decrypt", "verify", "getPublicKey", "listKeys"]);

/** The request frame for one attempt of a call on a channel. */
export function requestOn(channel: LinkChannel, id: number, op: OpName, build: (channel: LinkChannel) => unknown, opts: CallOpts): RequestFrame {
  let params: unknown;
  try {
    params = build(channel);
  } catch (err) {
    throw err instanceof KmsError ? err : new KmsError("KMSInternalException", `could not prepare ${op}`);
  }
  return channel.request({ id, op, params, deadline: opts.deadline, requestId: opts.requestId });
}

/** A connector's answer, once authenticated on its channel: its validated result, or its error (both transports). */
export function answerOf<O extends OpName>(channel: LinkChannel, request: RequestFrame, answer: ResponseFrame): Served<O> {
  channel.checkAnswer(request, answer);
  if (!answer.ok) throw new KmsError(answer.error.code, answer.error.message);
  const parsed = Ops[request.op].result.safeParse(answer.result);
  if (!parsed.success) throw new KmsError("KMSInternalException", `connector returned an invalid ${request.op} result`);
  return { result: parsed.data as OpResult<O>, channel };
}
