import pkcs11js from "pkcs11js";
import { describe, expect, it } from "vitest";
import { KmsError } from "../../shared/errors.js";
import { alreadyLoggedIn, faultKind, signatureRejected, toKmsError, type HsmOperation } from "./ckr.js";
import { quirksFor } from "./vendors/index.js";

const code = (name: string) => (pkcs11js as unknown as Record<string, number>)[name] as number;
const ckrError = (name: string) => new pkcs11js.Pkcs11Error(name, code(name), "C_Test");
const softhsm = quirksFor("SoftHSM project");

describe("CK_RV → KmsErrorCode (known answers)", () => {
  it.each<[string, HsmOperation, string]>([
    ["CKR_ENCRYPTED_DATA_INVALID", "decrypt", "InvalidCiphertextException"],
    ["CKR_ENCRYPTED_DATA_INVALID", "gcm-open", "InvalidCiphertextException"],
    ["CKR_ENCRYPTED_DATA_LEN_RANGE", "decrypt", "InvalidCiphertextException"],
    ["CKR_WRAPPED_KEY_INVALID", "unwrap", "InvalidCiphertextException"],
    ["CKR_SIGNATURE_INVALID", "verify", "InvalidCiphertextException"],
    ["CKR_PIN_INCORRECT", "login", "AuthenticationFailedException"],
    ["CKR_DEVICE_ERROR", "encrypt", "HsmUnavailableException"],
    ["CKR_DEVICE_ERROR", "gcm-open", "HsmUnavailableException"],
    ["CKR_TOKEN_NOT_PRESENT", "random", "HsmUnavailableException"],
    ["CKR_SESSION_HANDLE_INVALID", "sign", "HsmUnavailableException"],
    ["CKR_SESSION_HANDLE_INVALID", "decrypt", "HsmUnavailableException"],
    ["CKR_DEVICE_MEMORY", "generate", "HsmUnavailableException"],
    ["CKR_SESSION_COUNT", "generate", "ThrottlingException"],
    ["CKR_KEY_HANDLE_INVALID", "encrypt", "NotFoundException"],
    ["CKR_MECHANISM_INVALID", "encrypt", "UnsupportedOperationException"],
    ["CKR_KEY_UNEXTRACTABLE", "unwrap", "AccessDeniedException"],
    ["CKR_DATA_LEN_RANGE", "encrypt", "ValidationException"],
    // An answer about a ciphertext means nothing outside decryption; an unknown refusal is the HSM's, not Tether's bug.
    ["CKR_ENCRYPTED_DATA_INVALID", "encrypt", "HsmUnavailableException"],
    ["CKR_FUNCTION_FAILED", "encrypt", "HsmUnavailableException"],
    ["CKR_GENERAL_ERROR", "gcm-open", "HsmUnavailableException"],
  ])("%s during %s → %s", (name, op, expected) => {
    const err = toKmsError(ckrError(name), op);
    expect(err).toBeInstanceOf(KmsError);
    expect(err.code).toBe(expected);
    expect(err.ckr).toBe(name);
  });

  it("SoftHSM's CKR_GENERAL_ERROR on a decryption is a refused ciphertext (GCM tag, RSA padding): InvalidCiphertext, not a fault", () => {
    for (const op of ["gcm-open", "decrypt"] as const) {
      expect(toKmsError(ckrError("CKR_GENERAL_ERROR"), op, softhsm).code).toBe("InvalidCiphertextException");
      expect(faultKind(code("CKR_GENERAL_ERROR"), op, softhsm)).toBe("none");
    }
    // Anywhere else it is still a device fault.
    expect(toKmsError(ckrError("CKR_GENERAL_ERROR"), "encrypt", softhsm).code).toBe("HsmUnavailableException");
    expect(faultKind(code("CKR_GENERAL_ERROR"), "encrypt", softhsm)).toBe("module");
  });

  it("classifies faults that need a new session or a module re-initialisation", () => {
    expect(faultKind(code("CKR_SESSION_HANDLE_INVALID"), "sign")).toBe("session");
    expect(faultKind(code("CKR_OPERATION_ACTIVE"), "decrypt")).toBe("session");
    expect(faultKind(code("CKR_DEVICE_ERROR"), "gcm-open", softhsm)).toBe("module");
    expect(faultKind(code("CKR_TOKEN_NOT_PRESENT"), "random")).toBe("module");
    expect(faultKind(code("CKR_DATA_LEN_RANGE"), "encrypt")).toBe("none");
  });

  it("answers that are not failures: a signature that does not verify, a login the token already has", () => {
    expect(["CKR_SIGNATURE_INVALID", "CKR_SIGNATURE_LEN_RANGE", "CKR_DEVICE_ERROR"].map((n) => signatureRejected(ckrError(n)))).toEqual([true, true, false]);
    expect(signatureRejected(new Error("CKR_SIGNATURE_INVALID"))).toBe(false);
    expect(["CKR_USER_ALREADY_LOGGED_IN", "CKR_PIN_INCORRECT"].map((n) => alreadyLoggedIn(ckrError(n)))).toEqual([true, false]);
  });

  it("wraps non-PKCS#11 errors without leaking their message", () => {
    const err = toKmsError(new Error("pin=1234 leaked"), "login");
    expect(err.code).toBe("KMSInternalException");
    expect(err.message).not.toContain("1234");
  });
});
