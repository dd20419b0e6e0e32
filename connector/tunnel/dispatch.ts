import { KmsError } from "../../shared/errors.js";
import { open, seal, sealContext, type SealKeys } from "../../shared/crypto/seal.js";
import type { CallOpts, HsmPort } from "../../shared/hsm/port.js";
import { fromB64, toB64, wrappedFromWire, wrappedToWire } from "../../shared/protocol/codec.js";
import { Ops, type OpName, type OpParams, type OpResult, type RequestFrame, type ResponseFrame } from "../../shared/protocol/frames.js";
import type { HsmAudit } from "../audit.js";
import type { Guard } from "../guard.js";

type Ctx = { port: HsmPort; call: CallOpts; keys: SealKeys; context: Uint8Array };

const sealFor = (ctx: Ctx, requesterKey: string, m: Uint8Array) => toB64(seal(ctx.keys, fromB64(requesterKey), m, ctx.context));
const openFrom = (ctx: Ctx, requesterKey: string, box: string) => open(ctx.keys, fromB64(requesterKey), fromB64(box), ctx.context);

/** Runs `fn` on plaintext material and zeroes it afterwards, whatever happens. */
async function zeroAfter<T>(material: Uint8Array, fn: (m: Uint8Array) => T | Promise<T>): Promise<T> {
  try {
    return await fn(material);
  } finally {
    material.fill(0);
  }
}

/** Each operation: call the port, sealing any material that leaves and opening any that arrives. */
const HANDLERS: { [O in OpName]: (ctx: Ctx, p: OpParams<O>) => Promise<OpResult<O>> } = {
  health: (ctx) => ctx.port.health(ctx.call),
  random: async (ctx, p) => ({ bytes: toB64(await ctx.port.random(p.length, ctx.call)) }),
  generateDataKey: async (ctx, p) => {
    const sealTo = p.sealTo;
    const out = await ctx.port.generateDataKey(p.length, fromB64(p.binding), { ...ctx.call, returnPlaintext: sealTo !== undefined, wrappingKey: p.wrappingKey });
    const wrapped = wrappedToWire(out.wrapped);
    if (!sealTo || !out.plaintext) return { wrapped };
    return zeroAfter(out.plaintext, (m) => ({ wrapped, sealed: sealFor(ctx, sealTo, m) }));
  },
  wrap: async (ctx, p) =>
    zeroAfter(openFrom(ctx, p.sealTo, p.sealed), async (m) => ({ wrapped: wrappedToWire(await ctx.port.wrap(m, fromB64(p.binding), { ...ctx.call, wrappingKey: p.wrappingKey })) })),
  unwrap: async (ctx, p) =>
    zeroAfter(await ctx.port.unwrap(wrappedFromWire(p.wrapped), fromB64(p.binding), ctx.call), (m) => ({ sealed: sealFor(ctx, p.sealTo, m) })),
  createKey: (ctx, p) => ctx.port.createKey({ slot: p.slot, label: p.label }, p.spec, { sensitive: p.sensitive }, ctx.call),
  destroyKey: async (ctx, p) => {
    await ctx.port.destroyKey({ slot: p.slot, label: p.label }, ctx.call);
    return {};
  },
  listKeys: async (ctx, p) => ({ keys: await ctx.port.listKeys(p.slot, ctx.call) }),
  getPublicKey: async (ctx, p) => ({ spki: toB64(await ctx.port.getPublicKey({ slot: p.slot, label: p.label }, ctx.call)) }),
  encrypt: async (ctx, p) =>
    zeroAfter(openFrom(ctx, p.sealTo, p.sealed), async (m) => ({
      ciphertext: toB64(await ctx.port.encrypt({ slot: p.slot, label: p.label }, p.alg, m, fromB64(p.aad), ctx.call)),
    })),
  decrypt: async (ctx, p) =>
    zeroAfter(await ctx.port.decrypt({ slot: p.slot, label: p.label }, p.alg, fromB64(p.ciphertext), fromB64(p.aad), ctx.call), (m) => ({
      sealed: sealFor(ctx, p.sealTo, m),
    })),
  sign: async (ctx, p) => ({ signature: toB64(await ctx.port.sign({ slot: p.slot, label: p.label }, p.alg, fromB64(p.message), p.messageType, ctx.call)) }),
  verify: async (ctx, p) => ({
    valid: await ctx.port.verify({ slot: p.slot, label: p.label }, p.alg, fromB64(p.message), p.messageType, fromB64(p.signature), ctx.call),
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

export type Dispatcher = (frame: RequestFrame) => Promise<ResponseFrame>;

/**
 * The connector's request loop body: validate, apply the customer's guard, call the port,
 * audit the call locally, and always answer with a response frame.
 */
export function createDispatcher(d: { port: HsmPort; keys: SealKeys; guard: Guard; audit: HsmAudit; now?: () => number }): Dispatcher {
  const now = d.now ?? Date.now;
  return async (frame) => {
    const started = performance.now();
    const params = Ops[frame.op].params.safeParse(frame.params);
    const target = params.success ? targetOf(params.data) : {};
    let response: ResponseFrame;
    try {
      if (now() > frame.deadline) throw new KmsError("DependencyTimeoutException", "the request's deadline had passed on arrival");
      if (!params.success) throw new KmsError("ValidationException", `invalid params for ${frame.op}: ${params.error.issues[0]?.path.join(".") ?? ""}`);
      d.guard.check(frame.op, target.label);
      const ctx: Ctx = { port: d.port, call: { requestId: frame.requestId, deadline: frame.deadline }, keys: d.keys, context: sealContext(frame.requestId, frame.op) };
      const handler = HANDLERS[frame.op] as (ctx: Ctx, p: unknown) => Promise<unknown>;
      response = { type: "response", id: frame.id, ok: true, result: await handler(ctx, params.data) };
    } catch (err) {
      const kms = err instanceof KmsError ? err : new KmsError("KMSInternalException", "connector error");
      response = { type: "response", id: frame.id, ok: false, error: { code: kms.code, message: kms.message.slice(0, 1024) } };
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
  };
}
