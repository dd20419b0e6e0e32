import type { AuditEntry } from "../audit/record.js";
import type { CallOpts } from "../../shared/hsm/port.js";
import type { Logger } from "../../shared/log.js";
import type { Principal } from "../identity/principal.js";

/** What an audited request tells the audit middleware about itself. */
export type AuditNote = { action: string; keyId?: string | undefined; encryptionContext?: Record<string, string> | undefined; xks?: AuditEntry["xks"] };

export type AppEnv = {
  Variables: {
    requestId: string;
    /** The caller's own X-Request-Id, if it sent a well-formed one (recorded, never trusted as an id). */
    clientRequestId: string | undefined;
    log: Logger;
    call: CallOpts;
    principal: Principal | undefined;
    audit: AuditNote;
    /** Makes the request's intent record durable (once); see http/audit.ts `note`. */
    intend: () => Promise<void>;
    /** Server-Timing entries of this request (see timePhase). */
    timings: string[];
  };
};
