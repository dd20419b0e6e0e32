import type { ErrorHandler, NotFoundHandler } from "hono";
import { HTTPException } from "hono/http-exception";
import type { ContentfulStatusCode } from "hono/utils/http-status";
import { KmsError, type KmsErrorCode } from "../../shared/errors.js";
import { awsError } from "../aws-kms/errors.js";
import { AwsOutcome } from "../aws-kms/operations.js";
import { AuthFailure } from "../identity/principals.js";
import type { AppEnv } from "./env.js";

/** The only code → HTTP status table. */
export const STATUS: Record<KmsErrorCode, ContentfulStatusCode> = {
  ValidationException: 400,
  InvalidCiphertextException: 400,
  IncorrectKeyException: 400,
  IncorrectKeyMaterialException: 400,
  InvalidKeyUsageException: 400,
  DisabledException: 400,
  LimitExceededException: 400,
  MalformedPolicyDocumentException: 400,
  AuthenticationFailedException: 401,
  AccessDeniedException: 403,
  NotFoundException: 404,
  KMSInvalidStateException: 409,
  AlreadyExistsException: 409,
  ThrottlingException: 429,
  KMSInternalException: 500,
  UnsupportedOperationException: 400,
  HsmUnavailableException: 503,
  DependencyTimeoutException: 503,
  DependencyUnavailableException: 503,
};

export const codeOf = (err: Error): KmsErrorCode =>
  err instanceof AwsOutcome
    ? "ValidationException"
    : err instanceof KmsError
    ? err.code
    : err instanceof HTTPException && err.status < 500
      ? "ValidationException" // hono's own 4xx (malformed JSON, body too large)
      : "KMSInternalException";

export const onError: ErrorHandler<AppEnv> = (err, c) => {
  const code = codeOf(err);
  const log = c.get("log");
  const message = code === "KMSInternalException" ? "Internal error" : err.message;
  if (c.req.path === "/") {
    // The AWS protocol (POST /): AWS's error names and statuses, as its SDKs expect them.
    const aws = err instanceof AwsOutcome ? { name: err.awsName, status: 400 as const } : awsError(code, err instanceof AuthFailure ? err.reason : undefined);
    log?.[aws.status >= 500 ? "error" : "warn"]("request refused", { code: aws.name, message: err.message });
    return c.body(JSON.stringify({ __type: aws.name, message: err instanceof AwsOutcome ? err.message : message }), aws.status, { "content-type": "application/x-amz-json-1.1", "x-amzn-errortype": aws.name });
  }
  const status = STATUS[code];
  if (status >= 500) log?.error("request failed", { code, err });
  else log?.warn("request refused", { code, message: err.message });
  return c.json({ __type: code, message }, status);
};

export const notFound: NotFoundHandler<AppEnv> = (c) =>
  c.json({ __type: "NotFoundException" satisfies KmsErrorCode, message: `no route for ${c.req.method} ${c.req.path}` }, 404);
