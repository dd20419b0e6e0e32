import { verify as verifySignature } from "node:crypto";
import { isKmsError } from "../../shared/errors.js";
import { AUDIT_CHECKPOINT_KEY_LABEL, type HsmKeyRef, type ResidentKeys } from "../../shared/hsm/port.js";
import { checkpointGenesis, checkpointHash, checkpointMessage, type ChainHead, type Checkpoint } from "./record.js";
import type { AuditStore } from "./store.js";

/** The HSM-resident key that signs checkpoints, provisioned with the root key (see AUDIT_CHECKPOINT_KEY_LABEL). */
export const CHECKPOINT_KEY: HsmKeyRef = { slot: "0", label: AUDIT_CHECKPOINT_KEY_LABEL };

export interface CheckpointSigner {
  sign(body: Omit<Checkpoint, "signature">): Promise<string>;
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
    private readonly hsm: ResidentKeys,
    private readonly key: HsmKeyRef = CHECKPOINT_KEY,
  ) {}

  async sign(body: Omit<Checkpoint, "signature">): Promise<string> {
    await this.publicKey();
    return Buffer.from(await this.hsm.sign(this.key, "ECDSA_SHA_256", checkpointMessage(body), "RAW", call())).toString("base64");
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

/**
 * A tenant's checkpoint log: each checkpoint takes the next number after the last and links to
 * it (a number another writer took meanwhile is retried with the next). Each signer remembers the
 * highest number it has seen per tenant and signs it into its next checkpoint, so a log whose tail
 * was deleted (and then continued) still shows it. The chain's registry entry then points to the
 * checkpoint, where the sweeper starts from.
 */
export class CheckpointLog {
  private readonly seen = new Map<string, number>();

  constructor(
    private readonly store: AuditStore,
    private readonly signer: CheckpointSigner,
  ) {}

  async append(head: ChainHead): Promise<Checkpoint> {
    for (let attempt = 0; attempt < 10; attempt++) {
      const last = await this.store.lastCheckpoint(head.tenant);
      const seen = this.seen.get(head.tenant);
      const body: Omit<Checkpoint, "signature"> = {
        ...head,
        n: (last?.n ?? 0) + 1,
        prev: last ? checkpointHash(last) : checkpointGenesis(head.tenant),
        ...(seen !== undefined ? { seen } : {}),
      };
      const checkpoint = { ...body, signature: await this.signer.sign(body) };
      if (await this.store.putCheckpoint(checkpoint)) {
        this.seen.set(head.tenant, Math.max(seen ?? 0, checkpoint.n));
        await this.store.markSigned(checkpoint);
        return checkpoint;
      }
    }
    throw new Error(`the checkpoint log of tenant ${head.tenant} is contended; retried later`);
  }
}

export const checkpointSignatureValid = (c: Checkpoint, publicKey: Uint8Array): boolean => {
  try {
    return verifySignature("sha256", checkpointMessage(c), { key: Buffer.from(publicKey), format: "der", type: "spki", dsaEncoding: "der" }, Buffer.from(c.signature, "base64"));
  } catch {
    return false;
  }
};
