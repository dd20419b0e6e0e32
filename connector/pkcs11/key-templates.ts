import pkcs11js from "pkcs11js";
import type { HsmKeySpec } from "../../shared/hsm/port.js";

/** PKCS#11 templates for HSM-resident keys. A pair's public half is labelled `<label>_pk`. */

export const publicLabel = (label: string): string => `${label}_pk`;

export const CURVES = {
  ECC_NIST_P256: { oid: Buffer.from("06082a8648ce3d030107", "hex"), crv: "P-256", size: 32 },
  ECC_NIST_P384: { oid: Buffer.from("06052b81040022", "hex"), crv: "P-384", size: 48 },
} as const;

const RSA_BITS = { RSA_2048: 2048, RSA_3072: 3072, RSA_4096: 4096 } as const;

const privacy = (sensitive: boolean): pkcs11js.Template => [
  { type: pkcs11js.CKA_TOKEN, value: true },
  { type: pkcs11js.CKA_PRIVATE, value: true },
  { type: pkcs11js.CKA_SENSITIVE, value: sensitive },
  { type: pkcs11js.CKA_EXTRACTABLE, value: !sensitive },
];

export type KeyPlan =
  | { kind: "secret"; mechanism: pkcs11js.Mechanism; template: pkcs11js.Template }
  | { kind: "pair"; mechanism: pkcs11js.Mechanism; publicTemplate: pkcs11js.Template; privateTemplate: pkcs11js.Template };

export function keyPlan(spec: HsmKeySpec, label: string, sensitive: boolean): KeyPlan {
  const id = Buffer.from(label, "utf8");
  if (spec === "AES_256") {
    return {
      kind: "secret",
      mechanism: { mechanism: pkcs11js.CKM_AES_KEY_GEN },
      template: [
        { type: pkcs11js.CKA_CLASS, value: pkcs11js.CKO_SECRET_KEY },
        { type: pkcs11js.CKA_KEY_TYPE, value: pkcs11js.CKK_AES },
        { type: pkcs11js.CKA_VALUE_LEN, value: 32 },
        { type: pkcs11js.CKA_LABEL, value: label },
        { type: pkcs11js.CKA_ID, value: id },
        ...privacy(sensitive),
        { type: pkcs11js.CKA_ENCRYPT, value: true },
        { type: pkcs11js.CKA_DECRYPT, value: true },
      ],
    };
  }
  const isRsa = spec in RSA_BITS;
  const publicTemplate: pkcs11js.Template = [
    { type: pkcs11js.CKA_CLASS, value: pkcs11js.CKO_PUBLIC_KEY },
    { type: pkcs11js.CKA_LABEL, value: publicLabel(label) },
    { type: pkcs11js.CKA_ID, value: id },
    { type: pkcs11js.CKA_TOKEN, value: true },
    { type: pkcs11js.CKA_VERIFY, value: true },
    ...(isRsa
      ? [
          { type: pkcs11js.CKA_ENCRYPT, value: true },
          { type: pkcs11js.CKA_MODULUS_BITS, value: RSA_BITS[spec as keyof typeof RSA_BITS] },
          { type: pkcs11js.CKA_PUBLIC_EXPONENT, value: Buffer.from([1, 0, 1]) },
        ]
      : [{ type: pkcs11js.CKA_EC_PARAMS, value: CURVES[spec as keyof typeof CURVES].oid }]),
  ];
  const privateTemplate: pkcs11js.Template = [
    { type: pkcs11js.CKA_CLASS, value: pkcs11js.CKO_PRIVATE_KEY },
    { type: pkcs11js.CKA_LABEL, value: label },
    { type: pkcs11js.CKA_ID, value: id },
    ...privacy(sensitive),
    { type: pkcs11js.CKA_SIGN, value: true },
    ...(isRsa ? [{ type: pkcs11js.CKA_DECRYPT, value: true }] : []),
  ];
  return {
    kind: "pair",
    mechanism: { mechanism: isRsa ? pkcs11js.CKM_RSA_PKCS_KEY_PAIR_GEN : pkcs11js.CKM_EC_KEY_PAIR_GEN },
    publicTemplate,
    privateTemplate,
  };
}
