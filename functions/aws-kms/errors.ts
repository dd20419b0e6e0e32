import type { ErrorHandler } from "hono";
import type { ContentfulStatusCode } from "hono/utils/http-status";
import type { KmsErrorCode } from "../../shared/errors.js";
import type { AppEnv } from "../http/env.js";
import { codeOf, logFailure, messageOf } from "../http/errors.js";
import { AuthFailure, type AuthFailureReason } from "../identity/principals.js";
import { AwsOutcome } from "./operations.js";
import { AWS_JSON } from "./shapes.js";

/** Our codes as AWS KMS names them on the wire, with AWS's HTTP status (most client errors are 400). */
const AWS: Record<KmsErrorCode, [string, ContentfulStatusCode]> = {
  ValidationException: ["ValidationException", 400],
  AuthenticationFailedException: ["UnrecognizedClientException", 400],
  AccessDeniedException: ["AccessDeniedException", 400],
  NotFoundException: ["NotFoundException", 400],
  AlreadyExistsException: ["AlreadyExistsException", 400],
  DisabledException: ["DisabledException", 400],
  KMSInvalidStateException: ["KMSInvalidStateException", 400],
  InvalidCiphertextException: ["InvalidCiphertextException", 400],
  IncorrectKeyException: ["IncorrectKeyException", 400],
  IncorrectKeyMaterialException: ["IncorrectKeyMaterialException", 400],
  InvalidKeyUsageException: ["InvalidKeyUsageException", 400],
  LimitExceededException: ["LimitExceededException", 400],
  MalformedPolicyDocumentException: ["MalformedPolicyDocumentException", 400],
  ThrottlingException: ["ThrottlingException", 400],
  HsmUnavailableException: ["DependencyTimeoutException", 503],
  DependencyTimeoutException: ["DependencyTimeoutException", 503],
  DependencyUnavailableException: ["DependencyTimeoutException", 503],
  UnsupportedOperationException: ["UnsupportedOperationException", 400],
  KMSInternalException: ["KMSInternalException", 500],
};

/** Authentication failures get AWS's own names, as the SDKs and the CLI know them. */
const AUTH: Record<AuthFailureReason, [string, ContentfulStatusCode]> = {
  MissingAuthenticationToken: ["MissingAuthenticationTokenException", 400],
  UnrecognizedClient: ["UnrecognizedClientException", 400],
  IncompleteSignature: ["IncompleteSignatureException", 400],
  InvalidSignature: ["InvalidSignatureException", 400],
  SignatureExpired: ["InvalidSignatureException", 400],
  InvalidRegion: ["InvalidSignatureException", 400],
  Replayed: ["InvalidSignatureException", 400],
  InvalidToken: ["UnrecognizedClientException", 400],
};

export function awsError(code: KmsErrorCode, reason?: AuthFailureReason): { name: string; status: ContentfulStatusCode } {
  const [name, status] = reason ? AUTH[reason] : AWS[code];
  return { name, status };
}

/** The AWS protocol's errors, as its SDKs expect them: AWS's names and statuses, in AWS's JSON error shape. Set by the AWS router. */
export const awsErrors: ErrorHandler<AppEnv> = (err, c) => {
  const code = codeOf(err);
  const aws = err instanceof AwsOutcome ? { name: err.awsName, status: 400 as const } : awsError(code, err instanceof AuthFailure ? err.reason : undefined);
  logFailure(c, err, aws.name, aws.status);
  return c.body(JSON.stringify({ __type: aws.name, message: messageOf(err, code) }), aws.status, { "content-type": AWS_JSON, "x-amzn-errortype": aws.name });
};
