import { MAX_RANDOM_BYTES } from "../../shared/hsm/port.js";

/** What one cryptographic request may carry (as AWS KMS allows): every door's fields and the service read them here. */
export const CRYPTO_LIMITS = {
  /** Direct encryption; larger data goes in data keys (envelope encryption). */
  plaintextBytes: 4096,
  ciphertextBytes: 6144,
  messageBytes: 4096,
  signatureBytes: 1024,
  macBytes: 64,
  derivationContextBytes: 1024,
  dataKeyBytes: 1024,
  randomBytes: MAX_RANDOM_BYTES,
} as const;
