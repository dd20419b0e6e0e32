import * as z from "zod";
import type { KmsErrorCode } from "../../shared/errors.js";
import { toB64 } from "../../shared/protocol/codec.js";
import { Base64, Blob, DataKeySpec, DerivationContext, EncryptionAlgorithm, EncryptionContext, KeyArn, KeyPairSpec, KeyRef, KeySpec, KeyUsage, LIMITS, MacAlgorithm, MessageType, SigningAlgorithm } from "../contract/fields.js";
import { operation, type AnyOperation } from "../contract/operation.js";
import type { CryptoService } from "./service.js";

/** What any use of a key can meet: it does not exist (for the caller), is not Enabled, is for another use, or its material cannot be reached. */
const KEY_USE: readonly KmsErrorCode[] = ["NotFoundException", "DisabledException", "KMSInvalidStateException", "InvalidKeyUsageException", "HsmUnavailableException"];

const Algorithm = EncryptionAlgorithm.default("SYMMETRIC_DEFAULT");
const Signing = { keyId: KeyRef, message: Blob(LIMITS.messageBytes), messageType: MessageType.default("RAW"), signingAlgorithm: SigningAlgorithm };
const Mac = { keyId: KeyRef, message: Blob(LIMITS.messageBytes), macAlgorithm: MacAlgorithm };
const DataKeyInput = { keyId: KeyRef, keySpec: DataKeySpec.optional(), numberOfBytes: z.number().int().min(1).max(LIMITS.dataKeyBytes).optional(), encryptionContext: EncryptionContext };
const DataKeyPairInput = { keyId: KeyRef, keyPairSpec: KeyPairSpec, encryptionContext: EncryptionContext };
const DataKeyPairOutput = { keyId: KeyArn, keyPairSpec: KeyPairSpec, publicKey: Base64, privateKeyCiphertextBlob: Base64 };

const dataKey = (withPlaintext: boolean) =>
  operation({
    name: withPlaintext ? "GenerateDataKey" : "GenerateDataKeyWithoutPlaintext",
    action: withPlaintext ? "kms:GenerateDataKey" : "kms:GenerateDataKeyWithoutPlaintext",
    summary: withPlaintext ? "Generate a data key" : "Generate a data key, encrypted only",
    description: withPlaintext
      ? "A new random data key (AES_128, AES_256 or 1–1024 bytes) in plaintext and encrypted under the symmetric key, for envelope encryption of data of any size. Zero the plaintext once used; keep the ciphertext with the data."
      : "As GenerateDataKey, without the plaintext: for a component that stores the encrypted data key for another to decrypt later.",
    input: DataKeyInput,
    output: withPlaintext ? { keyId: KeyArn, ciphertextBlob: Base64, plaintext: Base64 } : { keyId: KeyArn, ciphertextBlob: Base64 },
    errors: KEY_USE,
    run: async (svc: CryptoService, p, i, call) => {
      const out = await svc.generateDataKey(p, i.keyId, i, i.encryptionContext, withPlaintext, call);
      return { keyId: out.keyId, ciphertextBlob: toB64(out.ciphertext), ...(out.plaintext ? { plaintext: toB64(out.plaintext) } : {}) };
    },
  });

const dataKeyPair = (withPlaintext: boolean) =>
  operation({
    name: withPlaintext ? "GenerateDataKeyPair" : "GenerateDataKeyPairWithoutPlaintext",
    action: withPlaintext ? "kms:GenerateDataKeyPair" : "kms:GenerateDataKeyPairWithoutPlaintext",
    summary: withPlaintext ? "Generate a data key pair" : "Generate a data key pair, private key encrypted only",
    description: withPlaintext
      ? "A new RSA or ECC key pair for the caller's own use: the public key, the private key (PKCS#8 DER) and the private key encrypted under the symmetric key."
      : "As GenerateDataKeyPair, without the private key in plaintext: decrypt it when it is needed.",
    input: DataKeyPairInput,
    output: withPlaintext ? { ...DataKeyPairOutput, privateKeyPlaintext: Base64 } : DataKeyPairOutput,
    errors: KEY_USE,
    run: async (svc: CryptoService, p, i, call) => {
      const out = await svc.generateDataKeyPair(p, i.keyId, i.keyPairSpec, i.encryptionContext, withPlaintext, call);
      return {
        keyId: out.keyId,
        keyPairSpec: i.keyPairSpec,
        publicKey: toB64(out.publicKey),
        privateKeyCiphertextBlob: toB64(out.privateKeyCiphertext),
        ...(out.privateKeyPlaintext ? { privateKeyPlaintext: toB64(out.privateKeyPlaintext) } : {}),
      };
    },
  });

