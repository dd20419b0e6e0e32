import pkcs11js from "pkcs11js";
import { KmsError } from "../../shared/errors.js";
import { AUDIT_CHECKPOINT_KEY_LABEL } from "../../shared/hsm/port.js";
import { keyPlan } from "./key-templates.js";
import { cleanLabel, findOne, paddedLabel, Pkcs11Module } from "./module.js";

/**
 * Operator tooling for a software token (SoftHSM2) and the root key: used by the local stack and
 * the tests, and by an on-prem operator preparing a fresh token. Idempotent.
 */
export type ProvisionOptions = {
  modulePath: string;
  tokenLabel: string;
  /** Needed only to initialise a token that does not exist yet (SoftHSM2); a real HSM's token is set up by its own tools. */
  soPin?: string | undefined;
  userPin: string;
  rootKeyLabel: string;
};

export type ProvisionResult = { tokenCreated: boolean; rootKeyCreated: boolean; auditKeyCreated: boolean };

export function provisionToken(opts: ProvisionOptions): ProvisionResult {
  let mod = new Pkcs11Module(opts.modulePath);
  try {
    const tokenCreated = initTokenOnce(mod, opts);
    if (tokenCreated) {
      // SoftHSM renumbers slots once a token is initialised: load the slot list afresh.
      mod.close();
      mod = new Pkcs11Module(opts.modulePath);
    }
    const rootKeyCreated = withUserSession(mod, opts, (session) => ensureRootKey(mod, session, opts.rootKeyLabel));
    const auditKeyCreated = withUserSession(mod, opts, (session) => ensureAuditCheckpointKey(mod, session));
    return { tokenCreated, rootKeyCreated, auditKeyCreated };
  } finally {
    mod.close();
  }
}

function initTokenOnce(mod: Pkcs11Module, opts: ProvisionOptions): boolean {
  const p11 = mod.p11;
  const slots = p11.C_GetSlotList(true);
  const infos = slots.map((slot) => ({ slot, token: p11.C_GetTokenInfo(slot) }));
  if (infos.some(({ token }) => cleanLabel(token.label) === opts.tokenLabel)) return false;
  if (!opts.soPin) throw new KmsError("NotFoundException", `no token is labelled "${opts.tokenLabel}"; initialising one needs the SO PIN`);
  const free = infos.find(({ token }) => (token.flags & pkcs11js.CKF_TOKEN_INITIALIZED) === 0);
  if (!free) throw new KmsError("HsmUnavailableException", "no uninitialised token slot is free");
  p11.C_InitToken(free.slot, opts.soPin, paddedLabel(opts.tokenLabel));
  const session = p11.C_OpenSession(free.slot, pkcs11js.CKF_SERIAL_SESSION | pkcs11js.CKF_RW_SESSION);
  try {
    p11.C_Login(session, pkcs11js.CKU_SO, opts.soPin);
    p11.C_InitPIN(session, opts.userPin);
    p11.C_Logout(session);
  } finally {
    p11.C_CloseSession(session);
  }
  return true;
}

/** The root key: AES-256, token object, sensitive, never extractable, encrypt/decrypt/wrap/unwrap. */
export const rootKeyTemplate = (label: string): pkcs11js.Template => [
  { type: pkcs11js.CKA_CLASS, value: pkcs11js.CKO_SECRET_KEY },
  { type: pkcs11js.CKA_KEY_TYPE, value: pkcs11js.CKK_AES },
  { type: pkcs11js.CKA_VALUE_LEN, value: 32 },
  { type: pkcs11js.CKA_LABEL, value: label },
  { type: pkcs11js.CKA_ID, value: Buffer.from(label, "utf8") },
  { type: pkcs11js.CKA_TOKEN, value: true },
  { type: pkcs11js.CKA_PRIVATE, value: true },
  { type: pkcs11js.CKA_SENSITIVE, value: true },
  { type: pkcs11js.CKA_EXTRACTABLE, value: false },
  { type: pkcs11js.CKA_ENCRYPT, value: true },
  { type: pkcs11js.CKA_DECRYPT, value: true },
  { type: pkcs11js.CKA_WRAP, value: true },
  { type: pkcs11js.CKA_UNWRAP, value: true },
];

function withUserSession<T>(mod: Pkcs11Module, opts: ProvisionOptions, fn: (session: Buffer) => T): T {
  const { slot } = mod.findSlot(opts.tokenLabel);
  const session = mod.p11.C_OpenSession(slot, pkcs11js.CKF_SERIAL_SESSION | pkcs11js.CKF_RW_SESSION);
  try {
    mod.p11.C_Login(session, pkcs11js.CKU_USER, opts.userPin);
    return fn(session);
  } finally {
    mod.p11.C_CloseSession(session);
  }
}

function ensureRootKey(mod: Pkcs11Module, session: Buffer, label: string): boolean {
  const existing = findOne(mod.p11, session, [
    { type: pkcs11js.CKA_CLASS, value: pkcs11js.CKO_SECRET_KEY },
    { type: pkcs11js.CKA_LABEL, value: label },
  ]);
  if (existing !== undefined) return false;
  mod.p11.C_GenerateKey(session, { mechanism: pkcs11js.CKM_AES_KEY_GEN }, rootKeyTemplate(label));
  return true;
}

/** The audit checkpoint signing key (see AUDIT_CHECKPOINT_KEY_LABEL): an ECDSA P-256 pair, private half sensitive. */
function ensureAuditCheckpointKey(mod: Pkcs11Module, session: Buffer): boolean {
  const existing = findOne(mod.p11, session, [
    { type: pkcs11js.CKA_CLASS, value: pkcs11js.CKO_PRIVATE_KEY },
    { type: pkcs11js.CKA_LABEL, value: AUDIT_CHECKPOINT_KEY_LABEL },
  ]);
  if (existing !== undefined) return false;
  const plan = keyPlan("ECC_NIST_P256", AUDIT_CHECKPOINT_KEY_LABEL, true);
  if (plan.kind !== "pair") throw new Error("an EC key plan is a pair");
  mod.p11.C_GenerateKeyPair(session, plan.mechanism, plan.publicTemplate, plan.privateTemplate);
  return true;
}
