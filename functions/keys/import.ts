import { constants, createPrivateKey, privateDecrypt } from "node:crypto";
import * as z from "zod";
import { KmsError } from "../../shared/errors.js";
import type { CallOpts, HsmPort } from "../../shared/hsm/port.js";
import { newKeyPair } from "./key-pairs.js";
import { WrappedRecord } from "./model.js";
import { wrappedFromWire, wrappedToWire } from "../../shared/protocol/codec.js";

/**
 * BYOK: a wrapping key pair per import. The public key goes to the customer; the private key is
 * wrapped by the HSM root key inside the import token, bound to the tenant, the key and the
 * token's expiry, so tokens are stateless and a token altered or used for another key fails.
 */
export const IMPORT_TOKEN_TTL_MS = 24 * 3_600_000;

const Token = z.object({ v: z.literal(1), keyId: z.string(), expiresAt: z.string(), wrapped: WrappedRecord });

const tokenBinding = (tenant: string, keyId: string, expiresAt: string) => new Uint8Array(Buffer.from(`tether/import-token/v1\n${tenant}\n${keyId}\n${expiresAt}`, "utf8"));

export async function newImportParameters(hsm: HsmPort, tenant: string, keyId: string, now: number, call: CallOpts) {
  const pair = await newKeyPair("RSA_2048");
  const der = pair.privateKey;
  const expiresAt = new Date(now + IMPORT_TOKEN_TTL_MS).toISOString();
  try {
    const w = await hsm.wrap(new Uint8Array(der), tokenBinding(tenant, keyId, expiresAt), call);
    const token = { v: 1, keyId, expiresAt, wrapped: wrappedToWire(w) };
    return {
      publicKey: new Uint8Array(pair.publicKey),
      importToken: new Uint8Array(Buffer.from(JSON.stringify(token), "utf8")),
      wrappingAlgorithm: "RSAES_OAEP_SHA_256" as const,
      parametersValidTo: expiresAt,
    };
  } finally {
    der.fill(0);
  }
}

/** The customer's key material, recovered from its RSA-OAEP-SHA-256 wrapping with the token's private key. */
export async function openImportedMaterial(hsm: HsmPort, tenant: string, keyId: string, importToken: Uint8Array, encrypted: Uint8Array, now: number, call: CallOpts): Promise<Uint8Array> {
  const invalidToken = () => new KmsError("ValidationException", "the import token is invalid, expired, or for another key");
  let token: z.infer<typeof Token>;
  try {
    token = Token.parse(JSON.parse(Buffer.from(importToken).toString("utf8")));
  } catch {
    throw invalidToken();
  }
  if (token.keyId !== keyId || !(Date.parse(token.expiresAt) > now)) throw invalidToken();
  const der = await hsm.unwrap(wrappedFromWire(token.wrapped), tokenBinding(tenant, keyId, token.expiresAt), call).catch(() => {
    throw invalidToken();
  });
  try {
    const key = createPrivateKey({ key: Buffer.from(der), format: "der", type: "pkcs8" });
    return new Uint8Array(privateDecrypt({ key, padding: constants.RSA_PKCS1_OAEP_PADDING, oaepHash: "sha256" }, encrypted));
  } catch {
    throw new KmsError("InvalidCiphertextException", "the encrypted key material could not be unwrapped with this import's public key");
  } finally {
    der.fill(0);
  }
}
