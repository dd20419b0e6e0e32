import type { ErrorHandler } from "hono";
import type { ContentfulStatusCode } from "hono/utils/http-status";
import { KmsError, type KmsErrorCode } from "../../shared/errors.js";
import type { AppEnv } from "../http/env.js";
import { codeOf, logFailure, messageOf } from "../http/errors.js";

/** Our codes as the XKS proxy API names them, with its HTTP statuses (the spec's error table). */
const XKS: Record<KmsErrorCode, [string, ContentfulStatusCode]> = {
  ValidationException: ["ValidationException", 400],
  AuthenticationFailedException: ["AuthenticationFailedException", 401],
  AccessDeniedException: ["AccessDeniedException", 403],
  NotFoundException: ["KeyNotFoundException", 404],
  AlreadyExistsException: ["ValidationException", 400],
  DisabledException: ["InvalidStateException", 400],
  KMSInvalidStateException: ["InvalidStateException", 400],
  InvalidCiphertextException: ["InvalidCiphertextException", 400],
  IncorrectKeyException: ["InvalidCiphertextException", 400],
  IncorrectKeyMaterialException: ["InvalidCiphertextException", 400],
  InvalidKeyUsageException: ["InvalidKeyUsageException", 400],
  LimitExceededException: ["ThrottlingException", 429],
  MalformedPolicyDocumentException: ["InternalException", 500],
  ThrottlingException: ["ThrottlingException", 429],
  HsmUnavailableException: ["DependencyTimeoutException", 503],
  DependencyTimeoutException: ["DependencyTimeoutException", 503],
  DependencyUnavailableException: ["DependencyTimeoutException", 503],
  UnsupportedOperationException: ["UnsupportedOperationException", 501],
  KMSInternalException: ["InternalException", 500],
};

/** An answer the XKS API names on its own (an unknown URI path, a method it does not take). */
export class XksOutcome extends KmsError {
  constructor(
    readonly xksName: string,
    readonly status: ContentfulStatusCode,
    message: string,
  ) {
    super("ValidationException", message);
  }
}

/** errorMessage: printable ASCII only, under 512 characters (the spec's rule; AWS KMS logs it). */
const printable = (message: string) => message.replace(/[^\x20-\x7e]/g, "?").slice(0, 511);

/** The XKS door's errors: `{"errorName", "errorMessage"}` with the spec's statuses. Set by the XKS router. */
export const xksErrors: ErrorHandler<AppEnv> = (err, c) => {
  const code = codeOf(err);
  const [name, status] = err instanceof XksOutcome ? [err.xksName, err.status] : XKS[code];
  logFailure(c, err, name, status);
  return c.json({ errorName: name, errorMessage: printable(messageOf(err, code)) }, status, status === 405 ? { allow: "POST" } : {});
};
