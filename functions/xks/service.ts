import { timingSafeEqual } from "node:crypto";
import { isKmsError, KmsError } from "../../shared/errors.js";
import type { CallOpts, HsmHealth, KeyWrapping } from "../../shared/hsm/port.js";
import { toB64 } from "../../shared/protocol/codec.js";
import type { Principal } from "../identity/principal.js";
import type { KeyDirectory } from "../keys/directory.js";
import type { KeyLifecycle } from "../keys/lifecycle.js";
import type { KeyMaterial } from "../keys/material.js";
import { assertNotExpired, assertUsable, type KeyRecord } from "../keys/model.js";
import { primitiveOf } from "../keys/primitives.js";
import type { Authorizer, KeyAction } from "../policy/authorizer.js";
import { gcmAad, integrityValue, joinBody, metadataOf, splitBody, versionOf, MAX_METADATA_BYTES } from "./ciphertext.js";
import { XKS_LIMITS, type DecryptInput, type EncryptInput } from "./shapes.js";

export type XksUsage = "ENCRYPT" | "DECRYPT";
export type XksHealth = {
  xksProxyFleetSize: number;
  xksProxyVendor: string;
  xksProxyModel: string;
  ekmVendor: string;
  ekmFleetDetails: { id: string; model: string; healthStatus: "ACTIVE" | "DEGRADED" | "UNAVAILABLE" }[];
};

const USAGES: readonly [XksUsage, KeyAction][] = [
  ["ENCRYPT", "kms:Encrypt"],
  ["DECRYPT", "kms:Decrypt"],
];

/**
 * The XKS proxy API's operations on Tether keys: AES-256-GCM with the key's material (cached,
 * unwrapped once through the HSM), the spec's AAD layout and integrity value, and the key version
 * in the ciphertext metadata so that rotation never breaks what AWS stored. The key store is a
 * principal: its key policies and grants decide what it may do with each key, and what it may
 * not do is a usage the key does not have (InvalidKeyUsageException, as AWS KMS expects).
 */
export class XksService {
  private healthCache: { at: number; value: Promise<XksHealth> } | undefined;

  constructor(
    private readonly directory: KeyDirectory,
    private readonly lifecycle: KeyLifecycle,
    private readonly material: KeyMaterial,
    private readonly authorizer: Authorizer,
    private readonly wrapping: KeyWrapping,
    private readonly o: { version: string; healthCacheMs: number; now?: () => number },
  ) {}

  /** A deep check (a real wrap and unwrap under the root key, in the HSM); a healthy answer is reused for at most a minute. */
  health(call: CallOpts): Promise<XksHealth> {
    const now = (this.o.now ?? Date.now)();
    const cached = this.healthCache;
    if (cached && now - cached.at < Math.min(this.o.healthCacheMs, 60_000)) return cached.value;
    const value: Promise<XksHealth> = this.wrapping.health(call).then(
      (h) => this.healthOf(h),
      (err: unknown) => {
        // An HSM out of reach is answered, never remembered: the next check looks again.
        if (this.healthCache?.value === value) this.healthCache = undefined;
        if (!isKmsError(err)) throw err;
        return this.healthOf(undefined);
      },
    );
    this.healthCache = { at: now, value };
    return value;
  }

  /** The key as AWS KMS sees it: AES_256, the usages this key store may make of it, enabled or not. */
  async metadata(principal: Principal, keyId: string) {
    const key = servableKey(await this.directory.read(principal.tenant, keyId), keyId);
    principal.keysUsed?.add(key.keyId);
    const keyUsage = await this.usagesOf(principal, key);
    if (keyUsage.length === 0) throw new KmsError("AccessDeniedException", `key store may neither encrypt nor decrypt with key ${keyId}`);
    return { keySpec: "AES_256", keyUsage, keyStatus: key.state === "Enabled" ? "ENABLED" : "DISABLED" };
  }

  async encrypt(principal: Principal, keyId: string, input: EncryptInput, call: CallOpts) {
    const aad = input.additionalAuthenticatedData ?? new Uint8Array();
    if (input.plaintext.length > XKS_LIMITS.plaintextBytes || aad.length > XKS_LIMITS.aadBytes) throw tooLarge();
    const key = await this.servable(principal, keyId, "kms:Encrypt", call);
    assertNotExpired(key);
    const withIntegrity = input.ciphertextDataIntegrityValueAlgorithm === "SHA_256";
    // The integrity value is proven by decrypting what was encrypted: a key this store may not decrypt with cannot give one.
    if (withIntegrity && !(await this.authorizer.decideKey({ principal, action: "kms:Decrypt", key })).allowed) throw await this.refusal(principal, key, "kms:Decrypt");
    const metadata = metadataOf(key.primaryVersion);
    const body = await this.material.sealing(key, call, (p) => primitiveOf(p, "aead", key).seal(input.plaintext, gcmAad(aad, metadata)));
    const { iv, ciphertext, tag } = splitBody(body);
    const answer = { authenticationTag: toB64(tag), ciphertext: toB64(ciphertext), ciphertextMetadata: toB64(metadata), initializationVector: toB64(iv) };
    if (!withIntegrity) return answer;
    const cdiv = integrityValue({ aad, metadata, iv, ciphertext, tag });
    const back = await this.material.using(key, key.primaryVersion, call, (p) => primitiveOf(p, "aead", key).open(body, gcmAad(aad, metadata)));
    try {
      if (back.length !== input.plaintext.length || !timingSafeEqual(back, input.plaintext)) throw new KmsError("KMSInternalException", "the ciphertext did not decrypt to its plaintext");
    } finally {
      back.fill(0);
    }
    return { ...answer, ciphertextDataIntegrityValue: toB64(cdiv) };
  }

