import pkcs11js from "pkcs11js";
import { KmsError, type KmsErrorCode } from "../../shared/errors.js";

/** The one CK_RV → KmsErrorCode table. Raw CK_RVs stay in connector logs. */

export type FaultKind = "session" | "module" | "none";

const CKR = pkcs11js as unknown as Record<string, number>;
const rv = (name: string): number => {
  const value = CKR[name];
  if (value === undefined) throw new Error(`pkcs11js has no ${name}`);
  return value;
};

/** CK_RVs after which the session is unusable: drop it and open another. */
const SESSION_FAULTS = new Set(["CKR_SESSION_HANDLE_INVALID", "CKR_SESSION_CLOSED", "CKR_USER_NOT_LOGGED_IN"].map(rv));
/** CK_RVs after which the whole module must be finalized and initialised again. */
const MODULE_FAULTS = new Set(
  ["CKR_DEVICE_ERROR", "CKR_DEVICE_REMOVED", "CKR_TOKEN_NOT_PRESENT", "CKR_CRYPTOKI_NOT_INITIALIZED", "CKR_GENERAL_ERROR", "CKR_SLOT_ID_INVALID"].map(rv),
);

export const faultKind = (code: number): FaultKind =>
  MODULE_FAULTS.has(code) ? "module" : SESSION_FAULTS.has(code) ? "session" : "none";

export type HsmOperation = "login" | "random" | "health" | "generate" | "wrap" | "unwrap" | "encrypt" | "decrypt" | "sign" | "verify" | "find" | "destroy";

const BY_OPERATION: Partial<Record<HsmOperation, Record<string, KmsErrorCode>>> = {
  decrypt: {
    CKR_ENCRYPTED_DATA_INVALID: "InvalidCiphertextException",
    CKR_ENCRYPTED_DATA_LEN_RANGE: "InvalidCiphertextException",
    CKR_WRAPPED_KEY_INVALID: "InvalidCiphertextException",
  },
  unwrap: {
    CKR_ENCRYPTED_DATA_INVALID: "InvalidCiphertextException",
    CKR_WRAPPED_KEY_INVALID: "InvalidCiphertextException",
    CKR_WRAPPED_KEY_LEN_RANGE: "InvalidCiphertextException",
  },
  verify: { CKR_SIGNATURE_INVALID: "InvalidCiphertextException", CKR_SIGNATURE_LEN_RANGE: "InvalidCiphertextException" },
  login: { CKR_PIN_INCORRECT: "AuthenticationFailedException", CKR_PIN_LOCKED: "AuthenticationFailedException" },
};

const ANY_OPERATION: Record<string, KmsErrorCode> = {
  CKR_DEVICE_ERROR: "HsmUnavailableException",
  CKR_DEVICE_REMOVED: "HsmUnavailableException",
  CKR_TOKEN_NOT_PRESENT: "HsmUnavailableException",
  CKR_CRYPTOKI_NOT_INITIALIZED: "HsmUnavailableException",
  CKR_SESSION_HANDLE_INVALID: "HsmUnavailableException",
  CKR_SESSION_CLOSED: "HsmUnavailableException",
  CKR_DEVICE_MEMORY: "LimitExceededException",
  CKR_SESSION_COUNT: "LimitExceededException",
  CKR_KEY_HANDLE_INVALID: "NotFoundException",
  CKR_OBJECT_HANDLE_INVALID: "NotFoundException",
  CKR_MECHANISM_INVALID: "UnsupportedOperationException",
  CKR_KEY_FUNCTION_NOT_PERMITTED: "AccessDeniedException",
  CKR_KEY_UNEXTRACTABLE: "AccessDeniedException",
  CKR_DATA_LEN_RANGE: "ValidationException",
  CKR_ARGUMENTS_BAD: "ValidationException",
};

const nameOf = (code: number): string =>
  Object.keys(CKR).find((k) => k.startsWith("CKR_") && CKR[k] === code) ?? `CKR_0x${code.toString(16)}`;

export const isPkcs11Error = (err: unknown): err is Error & { code: number } =>
  err instanceof pkcs11js.Pkcs11Error;

/** Maps a pkcs11js error to the KmsError the caller sees; the raw name stays in `ckr`. */
export function toKmsError(err: unknown, op: HsmOperation): KmsError & { ckr?: string } {
  if (err instanceof KmsError) return err;
  if (!isPkcs11Error(err)) return new KmsError("KMSInternalException", `HSM ${op} failed`, { cause: err });
  const name = nameOf(err.code);
  const code = BY_OPERATION[op]?.[name] ?? ANY_OPERATION[name] ?? "KMSInternalException";
  const out = new KmsError(code, `HSM ${op} failed (${name})`) as KmsError & { ckr?: string };
  out.ckr = name;
  return out;
}
