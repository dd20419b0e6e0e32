import * as z from "zod";
import { KmsErrorCode } from "../errors.js";
import { ENCRYPTION_ALGS, HSM_KEY_SPECS, MAX_HSM_DATA_BYTES, MAX_RANDOM_BYTES, SIGNING_ALGS } from "../hsm/port.js";

/**
 * The connector link: JSON text frames over one WebSocket, validated by zod on both ends.
 *
 *   connector → hub        greet {}                  (on open: a relay such as API Gateway only lets
 *                                                    the hub speak once the connector has)
 *   hub       → connector  challenge {nonce}
 *   connector → hub        auth {connectorId, sealingKey, signature = Ed25519(challengeMessage)}
 *   hub       → connector  welcome {}                 (or the socket closes with 4401)
 *   connector → hub        hello {hsm capabilities}
 *   hub       → connector  request {id, op, params, deadline, requestId, from, mac}
 *   connector → hub        response {id, ok, result | error, mac}
 *   connector → hub        draining {}               (send no new requests; in-flight ones finish)
 *   either                 protocolError {code, message}   (for a frame it could not accept)
 *
 * What crosses the relays is authenticated end to end, so that an active relay can neither read
 * key material nor alter or forge a request or an answer (see shared/crypto/seal.ts):
 * - the connector's X25519 sealing key travels in `auth`, signed with its Ed25519 credential
 *   together with the hub's fresh challenge: the hub knows it is the connector's, for this link;
 * - each request names its requester's X25519 key in `from`, certified (with an expiry) by the
 *   functions' Ed25519 deployment identity, which the connector trusts from its own configuration;
 * - each request and each answer carries a MAC under the channel those two keys share; the
 *   connector refuses a request whose MAC (or certificate) does not verify, or that it saw already.
 *
 * Heartbeats use WebSocket ping/pong control frames.
 */
export const PROTOCOL_VERSION = 2;
export const CONNECTOR_PATH = "/connector";
/** Frames larger than this are refused before parsing. */
export const MAX_FRAME_BYTES = 256 * 1024;

/** WebSocket close codes used on the link. */
export const CloseCode = {
  normal: 1000,
  goingAway: 1001,
  protocolError: 4400,
  unauthorized: 4401,
  authTimeout: 4408,
} as const;

const b64 = z.string().max(MAX_FRAME_BYTES).regex(/^[A-Za-z0-9+/]*={0,2}$/, "must be base64");
const v = z.literal(PROTOCOL_VERSION);

export const GreetFrame = z.object({ type: z.literal("greet"), v });

export const ChallengeFrame = z.object({ type: z.literal("challenge"), v, nonce: b64 });
export type ChallengeFrame = z.infer<typeof ChallengeFrame>;

/** Bytes on the wire: base64 of at most `max` bytes. */
const bytes = (max: number) => b64.max(Math.ceil(max / 3) * 4);
const X25519_KEY = bytes(32);

export const AuthFrame = z.object({
  type: z.literal("auth"),
  v,
  connectorId: z.string().regex(/^[A-Za-z0-9._-]{1,64}$/),
  /** The connector's X25519 public key (base64): what material sent to it is sealed to. Signed with the challenge. */
  sealingKey: X25519_KEY,
  signature: b64,
});
export type AuthFrame = z.infer<typeof AuthFrame>;

export const WelcomeFrame = z.object({ type: z.literal("welcome"), v });

const SlotInfo = z.object({
  name: z.string().max(64),
  tokenLabel: z.string().max(64),
  manufacturer: z.string().max(64),
  model: z.string().max(64),
  serial: z.string().max(64),
});

export const HelloFrame = z.object({
  type: z.literal("hello"),
  v,
  hsm: z.object({ identity: z.string().max(256), slots: z.array(SlotInfo).max(64) }),
  ops: z.array(z.string().max(32)).max(64),
  maxInFlight: z.number().int().min(1).max(10_000),
});
export type HelloFrame = z.infer<typeof HelloFrame>;

const Binding = bytes(1024);
const WireWrapped = z.object({
  rootKeyLabel: z.string().min(1).max(64),
  slot: z.string().regex(/^[A-Za-z0-9_-]{1,32}$/).optional(),
  hsmIdentity: z.string().max(256),
  iv: bytes(12),
  ciphertext: bytes(16 * 1024),
});
export type WireWrapped = z.infer<typeof WireWrapped>;
const KeyRef = { slot: z.string().regex(/^[A-Za-z0-9_-]{1,32}$/), label: z.string().regex(/^[A-Za-z0-9._-]{1,64}$/) };
const KeyInfo = z.object({ ...KeyRef, spec: z.enum(HSM_KEY_SPECS), sensitive: z.boolean(), extractable: z.boolean() });
const Data = bytes(MAX_HSM_DATA_BYTES);
const Signing = { ...KeyRef, alg: z.enum(SIGNING_ALGS), message: Data, messageType: z.enum(["RAW", "DIGEST"]) };

