import type { WrappedKey } from "../hsm/port.js";
import type { WireWrapped } from "./frames.js";

/** Bytes ↔ base64 on the wire, and the wrapped-key record in both forms. */
export const toB64 = (bytes: Uint8Array): string => Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString("base64");
export const fromB64 = (text: string): Uint8Array => new Uint8Array(Buffer.from(text, "base64"));

export const wrappedToWire = (w: WrappedKey): WireWrapped => ({
  rootKeyLabel: w.rootKeyLabel,
  ...(w.slot ? { slot: w.slot } : {}),
  hsmIdentity: w.hsmIdentity,
  iv: toB64(w.iv),
  ciphertext: toB64(w.ciphertext),
});

export const wrappedFromWire = (w: WireWrapped): WrappedKey => ({
  rootKeyLabel: w.rootKeyLabel,
  ...(w.slot ? { slot: w.slot } : {}),
  hsmIdentity: w.hsmIdentity,
  iv: fromB64(w.iv),
  ciphertext: fromB64(w.ciphertext),
});
