import * as z from "zod";

/** Stable error codes, named as AWS KMS names them where AWS has a name. */
export const KmsErrorCode = z.enum([
  "ValidationException",
  "AuthenticationFailedException",
  "AccessDeniedException",
  "NotFoundException",
  "AlreadyExistsException",
  "DisabledException",
  "KMSInvalidStateException",
  "InvalidCiphertextException",
  "IncorrectKeyException",
  "IncorrectKeyMaterialException",
  "InvalidKeyUsageException",
  "LimitExceededException",
  "MalformedPolicyDocumentException",
  "ThrottlingException",
  "HsmUnavailableException",
  "DependencyTimeoutException",
  "DependencyUnavailableException",
  "UnsupportedOperationException",
  "KMSInternalException",
]);
export type KmsErrorCode = z.infer<typeof KmsErrorCode>;

export class KmsError extends Error {
  override readonly name = "KmsError";
  constructor(
    readonly code: KmsErrorCode,
    message: string,
    opts?: { cause?: unknown },
  ) {
    super(message, opts);
  }
}

export const isKmsError = (err: unknown, code?: KmsErrorCode): err is KmsError =>
  err instanceof KmsError && (code === undefined || err.code === code);