/**
 * Each operation's parameters and result, validated on both ends. Key material never crosses
 * in clear: `sealed` payloads are sealed on the channel between the requester's key (the
 * request's `from`) and the connector's (from its `auth`).
 */
export const Ops = {
  health: {
    params: z.object({}).strict(),
    result: z.object({ identity: z.string(), slots: z.array(SlotInfo), rootKeyOk: z.boolean(), checkMs: z.number() }),
  },
  random: {
    params: z.object({ length: z.number().int().min(1).max(MAX_RANDOM_BYTES) }).strict(),
    result: z.object({ bytes: b64 }),
  },
  generateDataKey: {
    params: z.object({ length: z.number().int().min(1).max(1024), binding: Binding, returnPlaintext: z.boolean(), wrappingKey: z.object(KeyRef).strict().optional() }).strict(),
    result: z.object({ wrapped: WireWrapped, sealed: b64.optional() }),
  },
  wrap: {
    params: z.object({ sealed: bytes(16 * 1024), binding: Binding, wrappingKey: z.object(KeyRef).strict().optional() }).strict(),
    result: z.object({ wrapped: WireWrapped }),
  },
  unwrap: {
    params: z.object({ wrapped: WireWrapped, binding: Binding }).strict(),
    result: z.object({ sealed: b64 }),
  },
  createKey: {
    params: z.object({ ...KeyRef, spec: z.enum(HSM_KEY_SPECS), sensitive: z.boolean() }).strict(),
    result: KeyInfo,
  },
  destroyKey: { params: z.object(KeyRef).strict(), result: z.object({}) },
  listKeys: { params: z.object({ slot: KeyRef.slot }).strict(), result: z.object({ keys: z.array(KeyInfo).max(10_000) }) },
  getPublicKey: { params: z.object(KeyRef).strict(), result: z.object({ spki: b64 }) },
  encrypt: {
    params: z.object({ ...KeyRef, alg: z.enum(ENCRYPTION_ALGS), sealed: bytes(MAX_HSM_DATA_BYTES + 64), aad: Binding }).strict(),
    result: z.object({ ciphertext: b64 }),
  },
  decrypt: {
    params: z.object({ ...KeyRef, alg: z.enum(ENCRYPTION_ALGS), ciphertext: bytes(MAX_HSM_DATA_BYTES + 64), aad: Binding }).strict(),
    result: z.object({ sealed: b64 }),
  },
  sign: { params: z.object(Signing).strict(), result: z.object({ signature: b64 }) },
  verify: { params: z.object({ ...Signing, signature: bytes(1024) }).strict(), result: z.object({ valid: z.boolean() }) },
} as const;
export type OpName = keyof typeof Ops;
export const OpName = z.enum(Object.keys(Ops) as [OpName, ...OpName[]]);
export type OpParams<O extends OpName> = z.infer<(typeof Ops)[O]["params"]>;
export type OpResult<O extends OpName> = z.infer<(typeof Ops)[O]["result"]>;

/** A requester's X25519 key, certified by the functions' Ed25519 identity until `notAfter` (epoch ms). */
export const RequesterCert = z.object({ key: X25519_KEY, notAfter: z.number().int().positive(), signature: b64.max(128) }).strict();
export type RequesterCert = z.infer<typeof RequesterCert>;

/** What the functions' identity signs to certify a requester key. */
export const requesterCertMessage = (key: string, notAfter: number): Buffer => Buffer.from(`tether-requester-key/v${PROTOCOL_VERSION}\n${key}\n${notAfter}`, "utf8");

/** An HMAC-SHA256 in canonical base64 (one spelling of its 32 bytes: padded, spare bits zero). */
const Mac = z.string().regex(/^[A-Za-z0-9+/]{42}[AEIMQUYcgkosw048]=$/, "a MAC: 32 bytes in canonical base64");

export const RequestFrame = z.object({
  type: z.literal("request"),
  id: z.number().int().nonnegative(),
  op: OpName,
  params: z.unknown(),
  /** Absolute deadline, epoch milliseconds. */
  deadline: z.number().int().positive(),
  requestId: z.string().max(128),
  /** Who asks: the requester's certified key, the other end of the channel. */
  from: RequesterCert,
  /** The channel's MAC over requestMacInput(). */
  mac: Mac,
});
export type RequestFrame = z.infer<typeof RequestFrame>;

