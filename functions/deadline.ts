import { AsyncLocalStorage } from "node:async_hooks";
import { isKmsError, KmsError } from "../shared/errors.js";

const scope = new AsyncLocalStorage<number>();

/**
 * Runs `work` under `deadline` (epoch ms): every dependency call it makes — DynamoDB, the API
 * Gateway management API, a JWKS endpoint — carries what is left of it as an abort signal. A
 * request runs under its own deadline; background work (audit batches, checkpoints, the sweeper)
 * under one of its own, never under the request that happened to start it.
 */
export const withDeadline = <T>(deadline: number, work: () => T): T => scope.run(deadline, work);

/** The deadline of the work running now, if it runs under one. */
export const currentDeadline = (): number | undefined => scope.getStore();

/** What is left of the current deadline (or of `fallbackMs` from now), in ms; 0 once it has passed. */
export const remainingMs = (fallbackMs: number): number => Math.max(0, (currentDeadline() ?? Date.now() + fallbackMs) - Date.now());

/** The error of a dependency that did not answer in time. */
export const dependencyTimeout = (dependency: string): KmsError =>
  new KmsError("DependencyTimeoutException", `${dependency} did not answer in time; retry`);

/** The errors an AWS service throttles with. */
const THROTTLED = new Set(["ProvisionedThroughputExceededException", "ThrottlingException", "RequestLimitExceeded", "TooManyRequestsException", "Throttling"]);
/** Node's errors for a peer that cannot be reached or hung up. */
const UNREACHABLE = new Set(["ECONNREFUSED", "ECONNRESET", "EPIPE", "EHOSTUNREACH", "ENETUNREACH", "ENOTFOUND", "EAI_AGAIN", "ECONNABORTED"]);

type DependencyError = Error & { code?: string; $metadata?: { httpStatusCode?: number }; CancellationReasons?: { Code?: string }[] };

/**
 * What a failed dependency call (an AWS SDK call, a JWKS fetch) means for the caller: out of
 * time → DependencyTimeoutException (503), throttled → ThrottlingException (429), unreachable
 * or failing → DependencyUnavailableException (503). Anything else (a conditional check, a
 * validation error: Tether's own concern) is returned as it is.
 */
export function dependencyFault(dependency: string, err: unknown): unknown {
  if (!(err instanceof Error) || isKmsError(err)) return err;
  const e = err as DependencyError;
  const status = e.$metadata?.httpStatusCode;
  if (e.name === "AbortError" || e.name === "TimeoutError" || e.code === "ETIMEDOUT") return dependencyTimeout(dependency);
  if (THROTTLED.has(e.name) || status === 429 || e.CancellationReasons?.some((r) => r.Code === "ThrottlingError")) {
    return new KmsError("ThrottlingException", `${dependency} is throttling requests; retry with back-off`, { cause: err });
  }
  if ((e.code !== undefined && UNREACHABLE.has(e.code)) || (status !== undefined && status >= 500)) {
    return new KmsError("DependencyUnavailableException", `${dependency} is unreachable or failing; retry`, { cause: err });
  }
  return err;
}