/** The cryptographic operations, each defined once for every door. */
export const CRYPTO_OPERATIONS = {
  Encrypt: operation({
    name: "Encrypt",
    action: "kms:Encrypt",
    summary: "Encrypt up to 4 KiB",
    description:
      "Encrypts a small secret under a key: AES-256-GCM with a symmetric key (the ciphertext names key and version; the encryption context is bound as AAD), RSA-OAEP with an RSA key, or in the HSM for an HSM-resident key. Use data keys for anything larger.",
    input: { keyId: KeyRef, plaintext: Blob(LIMITS.plaintextBytes), encryptionContext: EncryptionContext, encryptionAlgorithm: Algorithm, derivationContext: DerivationContext },
    output: { keyId: KeyArn, ciphertextBlob: Base64, encryptionAlgorithm: EncryptionAlgorithm },
    errors: KEY_USE,
    run: async (svc: CryptoService, p, i, call) => {
      const out = await svc.encrypt(p, i.keyId, i.plaintext, i.encryptionContext, call, i.encryptionAlgorithm, i.derivationContext);
      return { keyId: out.keyId, ciphertextBlob: toB64(out.ciphertext), encryptionAlgorithm: i.encryptionAlgorithm };
    },
  }),
  Decrypt: operation({
    name: "Decrypt",
    action: "kms:Decrypt",
    summary: "Decrypt a ciphertext",
    description:
      "Decrypts what Encrypt, GenerateDataKey or ReEncrypt produced. A symmetric ciphertext names its key (give keyId only to insist on it); an asymmetric or HSM-resident key must be named. Any tampering, a wrong context or a wrong key is the one InvalidCiphertextException.",
    input: { ciphertextBlob: Blob(LIMITS.ciphertextBytes), encryptionContext: EncryptionContext, keyId: KeyRef.optional(), encryptionAlgorithm: Algorithm, derivationContext: DerivationContext },
    output: { keyId: KeyArn, plaintext: Base64, encryptionAlgorithm: EncryptionAlgorithm },
    errors: [...KEY_USE, "InvalidCiphertextException", "IncorrectKeyException"],
    run: async (svc: CryptoService, p, i, call) => {
      const out = await svc.decrypt(p, i.ciphertextBlob, i.encryptionContext, i.keyId, call, i.encryptionAlgorithm, i.derivationContext);
      return { keyId: out.keyId, plaintext: toB64(out.plaintext), encryptionAlgorithm: i.encryptionAlgorithm };
    },
  }),
  ReEncrypt: operation({
    name: "ReEncrypt",
    action: "kms:ReEncrypt",
    summary: "Re-encrypt under another key",
    description: "Decrypts under the source key and encrypts under the destination key (or the same key's newest version, with a new context) without the plaintext ever leaving Tether.",
    input: {
      ciphertextBlob: Blob(LIMITS.ciphertextBytes),
      sourceEncryptionContext: EncryptionContext,
      sourceKeyId: KeyRef.optional(),
      destinationKeyId: KeyRef,
      destinationEncryptionContext: EncryptionContext,
      sourceEncryptionAlgorithm: z.literal("SYMMETRIC_DEFAULT").optional(),
      destinationEncryptionAlgorithm: z.literal("SYMMETRIC_DEFAULT").optional(),
    },
    output: { sourceKeyId: KeyArn, keyId: KeyArn, ciphertextBlob: Base64, sourceEncryptionAlgorithm: z.literal("SYMMETRIC_DEFAULT"), destinationEncryptionAlgorithm: z.literal("SYMMETRIC_DEFAULT") },
    errors: [...KEY_USE, "InvalidCiphertextException", "IncorrectKeyException"],
    audited: (i) => ({ keyId: i.destinationKeyId, encryptionContext: i.destinationEncryptionContext }),
    run: async (svc: CryptoService, p, i, call) => {
      const out = await svc.reEncrypt(p, { ciphertext: i.ciphertextBlob, sourceContext: i.sourceEncryptionContext, sourceKeyId: i.sourceKeyId, destinationKeyId: i.destinationKeyId, destinationContext: i.destinationEncryptionContext }, call);
      return { sourceKeyId: out.sourceKeyId, keyId: out.keyId, ciphertextBlob: toB64(out.ciphertext), sourceEncryptionAlgorithm: "SYMMETRIC_DEFAULT" as const, destinationEncryptionAlgorithm: "SYMMETRIC_DEFAULT" as const };
    },
  }),
  GenerateDataKey: dataKey(true),
  GenerateDataKeyWithoutPlaintext: dataKey(false),
  GenerateDataKeyPair: dataKeyPair(true),
  GenerateDataKeyPairWithoutPlaintext: dataKeyPair(false),
  GenerateRandom: operation({
    name: "GenerateRandom",
    action: "kms:GenerateRandom",
    summary: "Random bytes from the HSM",
    description: "Bytes from the HSM's random number generator (32 unless asked).",
    input: { numberOfBytes: z.number().int().min(1).max(LIMITS.randomBytes).default(32) },
    output: { plaintext: Base64 },
    errors: ["HsmUnavailableException"],
    run: async (svc: CryptoService, p, i, call) => ({ plaintext: toB64(await svc.generateRandom(p, i.numberOfBytes, call)) }),
  }),
  Sign: operation({
    name: "Sign",
    action: "kms:Sign",
    summary: "Sign a message or digest",
    description: "A signature with an asymmetric SIGN_VERIFY key (RSA PKCS#1 v1.5 or PSS, ECDSA), over the message or, with messageType DIGEST, over a digest the caller made.",
    input: Signing,
    output: { keyId: KeyArn, signature: Base64, signingAlgorithm: SigningAlgorithm },
    errors: KEY_USE,
    run: async (svc: CryptoService, p, i, call) => {
      const out = await svc.sign(p, i.keyId, i.signingAlgorithm, i.message, i.messageType, call);
      return { keyId: out.keyId, signature: toB64(out.signature), signingAlgorithm: i.signingAlgorithm };
    },
  }),
  Verify: operation({
    name: "Verify",
    action: "kms:Verify",
    summary: "Verify a signature",
    description: "Whether the signature was made by the key over this message (or digest). A signature that does not verify is signatureValid false (the AWS protocol answers KMSInvalidSignatureException).",
    input: { ...Signing, signature: Blob(LIMITS.signatureBytes) },
    output: { keyId: KeyArn, signatureValid: z.boolean(), signingAlgorithm: SigningAlgorithm },
    errors: KEY_USE,
    run: async (svc: CryptoService, p, i, call) => {
      const out = await svc.verify(p, i.keyId, i.signingAlgorithm, i.message, i.messageType, i.signature, call);
      return { keyId: out.keyId, signatureValid: out.valid, signingAlgorithm: i.signingAlgorithm };
    },
  }),
  GetPublicKey: operation({
    name: "GetPublicKey",
    action: "kms:GetPublicKey",
    summary: "Get an asymmetric key's public key",
    description: "The public half of an RSA or ECC key (SubjectPublicKeyInfo, DER), with what it may be used for.",
    input: { keyId: KeyRef },
    output: { keyId: KeyArn, publicKey: Base64, keySpec: KeySpec, keyUsage: KeyUsage, encryptionAlgorithms: z.array(EncryptionAlgorithm).optional(), signingAlgorithms: z.array(SigningAlgorithm).optional() },
    errors: [...KEY_USE, "UnsupportedOperationException"],
    run: async (svc: CryptoService, p, i, call) => {
      const out = await svc.getPublicKey(p, i.keyId, call);
      return {
        keyId: out.key.arn,
        publicKey: toB64(out.publicKey),
        keySpec: out.key.spec,
        keyUsage: out.key.usage,
        ...(out.encryptionAlgorithms.length ? { encryptionAlgorithms: [...out.encryptionAlgorithms] } : {}),
        ...(out.signingAlgorithms.length ? { signingAlgorithms: [...out.signingAlgorithms] } : {}),
      };
    },
  }),
  GenerateMac: operation({
    name: "GenerateMac",
    action: "kms:GenerateMac",
    summary: "Compute an HMAC",
    description: "An HMAC of the message with an HMAC key (GENERATE_VERIFY_MAC).",
    input: Mac,
    output: { keyId: KeyArn, mac: Base64, macAlgorithm: MacAlgorithm },
    errors: KEY_USE,
    run: async (svc: CryptoService, p, i, call) => {
      const out = await svc.generateMac(p, i.keyId, i.macAlgorithm, i.message, call);
      return { keyId: out.keyId, mac: toB64(out.mac), macAlgorithm: i.macAlgorithm };
    },
  }),
  VerifyMac: operation({
    name: "VerifyMac",
    action: "kms:VerifyMac",
    summary: "Verify an HMAC",
    description: "Whether the MAC is the key's HMAC of the message, compared in constant time. A MAC that does not verify is macValid false (the AWS protocol answers KMSInvalidMacException).",
    input: { ...Mac, mac: Blob(LIMITS.macBytes) },
    output: { keyId: KeyArn, macValid: z.boolean(), macAlgorithm: MacAlgorithm },
    errors: KEY_USE,
    run: async (svc: CryptoService, p, i, call) => {
      const out = await svc.verifyMac(p, i.keyId, i.macAlgorithm, i.message, i.mac, call);
      return { keyId: out.keyId, macValid: out.valid, macAlgorithm: i.macAlgorithm };
    },
  }),
} satisfies Record<string, AnyOperation<CryptoService>>;