/** What a request's MAC covers: everything the connector acts on. */
export const requestMacInput = (f: Pick<RequestFrame, "id" | "op" | "requestId" | "deadline" | "params">): string =>
  `tether-request/v${PROTOCOL_VERSION}\n${f.id}\n${f.op}\n${f.requestId}\n${f.deadline}\n${JSON.stringify(f.params)}`;

/** What an answer's MAC covers: the answer, and which request it answers. */
export const responseMacInput = (request: Pick<RequestFrame, "id" | "op" | "requestId">, answer: { ok: true; result: unknown } | { ok: false; error: unknown }): string =>
  `tether-response/v${PROTOCOL_VERSION}\n${request.id}\n${request.op}\n${request.requestId}\n${JSON.stringify(answer.ok ? { ok: true, result: answer.result } : { ok: false, error: answer.error })}`;

export const WireError = z.object({ code: KmsErrorCode, message: z.string().max(1024) });
export type WireError = z.infer<typeof WireError>;

/** `mac`: the channel's MAC over responseMacInput(); absent when the connector could not authenticate the request it answers. */
export const ResponseFrame = z.discriminatedUnion("ok", [
  z.object({ type: z.literal("response"), id: z.number().int().nonnegative(), ok: z.literal(true), result: z.unknown(), mac: Mac.optional() }),
  z.object({ type: z.literal("response"), id: z.number().int().nonnegative(), ok: z.literal(false), error: WireError, mac: Mac.optional() }),
]);
export type ResponseFrame = z.infer<typeof ResponseFrame>;

export const DrainingFrame = z.object({ type: z.literal("draining"), v });

export const ProtocolErrorFrame = z.object({
  type: z.literal("protocolError"),
  code: z.enum(["MalformedFrame", "UnknownFrame", "FrameTooLarge", "Unauthorized"]),
  message: z.string().max(256),
});
export type ProtocolErrorFrame = z.infer<typeof ProtocolErrorFrame>;

/** What the hub may receive, and what the connector may receive. */
export const ToHubFrame = z.discriminatedUnion("type", [GreetFrame, AuthFrame, HelloFrame, ResponseFrame, DrainingFrame, ProtocolErrorFrame]);
export type ToHubFrame = z.infer<typeof ToHubFrame>;
export const ToConnectorFrame = z.discriminatedUnion("type", [ChallengeFrame, WelcomeFrame, RequestFrame, ProtocolErrorFrame]);
export type ToConnectorFrame = z.infer<typeof ToConnectorFrame>;

export type ParseResult<T> = { ok: true; frame: T } | { ok: false; error: ProtocolErrorFrame };

/** Parses one text frame; never throws. The error names the problem, never the payload. */
export function parseFrame<T>(schema: z.ZodType<T>, data: unknown): ParseResult<T> {
  const text = typeof data === "string" ? data : Buffer.isBuffer(data) ? data.toString("utf8") : undefined;
  if (text === undefined) return fail("MalformedFrame", "frames are JSON text");
  if (Buffer.byteLength(text) > MAX_FRAME_BYTES) return fail("FrameTooLarge", `frames are at most ${MAX_FRAME_BYTES} bytes`);
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    return fail("MalformedFrame", "frame is not valid JSON");
  }
  const r = schema.safeParse(json);
  if (r.success) return { ok: true, frame: r.data };
  const type = typeof json === "object" && json !== null ? (json as { type?: unknown }).type : undefined;
  return fail("MalformedFrame", `invalid ${typeof type === "string" ? type.slice(0, 32) : "frame"}: ${r.error.issues[0]?.path.join(".") ?? ""}`);
}

const fail = (code: ProtocolErrorFrame["code"], message: string): { ok: false; error: ProtocolErrorFrame } => ({
  ok: false,
  error: { type: "protocolError", code, message },
});

/** The bytes a connector signs to answer a challenge: binds the nonce, its id and its sealing key for this link. */
export const challengeMessage = (nonce: string, connectorId: string, sealingKey: string): Buffer =>
  Buffer.from(`tether-connector-auth/v${PROTOCOL_VERSION}\n${connectorId}\n${nonce}\n${sealingKey}`, "utf8");

export const encodeFrame = (frame: ToHubFrame | ToConnectorFrame): string => JSON.stringify(frame);
