import { describe, expect, it } from "vitest";
import { isKmsError } from "../shared/errors.js";
import { dependencyFault } from "./deadline.js";

/** An error as the AWS SDK throws it for a service's answer: its name is the service's error type. */
const serviceError = (name: string, httpStatusCode: number, more: object = {}) => Object.assign(new Error(name), { name, $metadata: { httpStatusCode }, ...more });
const meta = (httpStatusCode: number) => ({ $metadata: { httpStatusCode } });
const codeOf = (err: unknown) => (isKmsError(err) ? err.code : (err as Error).name);

describe("what a failed DynamoDB call means for the caller", () => {
  it("throttling, in each of the shapes DynamoDB throttles with, is ThrottlingException", () => {
    const throttled = [
      serviceError("ProvisionedThroughputExceededException", 400),
      serviceError("ThrottlingException", 400),
      serviceError("RequestLimitExceeded", 400),
      serviceError("TransactionCanceledException", 400, { CancellationReasons: [{ Code: "None" }, { Code: "ThrottlingError" }] }),
    ];
    expect(throttled.map((e) => codeOf(dependencyFault("DynamoDB", e)))).toEqual(Array(4).fill("ThrottlingException"));
  });

  it("out of time is DependencyTimeoutException; unreachable or failing is DependencyUnavailableException", () => {
    const abort = Object.assign(new Error("aborted"), { name: "AbortError" });
    const timeout = Object.assign(new Error("timed out"), { name: "TimeoutError" });
    const refused = Object.assign(new Error("connect ECONNREFUSED 127.0.0.1:1"), { code: "ECONNREFUSED" });
    const reset = Object.assign(new Error("socket hang up"), { code: "ECONNRESET" });
    const failing = Object.assign(new Error("internal"), { name: "InternalServerError", ...meta(500) });
    expect([abort, timeout].map((e) => codeOf(dependencyFault("DynamoDB", e)))).toEqual(["DependencyTimeoutException", "DependencyTimeoutException"]);
    expect([refused, reset, failing].map((e) => codeOf(dependencyFault("DynamoDB", e)))).toEqual(Array(3).fill("DependencyUnavailableException"));
    expect((dependencyFault("DynamoDB", refused) as Error).message).toBe("DynamoDB is unreachable or failing; retry");
  });

  it("Tether's own concerns pass through unchanged (a conditional check, a cancelled transaction, a bug)", () => {
    const conditional = serviceError("ConditionalCheckFailedException", 400);
    const conflict = serviceError("TransactionCanceledException", 400, { CancellationReasons: [{ Code: "ConditionalCheckFailed" }] });
    const bug = new TypeError("undefined is not a function");
    for (const e of [conditional, conflict, bug]) expect(dependencyFault("DynamoDB", e)).toBe(e);
  });
});
