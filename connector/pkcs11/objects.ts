import { createPublicKey } from "node:crypto";
import pkcs11js from "pkcs11js";
import { KmsError } from "../../shared/errors.js";
import type { HsmKeyInfo, HsmKeyRef, HsmKeySpec } from "../../shared/hsm/port.js";
import { CURVES, publicLabel } from "./key-templates.js";
import { findOne, type Handle, type Pkcs11 } from "./module.js";

/** HSM key objects: found by label and class, described as Tether names them, and an RSA or EC public key as DER. */
export type KeyClass = "secret" | "private" | "public";
const CKO: Record<KeyClass, number> = { secret: pkcs11js.CKO_SECRET_KEY, private: pkcs11js.CKO_PRIVATE_KEY, public: pkcs11js.CKO_PUBLIC_KEY };

export function findKey(p11: Pkcs11, s: Handle, label: string, cls: KeyClass): Handle | undefined {
  return findOne(p11, s, [
    { type: pkcs11js.CKA_CLASS, value: CKO[cls] },
    { type: pkcs11js.CKA_LABEL, value: label },
  ]);
}

export function requireKey(p11: Pkcs11, s: Handle, label: string, cls: KeyClass, ref: HsmKeyRef): Handle {
  const h = findKey(p11, s, label, cls);
  if (h === undefined) throw new KmsError("NotFoundException", `no ${cls} HSM key "${ref.label}" in slot ${ref.slot}`);
  return h;
}

/** The token's secret and private keys (a pair by its private half), described. */
export function keysOf(p11: Pkcs11, s: Handle, slot: string): HsmKeyInfo[] {
  const out: HsmKeyInfo[] = [];
  for (const cls of ["secret", "private"] as const) {
    p11.C_FindObjectsInit(s, [
      { type: pkcs11js.CKA_CLASS, value: CKO[cls] },
      { type: pkcs11js.CKA_TOKEN, value: true },
    ]);
    let handles: Handle[];
    try {
      handles = p11.C_FindObjects(s, 10_000);
    } finally {
      p11.C_FindObjectsFinal(s);
    }
    for (const h of handles) {
      const info = describeKey(p11, s, slot, h);
      if (info) out.push(info);
    }
  }
  return out;
}

/** A key object as Tether names it (spec, sensitivity), or undefined for a kind of key Tether does not use. */
export function describeKey(p11: Pkcs11, s: Handle, slot: string, h: Handle): HsmKeyInfo | undefined {
  const [label, keyType] = p11.C_GetAttributeValue(s, h, [{ type: pkcs11js.CKA_LABEL }, { type: pkcs11js.CKA_KEY_TYPE }]);
  const name = (label?.value as Buffer | undefined)?.toString("utf8") ?? "";
  const type = (keyType?.value as Buffer | undefined)?.readUInt32LE(0);
  let spec: HsmKeySpec | undefined;
  if (type === pkcs11js.CKK_AES) spec = "AES_256";
  else if (type === pkcs11js.CKK_RSA) {
    const [modulus] = p11.C_GetAttributeValue(s, h, [{ type: pkcs11js.CKA_MODULUS }]);
    const bits = ((modulus?.value as Buffer | undefined)?.length ?? 0) * 8;
    spec = bits === 2048 ? "RSA_2048" : bits === 3072 ? "RSA_3072" : bits === 4096 ? "RSA_4096" : undefined;
  } else if (type === pkcs11js.CKK_EC) {
    const [params] = p11.C_GetAttributeValue(s, h, [{ type: pkcs11js.CKA_EC_PARAMS }]);
    const oid = params?.value as Buffer | undefined;
    spec = oid?.equals(CURVES.ECC_NIST_P256.oid) ? "ECC_NIST_P256" : oid?.equals(CURVES.ECC_NIST_P384.oid) ? "ECC_NIST_P384" : undefined;
  }
  if (!spec) return undefined;
  const isPublic = name.endsWith("_pk") && type !== pkcs11js.CKK_AES;
  if (isPublic) return { slot, label: name.slice(0, -3), spec, sensitive: false, extractable: true };
  const [sensitive, extractable] = p11.C_GetAttributeValue(s, h, [{ type: pkcs11js.CKA_SENSITIVE }, { type: pkcs11js.CKA_EXTRACTABLE }]);
  return { slot, label: name, spec, sensitive: (sensitive?.value as Buffer)[0] === 1, extractable: (extractable?.value as Buffer)[0] === 1 };
}

/** DER SubjectPublicKeyInfo of a public key object (RSA or EC). */
export function publicKeyDer(p11: Pkcs11, s: Handle, h: Handle): Uint8Array {
  const info = describeKey(p11, s, "", h);
  let jwk: Record<string, string>;
  if (info?.spec.startsWith("RSA")) {
    const [n, e] = p11.C_GetAttributeValue(s, h, [{ type: pkcs11js.CKA_MODULUS }, { type: pkcs11js.CKA_PUBLIC_EXPONENT }]);
    jwk = { kty: "RSA", n: (n?.value as Buffer).toString("base64url"), e: (e?.value as Buffer).toString("base64url") };
  } else if (info?.spec === "ECC_NIST_P256" || info?.spec === "ECC_NIST_P384") {
    const curve = CURVES[info.spec];
    const [point] = p11.C_GetAttributeValue(s, h, [{ type: pkcs11js.CKA_EC_POINT }]);
    const raw = point?.value as Buffer;
    // CKA_EC_POINT is DER OCTET STRING(04 || X || Y); some modules return the bare point.
    const q = raw.length === 1 + 2 * curve.size ? raw : raw.subarray(raw.length - (1 + 2 * curve.size));
    jwk = { kty: "EC", crv: curve.crv, x: q.subarray(1, 1 + curve.size).toString("base64url"), y: q.subarray(1 + curve.size).toString("base64url") };
  } else {
    throw new KmsError("UnsupportedOperationException", "that HSM key has no public key");
  }
  return new Uint8Array(createPublicKey({ key: jwk, format: "jwk" }).export({ type: "spki", format: "der" }));
}

/** The root key is reachable only through wrap, unwrap and generate, never as a resident key (nor its public half by name). */
export function refuseRootKey(ref: HsmKeyRef, rootKeyLabel: string): void {
  if (ref.label === rootKeyLabel || ref.label === publicLabel(rootKeyLabel)) {
    throw new KmsError("AccessDeniedException", "the root key cannot be used as an HSM-resident key");
  }
}
