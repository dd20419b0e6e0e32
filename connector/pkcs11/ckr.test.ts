import pkcs11js from "pkcs11js";
import { describe, expect, it } from "vitest";
import { KmsError } from "../../shared/errors.js";
import { faultKind, toKmsError, type HsmOperation } from "./ckr.js";

const ckrError = (name: string) => new pkcs11js.Pkcs11Error(name, (pkcs11js as unknown as Record<string, number>)[name], "C_Test");

describe("CK_RV → KmsErrorCode (known answers)", () => {
  it.each<[string, HsmOperation, string]>([
    ["CKR_ENCRYPTED_DATA_INVALID", "decrypt", "InvalidCiphertextException"],
    ["CKR_WRAPPED_KEY_INVALID", "unwrap", "InvalidCiphertextException"],
    ["CKR_SIGNATURE_INVALID", "verify", "InvalidCiphertextException"],
    ["CKR_PIN_INCORRECT", "login", "AuthenticationFailedException"],
    ["CKR_DEVICE_ERROR", "encrypt", "HsmUnavailableException"],
    ["CKR_TOKEN_NOT_PRESENT", "random", "HsmUnavailableException"],
    ["CKR_SESSION_HANDLE_INVALID", "sign", "HsmUnavailableException"],
    ["CKR_KEY_HANDLE_INVALID", "encrypt", "NotFoundException"],
    ["CKR_MECHANISM_INVALID", "encrypt", "UnsupportedOperationException"],
    ["CKR_KEY_UNEXTRACTABLE", "unwrap", "AccessDeniedException"],
    ["CKR_DATA_LEN_RANGE", "encrypt", "ValidationException"],
    ["CKR_DEVICE_MEMORY", "generate", "LimitExceededException"],
    ["CKR_ENCRYPTED_DATA_INVALID", "encrypt", "KMSInternalException"],
    ["CKR_FUNCTION_FAILED", "encrypt", "KMSInternalException"],
  ])("%s during %s → %s", (name, op, code) => {
    const err = toKmsError(ckrError(name), op);
    expect(err).toBeInstanceOf(KmsError);
    expect(err.code).toBe(code);
    expect(err.ckr).toBe(name);
  });

  it("classifies faults that need a new session or a module re-initialisation", () => {
    const code = (name: string) => (pkcs11js as unknown as Record<string, number>)[name] as number;
    expect(faultKind(code("CKR_SESSION_HANDLE_INVALID"))).toBe("session");
    expect(faultKind(code("CKR_DEVICE_ERROR"))).toBe("module");
    expect(faultKind(code("CKR_TOKEN_NOT_PRESENT"))).toBe("module");
    expect(faultKind(code("CKR_DATA_LEN_RANGE"))).toBe("none");
  });

  it("wraps non-PKCS#11 errors without leaking their message", () => {
    const err = toKmsError(new Error("pin=1234 leaked"), "login");
    expect(err.code).toBe("KMSInternalException");
    expect(err.message).not.toContain("1234");
  });
});
