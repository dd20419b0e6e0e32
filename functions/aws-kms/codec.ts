import * as z from "zod";
import { GrantTokens } from "../contract/fields.js";
import { auditedOf, type AnyOperation, type Audited } from "../contract/operation.js";
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

/**
 * The AWS door's codec for an operation of the contract: AWS's field names are the contract's in
 * PascalCase (unknown fields are ignored, as AWS does; GrantTokens ride along for the router).
 * `omit` drops fields AWS KMS does not have; `answer` adds what AWS says differently (its own
 * names for an outcome, fields of its own).
 */
export function fromContract<All, S>(op: AnyOperation<S>, serviceOf: (all: All) => S, o: { omit?: readonly string[]; answer?: (out: Fields) => Fields } = {}): AwsOperation<All> {
  const fields = Object.entries(op.input).filter(([name]) => !o.omit?.includes(name));
  const toContract = ({ GrantTokens: _tokens, ...input }: Fields) => renamed(input, camel);
  return {
    input: z.object({ ...Object.fromEntries(fields.map(([name, schema]) => [pascal(name), schema])), GrantTokens }).strip(),
    audited: (input) => auditedOf(op, toContract(input)),
    run: async (all, principal, input, call) => {
      const answer = renamed(await op.run(serviceOf(all), principal, toContract(input), call), pascal);
      return o.answer ? o.answer(answer) : answer;
    },
  };
}
