import * as z from "zod";
import { MAX_HSM_DATA_BYTES, MAX_RANDOM_BYTES, SIGNING_ALGS } from "../../shared/hsm/port.js";
import { Blob, EncryptionContext } from "../http/validate.js";
import { KEY_PAIR_SPECS } from "../keys/key-pairs.js";
import { DATA_KEY_SPECS, ENCRYPTION_ALGORITHMS, MAC_ALGORITHMS } from "../keys/specs.js";
import { MAX_PLAINTEXT_BYTES } from "./service.js";

const KeyRef = z.string().min(1).max(2048);
const MAX_CIPHERTEXT_BYTES = 6144;

export const GenerateRandomBody = z.object({ numberOfBytes: z.number().int().min(1).max(MAX_RANDOM_BYTES) }).strict();

const EncryptionAlgorithm = z.enum(ENCRYPTION_ALGORITHMS).default("SYMMETRIC_DEFAULT");

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

const MacAlgorithm = z.enum(MAC_ALGORITHMS);
export const GenerateMacBody = z.object({ message: Blob(MAX_PLAINTEXT_BYTES), macAlgorithm: MacAlgorithm }).strict();
export const VerifyMacBody = GenerateMacBody.extend({ mac: Blob(64) }).strict();

export const DataKeyBody = z
  .object({ keySpec: z.enum(DATA_KEY_SPECS).optional(), numberOfBytes: z.number().int().min(1).max(1024).optional(), encryptionContext: EncryptionContext })
  .strict();

export const DataKeyPairBody = z
  .object({ keyPairSpec: z.enum(KEY_PAIR_SPECS), encryptionContext: EncryptionContext })
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
