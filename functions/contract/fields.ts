import * as z from "zod";
import { SIGNING_ALGS } from "../../shared/hsm/port.js";
import { CRYPTO_LIMITS } from "../crypto-ops/limits.js";
import { KEY_PAIR_SPECS } from "../keys/key-pairs.js";
import { KeySpec, KeyUsage } from "../keys/model.js";
import { DATA_KEY_SPECS, ENCRYPTION_ALGORITHMS, MAC_ALGORITHMS } from "../keys/specs.js";

/**
 * The fields operations are made of, with their limits and an example each: every door's codec
 * and the OpenAPI document read them here, so a limit or an enum is written once.
 */
export const LIMITS = {
  ...CRYPTO_LIMITS,
  keyRefChars: 2048,
  contextEntries: 64,
} as const;

/** A key named by key id, key ARN, alias name or alias ARN (of the caller's tenant). */
export const KeyRef = z
  .string()
  .min(1)
  .max(LIMITS.keyRefChars)
  .meta({ description: "A key id, key ARN, alias name (alias/…) or alias ARN; HSM-resident keys are hsm::<slot>::<label>", examples: ["1234abcd-12ab-34cd-56ef-1234567890ab"] });

/** A key's ARN, as answers name keys. */
export const KeyArn = z.string().meta({ examples: ["arn:aws:kms:us-east-1:111122223333:key/1234abcd-12ab-34cd-56ef-1234567890ab"] });

/** Bytes on the wire: base64, decoding to `min`–`max` bytes. */
export const Blob = (max: number, min = 1) =>
  z
    .string()
    .max(Math.ceil(max / 3) * 4 + 4)
    .regex(/^[A-Za-z0-9+/]*={0,2}$/, "must be base64")
    .meta({ description: `base64, ${min}–${max} bytes`, examples: ["SGVsbG8sIFRldGhlcg=="] })
    .transform((s) => new Uint8Array(Buffer.from(s, "base64")))
    .refine((b) => b.length >= min && b.length <= max, `must decode to ${min}–${max} bytes`);

/** Bytes in an answer (base64). */
export const Base64 = z.string().meta({ description: "base64", examples: ["AQIDBAUGBwgJCgsMDQ4PEA=="] });

export const EncryptionContext = z
  .record(z.string().min(1).max(256), z.string().max(4096))
  .refine((c) => Object.keys(c).length <= LIMITS.contextEntries, `at most ${LIMITS.contextEntries} entries`)
  .optional()
  .meta({ description: "Authenticated, not encrypted: the same map must be given to decrypt", examples: [{ tenant: "acme", purpose: "invoices" }] });

export const EncryptionAlgorithm = z.enum(ENCRYPTION_ALGORITHMS);
export const SigningAlgorithm = z.enum(SIGNING_ALGS);
export const MacAlgorithm = z.enum(MAC_ALGORITHMS);
export const KeyPairSpec = z.enum(KEY_PAIR_SPECS);
export const DataKeySpec = z.enum(DATA_KEY_SPECS);
export const MessageType = z.enum(["RAW", "DIGEST"]);
export { KeySpec, KeyUsage };

/** For derived keys: the context (bytes) each request's key is derived from. */
export const DerivationContext = Blob(LIMITS.derivationContextBytes).optional();


/** A key's description. */
export const Description = z.string().max(8192).meta({ examples: ["Encrypts card numbers for the payments service"] });
/** An alias name (alias/…; its pattern is the alias service's to check). */
export const AliasName = z.string().min(1).max(256).meta({ examples: ["alias/payments"] });
export const TagKey = z.string().min(1).max(128).meta({ examples: ["team"] });
export const TagValue = z.string().max(256).meta({ examples: ["payments"] });
export const MAX_TAGS = 50;
/** A key policy document, as JSON text. */
export const MAX_POLICY_CHARS = 32 * 1024;
/** Days before a scheduled deletion destroys the key. */
export const PendingWindowInDays = z.number().int().min(7).max(30);
/** Days between automatic rotations. */
export const RotationPeriodInDays = z.number().int().min(90).max(2560);
/** A grant's grantee or retiring principal: a principal id or ARN. */
export const GrantPrincipal = z
  .string()
  .min(1)
  .max(256)
  .regex(/^[\w@.:/+=,-]+$/, "a principal id or ARN")
  .meta({ examples: ["payments-service"] });
export const GrantId = z.string().min(1).max(128).meta({ examples: ["0c237476b39f8bc44e45212e08498fbe"] });
export const GrantToken = z.string().min(1).max(8192).meta({ examples: ["tgt_eyJ0IjoiMTExMTIyMjIzMzMzIiwiayI6IjEyMzRhYmNkIiwiZyI6IjBjMjM3NDc2In0"] });
/** Grant tokens (AWS's GrantTokens): a grant made moments ago is honoured at once. */
export const GrantTokens = z.array(GrantToken).max(10).optional();

/** A time in an answer (ISO 8601). */
export const Timestamp = z.string().meta({ description: "ISO 8601", examples: ["2026-12-03T10:00:00.000Z"] });
/** A tenant (account) id: 12 digits. */
export const AccountId = z.string().meta({ examples: ["111122223333"] });
/** What a deletion answers: the id of what is gone. */
export const Deleted = z.object({ deleted: z.string().meta({ examples: ["alice"] }) });

/** A key policy as the documentation shows one. */
export const POLICY_EXAMPLE = {
  Version: "2012-10-17",
  Statement: [
    { Sid: "KeyAdmins", Effect: "Allow", Principal: { Tether: ["role:keyAdmin"] }, Action: "kms:*", Resource: "*" },
    { Sid: "AllowUseForPayments", Effect: "Allow", Principal: { Tether: ["payments-service"] }, Action: ["kms:Encrypt", "kms:Decrypt"], Resource: "*", Condition: { StringEquals: { "kms:EncryptionContext:purpose": "invoices" } } },
  ],
};

/** A policy document given as a JSON object (or its text): kept as text, validated by the policy compiler. */
export const PolicyJson = z
  .union([z.string().max(MAX_POLICY_CHARS), z.record(z.string(), z.unknown())])
  .meta({ examples: [POLICY_EXAMPLE] })
  .transform((p) => (typeof p === "string" ? p : JSON.stringify(p)));
