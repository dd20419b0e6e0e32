import * as z from "zod";
import { MAX_HSM_DATA_BYTES, MAX_RANDOM_BYTES, SIGNING_ALGS } from "../../shared/hsm/port.js";
import { Blob, EncryptionContext } from "../http/validate.js";
import { MAX_PLAINTEXT_BYTES } from "./service.js";

const KeyRef = z.string().min(1).max(2048);
const MAX_CIPHERTEXT_BYTES = 6144;

export const GenerateRandomBody = z.object({ numberOfBytes: z.number().int().min(1).max(MAX_RANDOM_BYTES) }).strict();

const EncryptionAlgorithm = z.enum(["SYMMETRIC_DEFAULT", "RSAES_OAEP_SHA_1", "RSAES_OAEP_SHA_256"]).default("SYMMETRIC_DEFAULT");

/** For derived keys: the context (bytes) each request's key is derived from. */
const DerivationContext = Blob(1024).optional();

export const EncryptBody = z
  .object({ plaintext: Blob(MAX_PLAINTEXT_BYTES), encryptionContext: EncryptionContext, encryptionAlgorithm: EncryptionAlgorithm, derivationContext: DerivationContext })
  .strict();

export const DecryptBody = z
  .object({
    ciphertextBlob: Blob(MAX_CIPHERTEXT_BYTES),
    encryptionContext: EncryptionContext,
    keyId: KeyRef.optional(),
    encryptionAlgorithm: EncryptionAlgorithm,
    derivationContext: DerivationContext,
  })
  .strict();

export const SignBody = z
  .object({ message: Blob(MAX_HSM_DATA_BYTES), messageType: z.enum(["RAW", "DIGEST"]).default("RAW"), signingAlgorithm: z.enum(SIGNING_ALGS) })
  .strict();
export const VerifyBody = SignBody.extend({ signature: Blob(1024) }).strict();

const MacAlgorithm = z.enum(["HMAC_SHA_256", "HMAC_SHA_384", "HMAC_SHA_512"]);
export const GenerateMacBody = z.object({ message: Blob(MAX_PLAINTEXT_BYTES), macAlgorithm: MacAlgorithm }).strict();
export const VerifyMacBody = GenerateMacBody.extend({ mac: Blob(64) }).strict();

export const DataKeyBody = z
  .object({ keySpec: z.enum(["AES_128", "AES_256"]).optional(), numberOfBytes: z.number().int().min(1).max(1024).optional(), encryptionContext: EncryptionContext })
  .strict();

export const DataKeyPairBody = z
  .object({ keyPairSpec: z.enum(["RSA_2048", "RSA_3072", "RSA_4096", "ECC_NIST_P256", "ECC_NIST_P384"]), encryptionContext: EncryptionContext })
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

export const MAX_BATCH_ITEMS = 100;

export const BatchEncryptBody = z
  .object({
    items: z
      .array(z.object({ keyId: KeyRef, plaintext: Blob(MAX_PLAINTEXT_BYTES), encryptionContext: EncryptionContext, derivationContext: DerivationContext }).strict())
      .min(1)
      .max(MAX_BATCH_ITEMS),
  })
  .strict();

export const BatchDecryptBody = z
  .object({
    items: z
      .array(z.object({ ciphertextBlob: Blob(MAX_CIPHERTEXT_BYTES), encryptionContext: EncryptionContext, keyId: KeyRef.optional(), derivationContext: DerivationContext }).strict())
      .min(1)
      .max(MAX_BATCH_ITEMS),
  })
  .strict();
