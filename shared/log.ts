import { pino, type Logger as PinoLogger } from "pino";

export type LogLevel = "debug" | "info" | "warn" | "error";
export type LogFields = Record<string, unknown>;

/**
 * JSON-lines logger. Call sites read `log.info("message", { fields })`.
 * Never pass plaintext, key bytes, PINs, AAD or encryption-context values.
 */
export interface Logger {
  debug(msg: string, fields?: LogFields): void;
  info(msg: string, fields?: LogFields): void;
  warn(msg: string, fields?: LogFields): void;
  error(msg: string, fields?: LogFields): void;
  child(fields: LogFields): Logger;
}

/** Field names whose values are never written, whatever the caller passes. */
const REDACTED = ["pin", "soPin", "secret", "plaintext", "key", "material", "password", "token"];

const wrap = (p: PinoLogger): Logger => ({
  debug: (msg, fields) => p.debug(fields ?? {}, msg),
  info: (msg, fields) => p.info(fields ?? {}, msg),
  warn: (msg, fields) => p.warn(fields ?? {}, msg),
  error: (msg, fields) => p.error(fields ?? {}, msg),
  child: (fields) => wrap(p.child(fields)),
});

export type LogDestination = { write(line: string): void };

export function createLogger(opts: {
  name: string;
  level: LogLevel;
  destination?: LogDestination;
}): Logger {
  const p = pino(
    {
      name: opts.name,
      level: opts.level,
      base: { name: opts.name },
      redact: { paths: REDACTED.flatMap((f) => [f, `*.${f}`]), censor: "[redacted]" },
      serializers: { err: pino.stdSerializers.err },
    },
    opts.destination ?? pino.destination({ dest: 2, sync: false }),
  );
  return wrap(p);
}

/** A logger that drops everything: for code paths whose caller passes none. */
export const silentLogger: Logger = {
  debug: () => undefined,
  info: () => undefined,
  warn: () => undefined,
  error: () => undefined,
  child: () => silentLogger,
};
