import { KmsError } from "../../shared/errors.js";
import type { SigningAlg } from "../../shared/hsm/port.js";
import type { KeyPairSpec } from "./key-pairs.js";
import type { KeySpec, KeyUsage } from "./model.js";
import { aeadOf, decrypterOf, macOf, signerOf, type Primitives } from "./primitives.js";

/** Encryption algorithms, as KMS names them: AES-256-GCM with a KMS key, or RSA-OAEP with a key pair. */
export const ENCRYPTION_ALGORITHMS = ["SYMMETRIC_DEFAULT", "RSAES_OAEP_SHA_1", "RSAES_OAEP_SHA_256"] as const;
export type EncryptionAlgorithm = (typeof ENCRYPTION_ALGORITHMS)[number];
export type RsaEncryptionAlg = Exclude<EncryptionAlgorithm, "SYMMETRIC_DEFAULT">;
/** What a key that lives in the HSM encrypts with, besides: PKCS#1 v1.5, which the HSM offers and KMS does not (native API only). */
export type ResidentEncryptionAlgorithm = EncryptionAlgorithm | "RSAES_PKCS1_V1_5";

export const MAC_ALGORITHMS = ["HMAC_SHA_256", "HMAC_SHA_384", "HMAC_SHA_512"] as const;
export type MacAlgorithm = (typeof MAC_ALGORITHMS)[number];

/** Data key specs (GenerateDataKey), with their lengths. */
export const DATA_KEY_SPECS = ["AES_128", "AES_256"] as const;
export const DATA_KEY_BYTES: Readonly<Record<(typeof DATA_KEY_SPECS)[number], number>> = { AES_128: 16, AES_256: 32 };

/** What a key spec is: the usages it allows (the first is the default), its material, its algorithms and what its material does. */
export type SpecTraits = {
  usages: readonly KeyUsage[];
  /** Random bytes of this length from the HSM's RNG, or a key pair generated in software (its private half, PKCS#8 DER). */
  material: { bytes: number } | { pair: KeyPairSpec };
  encryption: readonly EncryptionAlgorithm[];
  /** The encryption algorithms when the key lives in the HSM (`hsm::` keys), as the HSM's mechanisms allow. */
  residentEncryption: readonly ResidentEncryptionAlgorithm[];
  signing: readonly SigningAlg[];
  mac?: MacAlgorithm;
  /** The primitives a version's material makes. */
  primitives(material: Uint8Array): Primitives;
};

const RSA_SIGNING: readonly SigningAlg[] = ["RSASSA_PKCS1_V1_5_SHA_256", "RSASSA_PKCS1_V1_5_SHA_384", "RSASSA_PKCS1_V1_5_SHA_512", "RSASSA_PSS_SHA_256", "RSASSA_PSS_SHA_384", "RSASSA_PSS_SHA_512"];
const RSA_ENCRYPTION: readonly EncryptionAlgorithm[] = ["RSAES_OAEP_SHA_1", "RSAES_OAEP_SHA_256"];
const rsa = (pair: KeyPairSpec): SpecTraits => ({
  usages: ["ENCRYPT_DECRYPT", "SIGN_VERIFY"],
  material: { pair },
  encryption: RSA_ENCRYPTION,
  residentEncryption: ["RSAES_OAEP_SHA_256", "RSAES_PKCS1_V1_5"],
  signing: RSA_SIGNING,
  primitives: (der) => ({ signer: signerOf(der), decrypter: decrypterOf(der) }),
});
const ecc = (pair: KeyPairSpec, alg: SigningAlg): SpecTraits => ({ usages: ["SIGN_VERIFY"], material: { pair }, encryption: [], residentEncryption: [], signing: [alg], primitives: (der) => ({ signer: signerOf(der) }) });
const hmac = (bytes: number, mac: MacAlgorithm): SpecTraits => ({ usages: ["GENERATE_VERIFY_MAC"], material: { bytes }, encryption: [], residentEncryption: [], signing: [], mac, primitives: (key) => ({ mac: macOf(key, mac) }) });

/**
 * The key-spec registry: everything Tether knows of each key spec, in one place. Services, the
 * native API and the AWS protocol ask it rather than switch on a spec's name, and a version's
 * material does its crypto through the primitives its entry makes; a new spec (Ed25519, ML-DSA)
 * is one entry here plus its primitive.
 */
export const KEY_SPECS: Readonly<Record<KeySpec, SpecTraits>> = {
  SYMMETRIC_DEFAULT: { usages: ["ENCRYPT_DECRYPT"], material: { bytes: 32 }, encryption: ["SYMMETRIC_DEFAULT"], residentEncryption: ["SYMMETRIC_DEFAULT"], signing: [], primitives: (key) => ({ aead: aeadOf(key) }) },
  RSA_2048: rsa("RSA_2048"),
  RSA_3072: rsa("RSA_3072"),
  RSA_4096: rsa("RSA_4096"),
  ECC_NIST_P256: ecc("ECC_NIST_P256", "ECDSA_SHA_256"),
  ECC_NIST_P384: ecc("ECC_NIST_P384", "ECDSA_SHA_384"),
  HMAC_256: hmac(32, "HMAC_SHA_256"),
  HMAC_384: hmac(48, "HMAC_SHA_384"),
  HMAC_512: hmac(64, "HMAC_SHA_512"),
};

/** The algorithms a key of this spec and usage offers, as DescribeKey and GetPublicKey list them. */
export function algorithmsOf(spec: KeySpec, usage: KeyUsage): { encryption: readonly EncryptionAlgorithm[]; signing: readonly SigningAlg[]; mac: readonly MacAlgorithm[] } {
  const t = KEY_SPECS[spec];
  return {
    encryption: usage === "ENCRYPT_DECRYPT" ? t.encryption : [],
    signing: usage === "SIGN_VERIFY" ? t.signing : [],
    mac: usage === "GENERATE_VERIFY_MAC" && t.mac ? [t.mac] : [],
  };
}

/** The encryption algorithms a key offers: its spec's, or what the HSM does with it if it lives there. */
export const encryptionOf = (key: { spec: KeySpec; hsm?: unknown }): readonly ResidentEncryptionAlgorithm[] => (key.hsm ? KEY_SPECS[key.spec].residentEncryption : KEY_SPECS[key.spec].encryption);

/** The usage a new key of `spec` gets: the one asked for, if the spec allows it, else the spec's default. `named` is the spec as the caller named it. */
export function usageFor(spec: KeySpec, asked: KeyUsage | undefined, named: string = spec): KeyUsage {
  const { usages } = KEY_SPECS[spec];
  const usage = asked ?? (usages[0] as KeyUsage);
  if (!usages.includes(usage)) throw new KmsError("ValidationException", `key usage ${usage} does not fit key spec ${named}`);
  return usage;
}
