import { z } from "zod";
import { MAX_RANDOM_BYTES } from "../../shared/hsm/port.js";

export const GenerateRandomBody = z
  .object({ numberOfBytes: z.number().int().min(1).max(MAX_RANDOM_BYTES) })
  .strict();
export type GenerateRandomBody = z.infer<typeof GenerateRandomBody>;
