import { verify, type KeyObject } from "node:crypto";
import { LRUCache } from "lru-cache";
import { KmsError } from "../../shared/errors.js";
import { mac, macValid, open, seal, sealContext, type SealKeys } from "../../shared/crypto/seal.js";
import type { CallOpts, KeyWrapping, ResidentKeys } from "../../shared/hsm/port.js";
import { fromB64, toB64, wrappedFromWire, wrappedToWire } from "../../shared/protocol/codec.js";
import { Ops, requestMacInput, requesterCertMessage, responseMacInput, type OpName, type OpParams, type OpResult, type RequestFrame, type ResponseFrame, type WireError } from "../../shared/protocol/frames.js";
import type { HsmAudit } from "../audit.js";
import type { Guard } from "../guard.js";

/** How far ahead a request's deadline, and a requester certificate's expiry, may lie. */
const MAX_DEADLINE_AHEAD_MS = 120_000;
const MAX_CERT_AHEAD_MS = 15 * 60_000;

type Ctx = { wrapping: KeyWrapping; resident: ResidentKeys; call: CallOpts; keys: SealKeys; requester: Uint8Array; context: Uint8Array };

const sealFor = (ctx: Ctx, m: Uint8Array) => toB64(seal(ctx.keys, ctx.requester, m, ctx.context));
const openFrom = (ctx: Ctx, box: string) => open(ctx.keys, ctx.requester, fromB64(box), ctx.context);

/** Runs `fn` on plaintext material and zeroes it afterwards, whatever happens. */
async function zeroAfter<T>(material: Uint8Array, fn: (m: Uint8Array) => T | Promise<T>): Promise<T> {
  try {
    return await fn(material);
  } finally {
    material.fill(0);
  }
}

/** Each operation: call its port (key wrapping, or resident keys), sealing any material that leaves and opening any that arrives. */
const HANDLERS: { [O in OpName]: (ctx: Ctx, p: OpParams<O>) => Promise<OpResult<O>> } = {
  health: (ctx) => ctx.wrapping.health(ctx.call),
  random: async (ctx, p) => ({ bytes: toB64(await ctx.wrapping.random(p.length, ctx.call)) }),
  generateDataKey: async (ctx, p) => {
    const out = await ctx.wrapping.generateDataKey(p.length, fromB64(p.binding), { ...ctx.call, returnPlaintext: p.returnPlaintext, wrappingKey: p.wrappingKey });
    const wrapped = wrappedToWire(out.wrapped);
    if (!p.returnPlaintext || !out.plaintext) return { wrapped };
    return zeroAfter(out.plaintext, (m) => ({ wrapped, sealed: sealFor(ctx, m) }));
  },
  wrap: async (ctx, p) =>
    zeroAfter(openFrom(ctx, p.sealed), async (m) => ({ wrapped: wrappedToWire(await ctx.wrapping.wrap(m, fromB64(p.binding), { ...ctx.call, wrappingKey: p.wrappingKey })) })),
  unwrap: async (ctx, p) => zeroAfter(await ctx.wrapping.unwrap(wrappedFromWire(p.wrapped), fromB64(p.binding), ctx.call), (m) => ({ sealed: sealFor(ctx, m) })),
  createKey: (ctx, p) => ctx.resident.createKey({ slot: p.slot, label: p.label }, p.spec, { sensitive: p.sensitive }, ctx.call),
  destroyKey: async (ctx, p) => {
    await ctx.resident.destroyKey({ slot: p.slot, label: p.label }, ctx.call);
    return {};
  },
  listKeys: async (ctx, p) => ({ keys: await ctx.resident.listKeys(p.slot, ctx.call) }),
  getPublicKey: async (ctx, p) => ({ spki: toB64(await ctx.resident.getPublicKey({ slot: p.slot, label: p.label }, ctx.call)) }),
  encrypt: async (ctx, p) =>
    zeroAfter(openFrom(ctx, p.sealed), async (m) => ({
      ciphertext: toB64(await ctx.resident.encrypt({ slot: p.slot, label: p.label }, p.alg, m, fromB64(p.aad), ctx.call)),
    })),
  decrypt: async (ctx, p) => zeroAfter(await ctx.resident.decrypt({ slot: p.slot, label: p.label }, p.alg, fromB64(p.ciphertext), fromB64(p.aad), ctx.call), (m) => ({ sealed: sealFor(ctx, m) })),
  sign: async (ctx, p) => ({ signature: toB64(await ctx.resident.sign({ slot: p.slot, label: p.label }, p.alg, fromB64(p.message), p.messageType, ctx.call)) }),
  verify: async (ctx, p) => ({
    valid: await ctx.resident.verify({ slot: p.slot, label: p.label }, p.alg, fromB64(p.message), p.messageType, fromB64(p.signature), ctx.call),
  }),
};

type Target = { slot?: string; label?: string };

/** The HSM key a request uses, for the guard and the audit: a resident key, or a chosen wrapping key. */
function targetOf(params: unknown): Target {
  const p = params as Target & { wrappingKey?: Target; wrapped?: { slot?: string; rootKeyLabel: string } };
  if (p.label) return { slot: p.slot, label: p.label };
  if (p.wrappingKey) return p.wrappingKey;
  if (p.wrapped?.slot) return { slot: p.wrapped.slot, label: p.wrapped.rootKeyLabel };
  return {};
}

export type Dispatcher = {
  /** Serves a request: authenticate it, apply the guard, call the port, audit the call; always an answer. */
  serve(frame: RequestFrame): Promise<ResponseFrame>;
  /** An answer refusing a request without serving it (authenticated if the request is). */
  refuse(frame: RequestFrame, error: WireError): ResponseFrame;
};

