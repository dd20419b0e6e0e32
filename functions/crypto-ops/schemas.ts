import { z } from "zod";
import { MAX_RANDOM_BYTES } from "../../shared/hsm/port.js";
import { Blob, EncryptionContext } from "../http/validate.js";
import { MAX_PLAINTEXT_BYTES } from "./service.js";

const KeyRef = z.string().min(1).max(2048);
const MAX_CIPHERTEXT_BYTES = 6144;

export const GenerateRandomBody = z.object({ numberOfBytes: z.number().int().min(1).max(MAX_RANDOM_BYTES) }).strict();

export const EncryptBody = z.object({ plaintext: Blob(MAX_PLAINTEXT_BYTES), encryptionContext: EncryptionContext }).strict();

export const DecryptBody = z.object({ ciphertextBlob: Blob(MAX_CIPHERTEXT_BYTES), encryptionContext: EncryptionContext, keyId: KeyRef.optional() }).strict();

export const DataKeyBody = z
  .object({ keySpec: z.enum(["AES_128", "AES_256"]).optional(), numberOfBytes: z.number().int().min(1).max(1024).optional(), encryptionContext: EncryptionContext })
  .strict();

export const ReEncryptBody = z
  .object({
    ciphertextBlob: Blob(MAX_CIPHERTEXT_BYTES),
    sourceEncryptionContext: EncryptionContext,
    sourceKeyId: KeyRef.optional(),
    destinationKeyId: KeyRef,
    destinationEncryptionContext: EncryptionContext,
  })
  .strict();
