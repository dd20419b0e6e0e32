import * as z from "zod";

/** Standard base64 (RFC 4648 §4, padded), as the XKS API carries bytes; anything else is refused, not guessed at. */
const STRICT_BASE64 = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/;
const Bytes = (maxBytes: number) =>
  z
    .string()
    .max(Math.ceil(maxBytes / 3) * 4)
    .regex(STRICT_BASE64, "must be standard base64")
    .transform((s) => new Uint8Array(Buffer.from(s, "base64")));

/** What Tether accepts at most (above the spec's minimums: 4300 bytes of plaintext, 8192 of AAD); more is UnsupportedOperationException. */
export const XKS_LIMITS = { plaintextBytes: 8192, aadBytes: 8192, metadataBytes: 20 } as const;
/** Bounds what a body may carry before the operation judges its size (501 beyond its limits, not 400). */
const WIRE_MAX = 64 * 1024;

/**
 * requestMetadata: what AWS KMS says of the call. Unknown fields are accepted (AWS adds fields over
 * time) and so is any kmsOperation; kmsRequestId is opaque.
 */
const Metadata = z
  .object({
    kmsRequestId: z.string().min(1).max(2048),
    kmsOperation: z.string().min(1).max(256),
    awsPrincipalArn: z.string().min(1).max(2048).optional(),
    kmsKeyArn: z.string().min(1).max(2048).optional(),
    kmsViaService: z.string().max(2048).optional(),
    awsSourceVpc: z.string().max(2048).optional(),
    awsSourceVpce: z.string().max(2048).optional(),
  })
  .passthrough();
const ForKey = Metadata.extend({ awsPrincipalArn: z.string().min(1).max(2048) });
const ForCrypto = ForKey.extend({ kmsKeyArn: z.string().min(1).max(2048) });
export type RequestMetadata = z.infer<typeof Metadata>;

export const HealthBody = z.object({ requestMetadata: Metadata });
export const MetadataBody = z.object({ requestMetadata: ForKey });
export const EncryptBody = z.object({
  requestMetadata: ForCrypto,
  plaintext: Bytes(WIRE_MAX),
  encryptionAlgorithm: z.literal("AES_GCM"),
  additionalAuthenticatedData: Bytes(WIRE_MAX).optional(),
  ciphertextDataIntegrityValueAlgorithm: z.literal("SHA_256").optional(),
});
export const DecryptBody = z.object({
  requestMetadata: ForCrypto,
  ciphertext: Bytes(WIRE_MAX),
  ciphertextMetadata: Bytes(WIRE_MAX).optional(),
  encryptionAlgorithm: z.literal("AES_GCM"),
  additionalAuthenticatedData: Bytes(WIRE_MAX).optional(),
  initializationVector: Bytes(64),
  authenticationTag: Bytes(64),
});
export type EncryptInput = z.output<typeof EncryptBody>;
export type DecryptInput = z.output<typeof DecryptBody>;

/** `externalKeyId`: at most 128 of A-Z a-z 0-9 - . _ (the spec's rule); Tether's key ids are UUIDs. */
export const ExternalKeyId = z.string().regex(/^[A-Za-z0-9._-]{1,128}$/, "an external key id");
