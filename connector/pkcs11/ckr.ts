import pkcs11js from "pkcs11js";
import { KmsError, type KmsErrorCode } from "../../shared/errors.js";
import { STANDARD_QUIRKS, type VendorQuirks } from "./vendors/index.js";

/**
 * The one CK_RV → KmsErrorCode table, and which CK_RVs are faults of the HSM (a dead session, a
 * device that needs the module re-initialised) rather than answers about the request. Raw CK_RVs
 * stay in connector logs. A fault is never reported as InvalidCiphertextException (a caller told
 * its ciphertext is invalid may throw its data away); an answer about a caller's ciphertext is
 * never treated as a fault (re-initialising the module for everyone).
 */

export type FaultKind = "session" | "module" | "none";

const CKR = pkcs11js as unknown as Record<string, number>;
const rv = (name: string): number => {
  const value = CKR[name];
  if (value === undefined) throw new Error(`pkcs11js has no ${name}`);
  return value;
};

/**
 * CK_RVs after which the session is unusable: drop it and open another. CKR_OPERATION_ACTIVE: an
 * earlier call on this session left an operation unfinished (a module that does not end it on
 * failure, as PKCS#11 requires): the session cannot start another.
 */
const SESSION_FAULTS = new Set(["CKR_SESSION_HANDLE_INVALID", "CKR_SESSION_CLOSED", "CKR_USER_NOT_LOGGED_IN", "CKR_OPERATION_ACTIVE"].map(rv));
/** CK_RVs after which the whole module must be finalized and initialised again. */
const MODULE_FAULTS = new Set(
  ["CKR_DEVICE_ERROR", "CKR_DEVICE_REMOVED", "CKR_TOKEN_NOT_PRESENT", "CKR_CRYPTOKI_NOT_INITIALIZED", "CKR_GENERAL_ERROR", "CKR_SLOT_ID_INVALID"].map(rv),
);

/** `gcm-open`: an AES-GCM decryption (an unwrap, or a resident key's AES_GCM decrypt); `decrypt`: an RSA decryption. */
export type HsmOperation = "login" | "random" | "health" | "generate" | "wrap" | "unwrap" | "gcm-open" | "encrypt" | "decrypt" | "sign" | "verify" | "find" | "destroy";

const CIPHERTEXT_REFUSED: Record<string, KmsErrorCode> = {
  CKR_ENCRYPTED_DATA_INVALID: "InvalidCiphertextException",
  CKR_ENCRYPTED_DATA_LEN_RANGE: "InvalidCiphertextException",
  CKR_WRAPPED_KEY_INVALID: "InvalidCiphertextException",
  CKR_WRAPPED_KEY_LEN_RANGE: "InvalidCiphertextException",
};

const BY_OPERATION: Partial<Record<HsmOperation, Record<string, KmsErrorCode>>> = {
  decrypt: CIPHERTEXT_REFUSED,
  unwrap: CIPHERTEXT_REFUSED,
  "gcm-open": CIPHERTEXT_REFUSED,
  verify: { CKR_SIGNATURE_INVALID: "InvalidCiphertextException", CKR_SIGNATURE_LEN_RANGE: "InvalidCiphertextException" },
  login: { CKR_PIN_INCORRECT: "AuthenticationFailedException", CKR_PIN_LOCKED: "AuthenticationFailedException" },
};

const ANY_OPERATION: Record<string, KmsErrorCode> = {
  CKR_DEVICE_ERROR: "HsmUnavailableException",
  CKR_DEVICE_REMOVED: "HsmUnavailableException",
  CKR_DEVICE_MEMORY: "HsmUnavailableException",
  CKR_TOKEN_NOT_PRESENT: "HsmUnavailableException",
  CKR_CRYPTOKI_NOT_INITIALIZED: "HsmUnavailableException",
  CKR_SESSION_HANDLE_INVALID: "HsmUnavailableException",
  CKR_SESSION_CLOSED: "HsmUnavailableException",
  CKR_OPERATION_ACTIVE: "HsmUnavailableException",
  CKR_SESSION_COUNT: "ThrottlingException",
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

const SIGNATURE_REJECTED = new Set(["CKR_SIGNATURE_INVALID", "CKR_SIGNATURE_LEN_RANGE"].map(rv));
/** The module's answer that a signature does not verify (an answer, not a failure). */
export const signatureRejected = (err: unknown): boolean => isPkcs11Error(err) && SIGNATURE_REJECTED.has(err.code);

/** A login the token already has (another session of the application logged in): nothing to do. */
export const alreadyLoggedIn = (err: unknown): boolean => isPkcs11Error(err) && err.code === rv("CKR_USER_ALREADY_LOGGED_IN");

/** Whether this CK_RV, in this operation on this vendor's module, is the module refusing the caller's ciphertext. */
const ciphertextRefused = (name: string, op: HsmOperation, quirks: VendorQuirks) => (op === "gcm-open" || op === "decrypt") && quirks.ciphertextRefusedAs.includes(name);

/** Whether a CK_RV is a fault of the HSM, and of which kind. */
export function faultKind(code: number, op: HsmOperation, quirks: VendorQuirks = STANDARD_QUIRKS): FaultKind {
  if (ciphertextRefused(nameOf(code), op, quirks)) return "none";
  return MODULE_FAULTS.has(code) ? "module" : SESSION_FAULTS.has(code) ? "session" : "none";
}

/**
 * Maps a pkcs11js error to the KmsError the caller sees; the raw name stays in `ckr`. A CK_RV
 * with no entry is the HSM refusing for a reason Tether does not know: HsmUnavailableException
 * (a dependency failed), not KMSInternalException (Tether's own bug).
 */
export function toKmsError(err: unknown, op: HsmOperation, quirks: VendorQuirks = STANDARD_QUIRKS): KmsError & { ckr?: string } {
  if (err instanceof KmsError) return err;
  if (!isPkcs11Error(err)) return new KmsError("KMSInternalException", `HSM ${op} failed`, { cause: err });
  const name = nameOf(err.code);
  const code = ciphertextRefused(name, op, quirks) ? "InvalidCiphertextException" : (BY_OPERATION[op]?.[name] ?? ANY_OPERATION[name] ?? "HsmUnavailableException");
  const out = new KmsError(code, `HSM ${op} failed (${name})`) as KmsError & { ckr?: string };
  out.ckr = name;
  return out;
}
