import * as z from "zod";
import { Blob, DerivationContext, EncryptionContext, KeyRef, LIMITS } from "../contract/fields.js";

/** Native batches: at most this many items per request, each encrypted or decrypted on its own. */
export const MAX_BATCH_ITEMS = 100;

export const BatchEncryptBody = z
  .object({
    items: z
      .array(z.object({ keyId: KeyRef, plaintext: Blob(LIMITS.plaintextBytes), encryptionContext: EncryptionContext, derivationContext: DerivationContext }).strict())
      .min(1)
      .max(MAX_BATCH_ITEMS),
  })
  .strict();

export const BatchDecryptBody = z
  .object({
    items: z
      .array(z.object({ ciphertextBlob: Blob(LIMITS.ciphertextBytes), encryptionContext: EncryptionContext, keyId: KeyRef.optional(), derivationContext: DerivationContext }).strict())
      .min(1)
      .max(MAX_BATCH_ITEMS),
  })
  .strict();
