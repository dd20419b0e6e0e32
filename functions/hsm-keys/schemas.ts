import * as z from "zod";
import { ENCRYPTION_ALGS, HSM_KEY_SPECS, MAX_HSM_DATA_BYTES } from "../../shared/hsm/port.js";
import { Blob, EncryptionContext, LIMITS, MessageType, PolicyJson, SigningAlgorithm } from "../contract/fields.js";
import { KeyUsage } from "../keys/model.js";

const Slot = z.string().regex(/^[A-Za-z0-9_-]{1,32}$/, "a slot name");

export const CreateHsmKeyBody = z
  .object({
    slot: Slot.default("0"),
    /** At most 51 characters: the HSM label is `<tenant>.<label>`, 64 at most. */
    label: z
      .string()
      .regex(/^[A-Za-z0-9_-]{1,51}$/, "letters, digits, _ or - (1-51)")
      .meta({ examples: ["payments-signer"] }),
    keySpec: z.enum(HSM_KEY_SPECS),
    sensitive: z.boolean().default(true),
    keyUsage: KeyUsage.optional(),
    description: z.string().max(8192).optional(),
    policy: PolicyJson.optional(),
    bypassPolicyLockoutSafetyCheck: z.boolean().optional(),
  })
  .strict();

export const ListHsmKeysQuery = z.object({ slot: Slot.default("0"), limit: z.coerce.number().int().min(1).max(1000).default(100), cursor: z.string().max(2048).optional() });

/** As ScheduleKeyDeletion: 7–30 days, 30 by default. */
export const DeleteHsmKeyQuery = z.object({ pendingWindowInDays: z.coerce.number().int().min(7).max(30).default(30) });

export const HsmEncryptBody = z.object({ plaintext: Blob(MAX_HSM_DATA_BYTES), algorithm: z.enum(ENCRYPTION_ALGS).default("AES_GCM"), encryptionContext: EncryptionContext }).strict();
export const HsmDecryptBody = z
  .object({ ciphertextBlob: Blob(MAX_HSM_DATA_BYTES + 64), algorithm: z.enum(ENCRYPTION_ALGS).default("AES_GCM"), encryptionContext: EncryptionContext })
  .strict();

/** Signing by a key that lives in the HSM: the HSM takes messages up to its own limit. */
export const HsmSignBody = z.object({ message: Blob(MAX_HSM_DATA_BYTES), messageType: MessageType.default("RAW"), signingAlgorithm: SigningAlgorithm }).strict();
export const HsmVerifyBody = HsmSignBody.extend({ signature: Blob(LIMITS.signatureBytes) }).strict();
