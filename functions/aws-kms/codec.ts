import * as z from "zod";
import { GrantTokens } from "../contract/fields.js";
import { auditedOf, nativeAnswer, type AnyOperation, type Audited } from "../contract/operation.js";
import type { Principal } from "../identity/principal.js";
import type { CallOpts } from "../../shared/hsm/port.js";

type Fields = Record<string, unknown>;

/** An operation as the AWS door runs it: AWS's input shape, what its audit record names, and what it answers. */
export type AwsOperation<S> = {
  input: z.ZodType;
  audited?(input: Fields): Audited;
  run(services: S, principal: Principal, input: Fields, call: CallOpts): Promise<object>;
};

const pascal = (name: string) => name.charAt(0).toUpperCase() + name.slice(1);
const camel = (name: string) => name.charAt(0).toLowerCase() + name.slice(1);
const renamed = (fields: Fields, rename: (name: string) => string) => Object.fromEntries(Object.entries(fields).map(([name, value]) => [rename(name), value]));

export type CodecOptions = {
  /** Fields of the contract AWS KMS does not have. */
  omit?: readonly string[];
  /** AWS's own shape of a field (Tags as a list), or a field only AWS has; `decode` makes the contract's of them. */
  fields?: z.ZodRawShape;
  decode?: (input: Fields) => Fields;
  /** What AWS answers, from the operation's result, when it is not the native answer in PascalCase. */
  render?: (result: never, input: Fields) => Fields;
  /** What AWS says differently of the native answer in PascalCase (its own names for an outcome, fields of its own). */
  answer?: (out: Fields) => Fields;
};

/**
 * The AWS door's codec for an operation of the contract: AWS's field names are the contract's in
 * PascalCase (unknown fields are ignored, as AWS does; GrantTokens ride along for the router),
 * and its answer is the native answer in PascalCase unless the operation's result is rendered
 * AWS's way (a key's metadata in epoch seconds, an empty answer for a change).
 */
export function fromContract<All, S>(op: AnyOperation<S>, serviceOf: (all: All) => S, o: CodecOptions = {}): AwsOperation<All> {
  const fields = Object.entries(op.input).filter(([name]) => !o.omit?.includes(name));
  const toContract = ({ GrantTokens: _tokens, ...input }: Fields) => renamed(o.decode ? o.decode(input) : input, camel);
  return {
    input: z.object({ ...Object.fromEntries(fields.map(([name, schema]) => [pascal(name), schema])), ...o.fields, GrantTokens }).strip(),
    audited: (input) => auditedOf(op, toContract(input)),
    run: async (all, principal, input, call) => {
      const given = toContract(input);
      const result: unknown = await op.run(serviceOf(all), principal, given, call);
      if (o.render) return (o.render as (result: unknown, input: Fields) => Fields)(result, given);
      const answer = renamed(nativeAnswer(op, result, given), pascal);
      return o.answer ? o.answer(answer) : answer;
    },
  };
}
