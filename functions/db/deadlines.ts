import { NodeHttpHandler } from "@smithy/node-http-handler";
import type { HttpRequest } from "@smithy/protocol-http";
import type { HttpHandlerOptions, MiddlewareStack } from "@smithy/types";
import { dependencyFault, dependencyTimeout, remainingMs } from "../deadline.js";

/**
 * The HTTP handler of Tether's AWS SDK clients (DynamoDB, the API Gateway management API): every
 * attempt carries what is left of the current deadline (functions/deadline.ts) as an abort
 * signal and a socket timeout, so a paused or silent dependency releases its caller at the
 * deadline and the socket is torn down. Work under no deadline gets `fallbackMs` per attempt.
 */
export class DeadlineHttpHandler extends NodeHttpHandler {
  constructor(
    private readonly dependency: string,
    private readonly fallbackMs: number,
  ) {
    super({ connectionTimeout: Math.min(fallbackMs, 3_000) });
  }

  override handle(request: HttpRequest, options: HttpHandlerOptions = {}): ReturnType<NodeHttpHandler["handle"]> {
    const left = remainingMs(this.fallbackMs);
    if (left <= 0) return Promise.reject(dependencyTimeout(this.dependency));
    const deadline = AbortSignal.timeout(left);
    const abortSignal = options.abortSignal ? AbortSignal.any([deadline, options.abortSignal as AbortSignal]) : deadline;
    return super.handle(request, { ...options, abortSignal, requestTimeout: left });
  }
}

/** Makes every call of an SDK client fail with `dependencyFault`'s errors (outside its retries). */
export function translateFaults(client: { middlewareStack: MiddlewareStack<any, any> }, dependency: string): void { // eslint-disable-line @typescript-eslint/no-explicit-any -- any client's stack
  client.middlewareStack.add(
    (next) => async (args) => {
      try {
        return await next(args);
      } catch (err) {
        throw dependencyFault(dependency, err);
      }
    },
    { step: "initialize", name: "tetherDependencyFaults", priority: "high" },
  );
}
