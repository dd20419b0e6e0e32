import type { Context, ErrorHandler, NotFoundHandler } from "hono";
import { HTTPException } from "hono/http-exception";
import type { ContentfulStatusCode } from "hono/utils/http-status";
import { KmsError, type KmsErrorCode } from "../../shared/errors.js";
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
  err instanceof KmsError
    ? err.code
    : err instanceof HTTPException && err.status < 500
      ? "ValidationException" // hono's own 4xx (malformed JSON, body too large)
      : "KMSInternalException";

/** What a caller is told: the error's own message, except for Tether's bugs (never internal detail). */
export const messageOf = (err: Error, code: KmsErrorCode = codeOf(err)): string => (code === "KMSInternalException" ? "Internal error" : err.message);

/** Logs a refused or failed request: a bug (500) with its stack, a refusal by its code. */
export function logFailure(c: Context<AppEnv>, err: Error, code: string, status: number): void {
  const log = c.get("log");
  if (status >= 500) log?.error("request failed", { code, err });
  else log?.warn("request refused", { code, message: err.message });
}

/**
 * The native API's errors (every door but those with a renderer of their own, which their
 * router sets): `{"__type": code, "message": …}` with the status of STATUS.
 */
export const nativeErrors: ErrorHandler<AppEnv> = (err, c) => {
  const code = codeOf(err);
  const status = STATUS[code];
  logFailure(c, err, code, status);
  return c.json({ __type: code, message: messageOf(err, code) }, status);
};

export const notFound: NotFoundHandler<AppEnv> = (c) =>
  c.json({ __type: "NotFoundException" satisfies KmsErrorCode, message: `no route for ${c.req.method} ${c.req.path}` }, 404);
