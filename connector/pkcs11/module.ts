import pkcs11js from "pkcs11js";
import { KmsError } from "../../shared/errors.js";

export type Handle = pkcs11js.Handle;
export type Pkcs11 = pkcs11js.PKCS11;
export type TokenInfo = pkcs11js.TokenInfo;

/**
 * One loaded PKCS#11 library. `generation` increases on every re-initialisation so that
 * session pools know their handles are gone.
 */
export class Pkcs11Module {
  readonly p11: Pkcs11 = new pkcs11js.PKCS11();
  generation = 0;
  private reinitializing: Promise<void> | undefined;

  constructor(readonly path: string) {
    try {
      this.p11.load(path);
    } catch {
      throw new KmsError("HsmUnavailableException", `cannot load the PKCS#11 module at ${path}`);
    }
    this.initialize();
  }

  /**
   * Async calls run on libuv's thread pool while the event loop issues other calls: the module
   * must lock with the OS's primitives (without this, SoftHSM crashes under concurrent load).
   */
  private initialize(): void {
    this.p11.C_Initialize({ flags: pkcs11js.CKF_OS_LOCKING_OK });
  }

  /** Finalizes and initialises the module again (after a device fault); concurrent callers share one. */
  reinitialize(): Promise<void> {
    this.reinitializing ??= (async () => {
      try {
        this.p11.C_Finalize();
      } catch {
        // already finalized or the device is gone: initialise anyway
      }
      this.initialize();
      this.generation += 1;
    })().finally(() => {
      this.reinitializing = undefined;
    });
    return this.reinitializing;
  }

  /** The slot holding the initialised token with this label. */
  findSlot(tokenLabel: string): { slot: Handle; token: TokenInfo } {
    for (const slot of this.p11.C_GetSlotList(true)) {
      const token = this.p11.C_GetTokenInfo(slot);
      if (cleanLabel(token.label) === tokenLabel) return { slot, token };
    }
    throw new KmsError("HsmUnavailableException", `no token labelled "${tokenLabel}" in ${this.path}`);
  }

  close(): void {
    try {
      this.p11.C_Finalize();
    } catch {
      // nothing left to release
    }
    this.p11.close();
  }
}

/** Finds exactly one object matching the template, or undefined. */
export function findOne(p11: Pkcs11, session: Handle, template: pkcs11js.Template): Handle | undefined {
  p11.C_FindObjectsInit(session, template);
  try {
    const found = p11.C_FindObjects(session, 2);
    if (found.length > 1) throw new KmsError("KMSInvalidStateException", "more than one HSM object has that label");
    return found[0];
  } finally {
    p11.C_FindObjectsFinal(session);
  }
}

/** A CK_UTF8CHAR field as text: PKCS#11 pads with blanks; some modules pad with NULs. */
export const cleanLabel = (field: string): string => field.replace(/[\s\0]+$/u, "");

/** A token label as PKCS#11 wants it: exactly 32 bytes, blank-padded. */
export const paddedLabel = (label: string): string => label.padEnd(32, " ");