  async decrypt(principal: Principal, keyId: string, input: DecryptInput, call: CallOpts) {
    const aad = input.additionalAuthenticatedData ?? new Uint8Array();
    if (input.ciphertext.length > XKS_LIMITS.plaintextBytes || aad.length > XKS_LIMITS.aadBytes) throw tooLarge();
    if ((input.ciphertextMetadata?.length ?? 0) > MAX_METADATA_BYTES) throw new KmsError("InvalidCiphertextException", `ciphertextMetadata is at most ${MAX_METADATA_BYTES} bytes`);
    const key = await this.servable(principal, keyId, "kms:Decrypt", call);
    const version = versionOf(input.ciphertextMetadata);
    if (version > key.primaryVersion) throw new KmsError("InvalidCiphertextException", "the ciphertext metadata names a version the key does not have");
    const body = joinBody({ iv: input.initializationVector, ciphertext: input.ciphertext, tag: input.authenticationTag });
    const plaintext = await this.material.using(key, version, call, (p) => primitiveOf(p, "aead", key).open(body, gcmAad(aad, input.ciphertextMetadata ?? new Uint8Array())));
    return { plaintext: toB64(plaintext) };
  }

  /**
   * A key this store may use for the action: a symmetric key of Tether's material (not derived,
   * not resident in the HSM) of its tenant, Enabled, with what is due applied. A key policy that
   * does not let the store do it makes it a usage the key does not have.
   */
  private async servable(principal: Principal, keyId: string, action: KeyAction, call: CallOpts): Promise<KeyRecord> {
    const key = await this.lifecycle.forUse(principal, keyId, action, call).catch(async (err: unknown) => {
      throw isKmsError(err, "AccessDeniedException") ? await this.refusal(principal, servableKey(await this.directory.read(principal.tenant, keyId), keyId), action) : err;
    });
    assertUsable(servableKey(key, keyId));
    return key;
  }

  /**
   * Why the key store may not: a use its key policy never gives it is a usage the key does not
   * have (InvalidKeyUsageException); one it gives under conditions that this call's
   * requestMetadata does not meet (`xks:*`, the spec's secondary authorization) is AccessDeniedException.
   */
  private async refusal(principal: Principal, key: KeyRecord, action: KeyAction): Promise<KmsError> {
    const verb = action.slice(4).toLowerCase();
    return (await this.authorizer.allowsAtAll({ principal, action, key }))
      ? new KmsError("AccessDeniedException", `the key policy of ${key.keyId} refuses this ${verb} (its conditions)`)
      : new KmsError("InvalidKeyUsageException", `key ${key.keyId} does not ${verb} for this key store`);
  }

  private async usagesOf(principal: Principal, key: KeyRecord): Promise<XksUsage[]> {
    const allowed = await Promise.all(USAGES.map(async ([usage, action]) => ((await this.authorizer.allowsAtAll({ principal, action, key })) ? usage : undefined)));
    return allowed.filter((u): u is XksUsage => u !== undefined);
  }

  private healthOf(h: HsmHealth | undefined): XksHealth {
    const slot = h?.slots[0];
    return {
      xksProxyFleetSize: 1,
      xksProxyVendor: "Tether",
      xksProxyModel: `Tether KMS ${this.o.version}`,
      ekmVendor: slot?.manufacturer || "unknown",
      ekmFleetDetails: [{ id: h?.identity ?? "hsm", model: slot?.model || "unknown", healthStatus: !h ? "UNAVAILABLE" : h.rootKeyOk ? "ACTIVE" : "DEGRADED" }],
    };
  }
}

/** Only symmetric keys of Tether's own material (not derived, not resident in the HSM) are external keys to AWS KMS. */
function servableKey(key: KeyRecord, keyId: string): KeyRecord {
  if (key.spec !== "SYMMETRIC_DEFAULT" || key.hsm || key.derived || key.state === "Destroyed") throw new KmsError("NotFoundException", `key ${keyId} is not an AES-256 key Tether serves through XKS`);
  return key;
}

const tooLarge = () => new KmsError("UnsupportedOperationException", `Tether takes at most ${XKS_LIMITS.plaintextBytes} bytes of plaintext or ciphertext and ${XKS_LIMITS.aadBytes} of AAD`);
