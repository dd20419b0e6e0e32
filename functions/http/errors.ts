import type { ErrorHandler, NotFoundHandler } from "hono";
import { HTTPException } from "hono/http-exception";
import type { ContentfulStatusCode } from "hono/utils/http-status";
import { KmsError, type KmsErrorCode } from "../../shared/errors.js";
import type { AppEnv } from "./env.js";

/** The only code → HTTP status table. */
export const STATUS: Record<KmsErrorCode, ContentfulStatusCode> = {
  ValidationException: 400,
  InvalidCiphertextException: 400,
  IncorrectKeyException: 400,
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
};

export const codeOf = (err: Error): KmsErrorCode =>
  err instanceof KmsError
    ? err.code
    : err instanceof HTTPException && err.status < 500
      ? "ValidationException" // hono's own 4xx (malformed JSON, body too large)
      : "KMSInternalException";

export const onError: ErrorHandler<AppEnv> = (err, c) => {
  const code = codeOf(err);
  const status = STATUS[code];
  const log = c.get("log");
  if (status >= 500) log?.error("request failed", { code, err });
  else log?.warn("request refused", { code, message: err.message });
  const message = code === "KMSInternalException" ? "Internal error" : err.message;
  return c.json({ __type: code, message }, status);
};

export const notFound: NotFoundHandler<AppEnv> = (c) =>
  c.json({ __type: "NotFoundException" satisfies KmsErrorCode, message: `no route for ${c.req.method} ${c.req.path}` }, 404);
