import pkcs11js from "pkcs11js";
import { KmsError } from "../../shared/errors.js";

export type Handle = pkcs11js.Handle;
export type Pkcs11 = pkcs11js.PKCS11;
export type TokenInfo = pkcs11js.TokenInfo;

/** Re-initialisations closer together than this are skipped: the one just done is tried first. */
const MIN_REINIT_INTERVAL_MS = 1_000;

/**
 * One loaded PKCS#11 library. `generation` increases on every re-initialisation so that
 * session pools know their handles are gone. Every use of the module runs through `using`, so
 * that a re-initialisation waits for the calls in flight (C_Finalize under a call still running
 * on another thread crashes the process) and holds new ones until it is done.
 */
export class Pkcs11Module {
  readonly p11: Pkcs11 = new pkcs11js.PKCS11();
  generation = 0;
  private reinitializing: Promise<void> | undefined;
  private active = 0;
  private paused: Promise<void> | undefined;
  private idleWaiters: Array<() => void> = [];
  private closing = false;
  private lastReinitAt = 0;

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

  /** Runs one use of the module (calls on sessions), after any re-initialisation under way. */
  async using<T>(use: () => Promise<T>): Promise<T> {
    while (this.paused) await this.paused;
    if (this.closing) throw new KmsError("HsmUnavailableException", "the connector is shutting down");
    this.active += 1;
    try {
      return await use();
    } finally {
      this.active -= 1;
      if (this.active === 0) for (const wake of this.idleWaiters.splice(0)) wake();
    }
  }

  /** Resolves once no use is in flight. */
  private idle(): Promise<void> {
    return this.active === 0 ? Promise.resolve() : new Promise<void>((resolve) => this.idleWaiters.push(resolve));
  }

  /**
   * Refuses new uses and waits, up to `timeoutMs`, for those in flight to finish: true once
   * nothing runs on the module (it may be finalized), false if calls are still running (it must
   * not be: C_Finalize under a running call crashes the process).
   */
  async quiesce(timeoutMs: number): Promise<boolean> {
    this.closing = true;
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([this.idle(), new Promise((resolve) => (timer = setTimeout(resolve, timeoutMs)))]);
    clearTimeout(timer);
    return this.active === 0;
  }

  /**
   * Finalizes and initialises the module again (after a device fault), once the calls in flight
   * have finished; concurrent callers share one, and one just done is not repeated. Call it
   * outside `using`.
   */
  reinitialize(): Promise<void> {
    this.reinitializing ??= (async () => {
      if (Date.now() - this.lastReinitAt < MIN_REINIT_INTERVAL_MS) return;
      let resume = () => undefined as void;
      this.paused = new Promise<void>((resolve) => (resume = resolve));
      try {
        await this.idle();
        try {
          this.p11.C_Finalize();
        } catch {
          // already finalized or the device is gone: initialise anyway
        }
        this.generation += 1;
        this.lastReinitAt = Date.now();
        this.initialize();
      } finally {
        this.paused = undefined;
        resume();
      }
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

  /** Finalizes and unloads the module; only once quiesced. */
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
