import { verify as verifySignature } from "node:crypto";
import { isKmsError } from "../../shared/errors.js";
import { AUDIT_CHECKPOINT_KEY_LABEL, type HsmKeyRef, type HsmPort } from "../../shared/hsm/port.js";
import { checkpointMessage, type Checkpoint } from "./record.js";

/** The HSM-resident key that signs checkpoints, provisioned with the root key (see AUDIT_CHECKPOINT_KEY_LABEL). */
export const CHECKPOINT_KEY: HsmKeyRef = { slot: "0", label: AUDIT_CHECKPOINT_KEY_LABEL };

export interface CheckpointSigner {
  sign(head: Omit<Checkpoint, "signature">): Promise<string>;
  /** The signing key's public half (SPKI DER), read from the HSM. */
  publicKey(): Promise<Uint8Array>;
}

const call = () => ({ requestId: `audit-checkpoint-${Date.now()}`, deadline: Date.now() + 10_000 });

/**
 * Signs with an ECDSA P-256 key that lives in the HSM, provisioned with the root key. Created here
 * only if missing (an HSM provisioned before this key existed, or MemoryHsm in unit tests): two
 * instances doing that at once could leave two keys with one label, so provision it.
 */
export class HsmCheckpointSigner implements CheckpointSigner {
  private ready: Promise<Uint8Array> | undefined;

  constructor(
    private readonly hsm: HsmPort,
    private readonly key: HsmKeyRef = CHECKPOINT_KEY,
  ) {}

  async sign(head: Omit<Checkpoint, "signature">): Promise<string> {
    await this.publicKey();
    return Buffer.from(await this.hsm.sign(this.key, "ECDSA_SHA_256", checkpointMessage(head), "RAW", call())).toString("base64");
  }

  publicKey(): Promise<Uint8Array> {
    this.ready ??= this.ensureKey().catch((err: unknown) => {
      this.ready = undefined;
      throw err;
    });
    return this.ready;
  }

  private async ensureKey(): Promise<Uint8Array> {
    try {
      return await this.hsm.getPublicKey(this.key, call());
    } catch (err) {
      if (!isKmsError(err, "NotFoundException")) throw err;
    }
    await this.hsm.createKey(this.key, "ECC_NIST_P256", { sensitive: true }, call()).catch((err: unknown) => {
      if (!isKmsError(err, "AlreadyExistsException")) throw err;
    });
    return this.hsm.getPublicKey(this.key, call());
  }
}

export const checkpointSignatureValid = (c: Checkpoint, publicKey: Uint8Array): boolean => {
  try {
    return verifySignature("sha256", checkpointMessage(c), { key: Buffer.from(publicKey), format: "der", type: "spki", dsaEncoding: "der" }, Buffer.from(c.signature, "base64"));
  } catch {
    return false;
  }
};
