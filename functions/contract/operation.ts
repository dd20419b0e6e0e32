import type * as z from "zod";
import type { KmsErrorCode } from "../../shared/errors.js";
import type { EncryptionContext } from "../../shared/crypto/envelope.js";
import type { CallOpts } from "../../shared/hsm/port.js";
import type { Principal } from "../identity/principal.js";

/** What a request's audit record names before the operation runs. */
export type Audited = { keyId?: string | undefined; encryptionContext?: EncryptionContext | undefined };

/**
 * One operation, defined once for every door: its input and output fields (camelCase, bytes as
 * base64 on the wire), the errors it can answer, what its audit record names, and what it does.
 * The native API serves it as JSON under /v1 (http/native.ts); the AWS KMS protocol renames its
 * fields to PascalCase (aws-kms/codec.ts); the OpenAPI document describes it from the same object.
 */
export type Operation<S, I extends z.ZodRawShape, O extends z.ZodRawShape, R = z.input<z.ZodObject<O>>> = {
  /** As AWS KMS names it: the AWS door's X-Amz-Target operation and the native API's operationId. */
  name: string;
  /** The action its audit record names (`kms:<name>`); the key policy decides on the actions the service asks for. */
  action: `${"kms" | "tether"}:${string}`;
  summary: string;
  description: string;
  input: I;
  output: O;
  /** The errors its own rules can answer (authentication, throttling and dependency failures apply to every operation). */
  errors: readonly KmsErrorCode[];
  audited?(input: z.output<z.ZodObject<I>>): Audited;
  /** What it does: the native answer itself, or a result `answer` renders (so that another door can render it its own way). */
  run(svc: S, principal: Principal, input: z.output<z.ZodObject<I>>, call: CallOpts): Promise<R>;
  answer?(result: R, input: z.output<z.ZodObject<I>>): z.input<z.ZodObject<O>>;
  /** The key its result names, when its input did not (a key just created): the audit record names it. */
  resultKey?(result: R): string | undefined;
};

// eslint-disable-next-line @typescript-eslint/no-explicit-any -- a collection of operations of different shapes
export type AnyOperation<S = any> = Operation<S, z.ZodRawShape, z.ZodRawShape, any>;

export const operation = <S, I extends z.ZodRawShape, O extends z.ZodRawShape, R = z.input<z.ZodObject<O>>>(o: Operation<S, I, O, R>): Operation<S, I, O, R> => o;

/** The native answer to an operation's result. */
export const nativeAnswer = (op: AnyOperation, result: unknown, input: Record<string, unknown>): Record<string, unknown> => (op.answer ? op.answer(result, input) : (result as Record<string, unknown>));

/** What an operation's audit record names: its own choice, or the key and encryption context of its input. */
export function auditedOf(op: AnyOperation, input: Record<string, unknown>): Audited {
  if (op.audited) return op.audited(input);
  return {
    ...(typeof input.keyId === "string" ? { keyId: input.keyId } : {}),
    ...(input.encryptionContext ? { encryptionContext: input.encryptionContext as EncryptionContext } : {}),
  };
}
