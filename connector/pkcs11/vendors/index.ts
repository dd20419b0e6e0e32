/**
 * Vendor quirks, as data. A module's manufacturer id selects its entry; unknown modules get
 * the standard behaviour.
 */
export type VendorQuirks = {
  /**
   * The module refuses CKM_RSA_PKCS_OAEP with SHA-256 (SoftHSM 2.6 allows SHA-1 only): encrypt
   * in software with the public key, and decrypt with raw RSA (CKM_RSA_X_509) inside the HSM
   * followed by EME-OAEP decoding in the connector.
   */
  oaepSha256ViaRawRsa: boolean;
  /**
   * The CK_RVs with which the module refuses a ciphertext it cannot decrypt (an AES-GCM tag that
   * does not verify, RSA padding that does not decode, an RSA ciphertext not below the modulus),
   * besides the standard CKR_ENCRYPTED_DATA_INVALID. SoftHSM 2.6 answers CKR_GENERAL_ERROR
   * (measured through the fault shim): read as a device fault, any caller with a bad ciphertext
   * would make the connector re-initialise the module for everyone.
   */
  ciphertextRefusedAs: readonly string[];
};

export const STANDARD_QUIRKS: VendorQuirks = { oaepSha256ViaRawRsa: false, ciphertextRefusedAs: [] };

const BY_MANUFACTURER: Array<[RegExp, VendorQuirks]> = [[/^SoftHSM/, { oaepSha256ViaRawRsa: true, ciphertextRefusedAs: ["CKR_GENERAL_ERROR"] }]];

export const quirksFor = (manufacturerId: string): VendorQuirks =>
  BY_MANUFACTURER.find(([pattern]) => pattern.test(manufacturerId))?.[1] ?? STANDARD_QUIRKS;
