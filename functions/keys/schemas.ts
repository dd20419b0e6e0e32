import * as z from "zod";
import { KeyRef, Timestamp } from "../contract/fields.js";
import { KeyMetadata } from "./operations.js";
import { KeySpec } from "./model.js";

/** The native API's own key listings (the operations' fields are in operations.ts). */
export const ListKeysQuery = z.object({
  limit: z.coerce.number().int().min(1).max(1000).default(100),
  cursor: z.string().max(2048).optional(),
  state: z.enum(["Enabled", "Disabled", "PendingDeletion", "PendingImport", "Destroyed"]).optional(),
  keySpec: KeySpec.optional(),
  alias: z.string().min(7).max(256).optional(),
  /** `key=value` */
  tag: z
    .string()
    .regex(/^[^=]{1,128}=.{0,256}$/, "key=value")
    .transform((t) => [t.slice(0, t.indexOf("=")), t.slice(t.indexOf("=") + 1)] as [string, string])
    .optional(),
});

export const ListAliasesQuery = z.object({ keyId: KeyRef.optional() });

export const KeyList = z.object({ keys: z.array(KeyMetadata), nextCursor: z.string().optional() });
export const KeyVersionView = z.object({ version: z.number().int().min(1), createdAt: Timestamp, rotationType: z.enum(["AUTOMATIC", "ON_DEMAND"]).optional() });
export const KeyUsageView = z.object({ counts: z.record(z.string(), z.number().int()).meta({ examples: [{ Encrypt: 1200, Decrypt: 950 }] }), lastUsedAt: Timestamp.optional() });