export type DispatcherDeps = {
  /** The HSM's two ports: the root key's work, and keys that live in it. */
  wrapping: KeyWrapping;
  resident: ResidentKeys;
  /** The connector's end of every channel (its sealing key, signed at each authentication). */
  keys: SealKeys;
  /** The functions' identities this connector trusts to certify requester keys. */
  trusted: readonly KeyObject[];
  guard: Guard;
  audit: HsmAudit;
  now?: () => number;
};

/**
 * The connector's request loop body. Before anything else a request must prove it comes from the
 * functions: its requester key is certified by a trusted functions identity and not expired, its
 * MAC verifies on the channel between that key and this connector's, it was not seen before, and
 * its deadline is near. A relay can therefore neither forge, alter nor replay a request, nor
 * substitute the key answers are sealed to. Every answer carries the channel's MAC in turn.
 */
export function createDispatcher(d: DispatcherDeps): Dispatcher {
  const now = d.now ?? Date.now;
  const certified = new LRUCache<string, true>({ max: 1_024, ttl: MAX_CERT_AHEAD_MS });
  // Bounded lazily (by size, one unit an entry), as lru-cache would preallocate `max` slots.
  const seen = new LRUCache<string, true>({ maxSize: 200_000, sizeCalculation: () => 1, ttl: MAX_DEADLINE_AHEAD_MS });

  /** The requester's key once the request authenticates; throws AuthenticationFailedException otherwise. */
  const requesterOf = (frame: RequestFrame): Uint8Array => {
    const refused = (why: string) => new KmsError("AuthenticationFailedException", `request refused: ${why}`);
    const t = now();
    const { from } = frame;
    if (from.notAfter < t || from.notAfter > t + MAX_CERT_AHEAD_MS) throw refused("the requester key's certificate is expired or not yet valid");
    if (frame.deadline > t + MAX_DEADLINE_AHEAD_MS) throw refused("its deadline is too far ahead");
    // A certificate is the key, its expiry and the signature over both: remembered as that triple, never by its signature alone.
    const certificate = `${from.key}|${from.notAfter}|${from.signature}`;
    if (!certified.has(certificate)) {
      const message = requesterCertMessage(from.key, from.notAfter);
      if (!d.trusted.some((k) => verify(null, message, k, Buffer.from(from.signature, "base64")))) throw refused("the requester key is not certified by a trusted functions identity");
      certified.set(certificate, true, { ttl: Math.max(1, from.notAfter - t) });
    }
    const requester = fromB64(from.key);
    if (!macValid(d.keys, requester, requestMacInput(frame), frame.mac)) throw refused("its MAC does not verify");
    // Remembered by its bytes: the same MAC spelled another way is the same request.
    const tag = Buffer.from(frame.mac, "base64").toString("hex");
    if (seen.has(tag)) throw refused("it was already received");
    seen.set(tag, true, { ttl: Math.max(1, frame.deadline - t) });
    return requester;
  };

  const answer = (frame: RequestFrame, requester: Uint8Array | undefined, a: { ok: true; result: unknown } | { ok: false; error: WireError }): ResponseFrame => {
    const base = a.ok ? { type: "response" as const, id: frame.id, ok: true as const, result: a.result } : { type: "response" as const, id: frame.id, ok: false as const, error: a.error };
    return requester ? { ...base, mac: mac(d.keys, requester, responseMacInput(frame, a)) } : base;
  };
  const failure = (err: unknown): WireError => {
    const kms = err instanceof KmsError ? err : new KmsError("KMSInternalException", "connector error");
    return { code: kms.code, message: kms.message.slice(0, 1024) };
  };

  return {
    refuse(frame, error) {
      let requester: Uint8Array | undefined;
      try {
        requester = requesterOf(frame);
      } catch {
        requester = undefined;
      }
      return answer(frame, requester, { ok: false, error });
    },

    async serve(frame) {
      const started = performance.now();
      const params = Ops[frame.op].params.safeParse(frame.params);
      const target = params.success ? targetOf(params.data) : {};
      let requester: Uint8Array | undefined;
      let response: ResponseFrame;
      try {
        requester = requesterOf(frame);
        if (now() > frame.deadline) throw new KmsError("DependencyTimeoutException", "the request's deadline had passed on arrival");
        if (!params.success) throw new KmsError("ValidationException", `invalid params for ${frame.op}: ${params.error.issues[0]?.path.join(".") ?? ""}`);
        d.guard.check(frame.op, target.label);
        const ctx: Ctx = { wrapping: d.wrapping, resident: d.resident, call: { requestId: frame.requestId, deadline: frame.deadline }, keys: d.keys, requester, context: sealContext(frame.requestId, frame.op) };
        const handler = HANDLERS[frame.op] as (ctx: Ctx, p: unknown) => Promise<unknown>;
        response = answer(frame, requester, { ok: true, result: await handler(ctx, params.data) });
      } catch (err) {
        response = answer(frame, requester, { ok: false, error: failure(err) });
      }
      d.audit.record({
        time: new Date().toISOString(),
        op: frame.op,
        ...(target.slot ? { slot: target.slot } : {}),
        ...(target.label ? { label: target.label } : {}),
        requestId: frame.requestId,
        result: response.ok ? "ok" : response.error.code,
        durationMs: Math.round((performance.now() - started) * 100) / 100,
      });
      return response;
    },
  };
}
