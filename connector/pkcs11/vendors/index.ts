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
};

const STANDARD: VendorQuirks = { oaepSha256ViaRawRsa: false };

const BY_MANUFACTURER: Array<[RegExp, VendorQuirks]> = [[/^SoftHSM/, { oaepSha256ViaRawRsa: true }]];

export const quirksFor = (manufacturerId: string): VendorQuirks =>
  BY_MANUFACTURER.find(([pattern]) => pattern.test(manufacturerId))?.[1] ?? STANDARD;
