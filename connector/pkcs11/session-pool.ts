import pkcs11js from "pkcs11js";
import { KmsError } from "../../shared/errors.js";
import type { Logger } from "../../shared/log.js";
import { alreadyLoggedIn, faultKind, isPkcs11Error, toKmsError, type HsmOperation } from "./ckr.js";
import { cleanLabel, type Handle, type Pkcs11Module, type TokenInfo } from "./module.js";
import { quirksFor, STANDARD_QUIRKS, type VendorQuirks } from "./vendors/index.js";

export type SlotConfig = { name: string; tokenLabel: string; pin: string; sessions: number };

/**
 * Sessions of one slot, logged in once and reused. A session that faults is dropped and
 * replaced; a device fault re-initialises the whole module. At most `sessions` calls run
 * at once; the rest wait in FIFO order.
 */
export class SessionPool {
  private idle: Handle[] = [];
  private open = 0;
  /** Calls admitted and running; at most `config.sessions`. */
  private busy = 0;
  private generation = -1;
  private slot: Handle | undefined;
  private waiters: Array<() => void> = [];
  token: TokenInfo | undefined;
  /**
   * Increases at every login. Object handles are valid only as long as the login they were found
   * under (a module may drop them when its last session closes): cache handles per epoch.
   */
  loginEpoch = 0;

  constructor(
    private readonly mod: Pkcs11Module,
    readonly config: SlotConfig,
    private readonly log: Logger,
  ) {}

  /** Opens the first session and logs in: a wrong PIN fails here, at start-up. */
  start(): void {
    try {
      this.idle.push(this.acquireNow());
    } catch (err) {
      throw toKmsError(err, "login");
    }
  }

  /** Runs fn with a logged-in session; retries once on a fresh session after a session or device fault. */
  async use<T>(op: HsmOperation, fn: (session: Handle) => Promise<T> | T): Promise<T> {
    await this.admit();
    try {
      for (let attempt = 0; ; attempt++) {
        const outcome = await this.mod.using(() => this.attempt(op, fn));
        if (outcome.ok) return outcome.value;
        const { fault, err } = outcome;
        this.log.warn("HSM fault, recovering", { slot: this.config.name, fault, ckr: toKmsError(err, op, this.quirks).ckr, attempt });
        // Outside `using`: a re-initialisation waits for every call in flight to finish.
        if (fault === "module") await this.mod.reinitialize();
        if (attempt >= 1) throw toKmsError(err, op, this.quirks);
      }
    } finally {
      this.leave();
    }
  }

  /** One try on a session: its result, or the fault that cost the session (the session is dropped). */
  private async attempt<T>(op: HsmOperation, fn: (session: Handle) => Promise<T> | T): Promise<{ ok: true; value: T } | { ok: false; fault: "session" | "module"; err: unknown }> {
    let session: Handle;
    try {
      session = this.acquireNow();
    } catch (err) {
      // A login the device refuses (as a module may just after re-initialising) is a fault like any other: recover and retry.
      const fault = isPkcs11Error(err) ? faultKind(err.code, "login", this.quirks) : "none";
      if (fault !== "none") return { ok: false, fault, err };
      throw toKmsError(err, "login");
    }
    try {
      const value = await fn(session);
      this.idle.push(session);
      return { ok: true, value };
    } catch (err) {
      const fault = isPkcs11Error(err) ? faultKind(err.code, op, this.quirks) : "none";
      if (fault === "none") {
        this.idle.push(session);
        throw toKmsError(err, op, this.quirks);
      }
      this.discard(session);
      return { ok: false, fault, err };
    }
  }

  /** The quirks of the module behind this slot (by its token's manufacturer). */
  get quirks(): VendorQuirks {
    return this.token ? quirksFor(cleanLabel(this.token.manufacturerID)) : STANDARD_QUIRKS;
  }

  private async admit(): Promise<void> {
    if (this.busy < this.config.sessions) {
      this.busy += 1;
      return;
    }
    await new Promise<void>((resolve) => this.waiters.push(resolve)); // the leaver hands over its place
  }

  private leave(): void {
    const next = this.waiters.shift();
    if (next) next();
    else this.busy -= 1;
  }

  private acquireNow(): Handle {
    if (this.generation !== this.mod.generation) this.reset();
    const cached = this.idle.pop();
    if (cached) return cached;
    const slot = this.slot ?? this.locate();
    const session = this.mod.p11.C_OpenSession(slot, pkcs11js.CKF_SERIAL_SESSION | pkcs11js.CKF_RW_SESSION);
    this.open += 1;
    if (this.open === 1) {
      this.login(session);
      this.loginEpoch += 1;
    }
    return session;
  }

  private locate(): Handle {
    const { slot, token } = this.mod.findSlot(this.config.tokenLabel);
    this.slot = slot;
    this.token = token;
    return slot;
  }

  /** A wrong PIN is AuthenticationFailedException; any other refusal is thrown as the module gave it (see `attempt`). */
  private login(session: Handle): void {
    try {
      this.mod.p11.C_Login(session, pkcs11js.CKU_USER, this.config.pin);
    } catch (err) {
      if (alreadyLoggedIn(err)) return;
      this.discard(session);
      const mapped = toKmsError(err, "login");
      if (mapped.code === "AuthenticationFailedException") {
        throw new KmsError("AuthenticationFailedException", `login to slot "${this.config.name}" failed: wrong PIN (${mapped.ckr})`);
      }
      throw err;
    }
  }

  private discard(session: Handle): void {
    this.open = Math.max(0, this.open - 1);
    try {
      this.mod.p11.C_CloseSession(session);
    } catch {
      // the handle is already invalid
    }
  }

  /** The module was re-initialised: every handle we held is gone. */
  private reset(): void {
    this.idle = [];
    this.open = 0;
    this.slot = undefined;
    this.generation = this.mod.generation;
  }

  close(): void {
    for (const session of this.idle.splice(0)) this.discard(session);
  }
}
