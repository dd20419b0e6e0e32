import { Hono, type MiddlewareHandler } from "hono";
import { note } from "../http/audit.js";
import { principalOf } from "../http/auth.js";
import type { AppEnv } from "../http/env.js";
import { awsErrors } from "./errors.js";
import { validated } from "../http/validate.js";
import { AwsOutcome, OPERATIONS, type Operation } from "./operations.js";
import { AWS_JSON } from "./shapes.js";

type Services = Parameters<Operation["run"]>[0];

/**
 * The AWS KMS JSON protocol at `POST /`: `X-Amz-Target: TrentService.<Operation>`, a JSON body of
 * AWS's shapes, SigV4 (or any Tether credential) — a thin adapter over the native services, so
 * AWS SDKs, the AWS CLI and the AWS Encryption SDK work unchanged. Its own guards (audit, body
 * limit, authentication) run inside it, so whatever they refuse is answered in AWS's error shape.
 */
export const awsKmsRoutes = (services: Services, guards: readonly [MiddlewareHandler<AppEnv>, MiddlewareHandler<AppEnv>, MiddlewareHandler<AppEnv>]) =>
  new Hono<AppEnv>().onError(awsErrors).post("/", ...guards, async (c) => {
    const name = /^TrentService\.([A-Za-z]{1,64})$/.exec(c.req.header("x-amz-target") ?? "")?.[1];
    const operation = name && Object.hasOwn(OPERATIONS, name) ? OPERATIONS[name] : undefined;
    if (!name || !operation) throw new AwsOutcome("UnknownOperationException", "the X-Amz-Target header names no operation Tether supports");
    c.set("audit", { action: `kms:${name}` });
    let body: unknown;
    try {
      const text = await c.req.text();
      body = text ? JSON.parse(text) : {};
    } catch {
      throw new AwsOutcome("SerializationException", "the request body is not JSON");
    }
    const input = validated(operation.input, body, "body") as { KeyId?: unknown; EncryptionContext?: Record<string, string>; GrantTokens?: string[] };
    const audited = operation.audited ? operation.audited(input) : { ...(typeof input.KeyId === "string" ? { keyId: input.KeyId } : {}), ...(input.EncryptionContext ? { encryptionContext: input.EncryptionContext } : {}) };
    await note(c, { action: `kms:${name}`, ...audited });
    const principal = { ...principalOf(c), ...(input.GrantTokens?.length ? { grantTokens: input.GrantTokens } : {}) };
    const out = await operation.run(services, principal, input, c.var.call);
    return c.body(JSON.stringify(out), 200, { "content-type": AWS_JSON });
  });
