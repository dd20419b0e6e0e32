import { constants, createHmac, createPrivateKey, privateDecrypt } from "node:crypto";
import * as z from "zod";
import { KmsError } from "../../shared/errors.js";
import type { CallOpts, KeyWrapping } from "../../shared/hsm/port.js";
import { newKeyPair } from "./key-pairs.js";
import { wrapBinding } from "../../shared/crypto/envelope.js";
import type { Principal } from "../identity/principal.js";
import type { KeyDirectory } from "./directory.js";
import { invalidState, wrappingKeyOf, WrappedRecord, type KeyRecord } from "./model.js";
import type { KeyStore } from "./store.js";
import { wrappedFromWire, wrappedToWire } from "../../shared/protocol/codec.js";

/**
 * BYOK: a wrapping key pair per import. The public key goes to the customer; the private key is
 * wrapped by the HSM root key inside the import token, bound to the tenant, the key and the
 * token's expiry, so tokens are stateless and a token altered or used for another key fails.
 */
export const IMPORT_TOKEN_TTL_MS = 24 * 3_600_000;

const Token = z.object({ v: z.literal(1), keyId: z.string(), expiresAt: z.string(), wrapped: WrappedRecord });

const tokenBinding = (tenant: string, keyId: string, expiresAt: string) => new Uint8Array(Buffer.from(`tether/import-token/v1\n${tenant}\n${keyId}\n${expiresAt}`, "utf8"));

async function newImportParameters(hsm: KeyWrapping, tenant: string, keyId: string, now: number, call: CallOpts) {
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
async function openImportedMaterial(hsm: KeyWrapping, tenant: string, keyId: string, importToken: Uint8Array, encrypted: Uint8Array, now: number, call: CallOpts): Promise<Uint8Array> {
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

/** A one-way check value of imported material: it proves a re-import brings the same material without revealing it. */
const materialCheck = (material: Uint8Array): string => createHmac("sha256", material).update("tether/imported-material-check/v1").digest("base64");

/** Imported key material (BYOK), for keys created with origin EXTERNAL. */
export class KeyImport {
  constructor(
    private readonly directory: KeyDirectory,
    private readonly store: KeyStore,
    private readonly hsm: KeyWrapping,
  ) {}

  /** A wrapping public key and an import token for a key awaiting imported material. */
  async parameters(principal: Principal, keyId: string, call: CallOpts) {
    const key = await this.directory.authorized(principal, keyId, "kms:GetParametersForImport");
    if (key.origin !== "EXTERNAL" || key.state !== "PendingImport") throw invalidState(key);
    return { key, ...(await newImportParameters(this.hsm, key.tenant, key.keyId, this.directory.now(), call)) };
  }

  /**
   * Imports the customer's 256-bit key material, wrapped by the HSM like any other; the key
   * becomes Enabled. After DeleteImportedKeyMaterial, only the same material is accepted again.
   */
  async importMaterial(principal: Principal, keyId: string, importToken: Uint8Array, encryptedMaterial: Uint8Array, call: CallOpts): Promise<KeyRecord> {
    const key = await this.directory.authorized(principal, keyId, "kms:ImportKeyMaterial");
    if (key.origin !== "EXTERNAL" || key.state !== "PendingImport") throw invalidState(key);
    const material = await openImportedMaterial(this.hsm, key.tenant, key.keyId, importToken, encryptedMaterial, this.directory.now(), call);
    try {
      if (material.length !== 32) throw new KmsError("ValidationException", "imported key material must be 256 bits");
      const check = materialCheck(material);
      if (key.materialCheck && key.materialCheck !== check) throw new KmsError("IncorrectKeyMaterialException", `key ${key.keyId} was imported with other material; only the same material can be imported again`);
      const wrapped = await this.hsm.wrap(material, wrapBinding(key.tenant, key.keyId, 1), { ...call, wrappingKey: wrappingKeyOf(key.tenant, key.wrappingKeyId) });
      const next: KeyRecord = { ...key, state: "Enabled", materialCheck: check, revision: key.revision + 1 };
      const version = { version: 1, createdAt: new Date(this.directory.now()).toISOString(), wrapped: wrappedToWire(wrapped) };
      if (!(await (key.materialCheck ? this.store.restoreMaterial(next, version) : this.store.addVersion(next, version)))) {
        throw new KmsError("KMSInvalidStateException", `key ${key.keyId} changed during the import; retry`);
      }
      return this.directory.remember(next);
    } finally {
      material.fill(0);
    }
  }

  /** Deletes imported material at once (AWS's DeleteImportedKeyMaterial): the key waits for the same material again (PendingImport). */
  async deleteMaterial(principal: Principal, keyId: string): Promise<KeyRecord> {
    const key = await this.directory.authorized(principal, keyId, "kms:DeleteImportedKeyMaterial");
    if (key.origin !== "EXTERNAL") throw new KmsError("UnsupportedOperationException", `key ${key.keyId} does not have imported material`);
    if (key.state !== "Enabled" && key.state !== "Disabled") throw invalidState(key);
    // A new wrap epoch makes any instance's cached material for this key stale.
    const next: KeyRecord = { ...key, state: "PendingImport", wrapEpoch: key.wrapEpoch + 1, revision: key.revision + 1 };
    if (!(await this.store.shred(next))) throw new KmsError("ThrottlingException", `key ${key.keyId} changed meanwhile; retry`);
    return this.directory.remember(next);
  }
}
