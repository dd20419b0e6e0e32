import { isKmsError, KmsError } from "../../shared/errors.js";
import { wrapBinding, type EncryptionContext } from "../../shared/crypto/envelope.js";
import type { CallOpts, KeyWrapping, ResidentKeys } from "../../shared/hsm/port.js";
import { wrappedToWire } from "../../shared/protocol/codec.js";
import type { SystemChanges } from "../audit/system-changes.js";

import type { Principal } from "../identity/principal.js";
import type { KeyAction } from "../policy/authorizer.js";
import type { KeyDirectory } from "./directory.js";
import { dueFor, inTenant, invalidState, nextState, wrappingKeyOf, type KeyRecord, type KeyVersion, type RotationType } from "./model.js";
import type { KeyStore } from "./store.js";
import type { UsageRecorder } from "./usage.js";

const DAY_MS = 86_400_000;

/**
 * A key's life: enable/disable, scheduled deletion and its cancellation, destruction
 * (crypto-shredding) once the window has passed, and rotation (on demand, and automatic). What
 * is due (`dueFor` in the model) is applied by one rule, on use and by the sweeper.
 */
export class KeyLifecycle {
  constructor(
    private readonly directory: KeyDirectory,
    private readonly store: KeyStore,
    private readonly wrapping: KeyWrapping,
    private readonly resident: ResidentKeys,
    private readonly usage: UsageRecorder,
    /** Where changes Tether makes by itself (destruction after the window, automatic rotation) are recorded first. */
    private readonly changes: Pick<SystemChanges, "record">,
  ) {}

  /**
   * The key for a cryptographic operation, authorized, from the metadata cache (≤ TTL old),
   * with what is due applied first: destruction after the deletion window, automatic rotation.
   */
  async forUse(principal: Principal, keyId: string, action: KeyAction, call: CallOpts, encryptionContext?: EncryptionContext): Promise<KeyRecord> {
    const cached = await this.directory.cachedAuthorized(principal, keyId, action, encryptionContext);
    const { key } = await this.applyDue(cached, call);
    this.usage.record(key.tenant, key.keyId, action.slice(4));
    return key;
  }

  enable(principal: Principal, keyId: string): Promise<KeyRecord> {
    return this.directory.update(principal, keyId, "kms:EnableKey", {}, (k) => ({ ...k, state: nextState(k, "EnableKey") }));
  }

  disable(principal: Principal, keyId: string): Promise<KeyRecord> {
    return this.directory.update(principal, keyId, "kms:DisableKey", {}, (k) => ({ ...k, state: nextState(k, "DisableKey") }));
  }

  scheduleDeletion(principal: Principal, keyId: string, pendingWindowInDays: number): Promise<KeyRecord> {
    if (!Number.isInteger(pendingWindowInDays) || pendingWindowInDays < 7 || pendingWindowInDays > 30) {
      throw new KmsError("ValidationException", "pendingWindowInDays must be between 7 and 30");
    }
    return this.directory.update(principal, keyId, "kms:ScheduleKeyDeletion", {}, (k) => ({
      ...k,
      state: nextState(k, "ScheduleKeyDeletion"),
      deletionDate: new Date(this.directory.now() + pendingWindowInDays * DAY_MS).toISOString(),
    }));
  }

  /** As in AWS KMS, a cancelled deletion leaves the key Disabled. */
  cancelDeletion(principal: Principal, keyId: string): Promise<KeyRecord> {
    return this.directory.update(principal, keyId, "kms:CancelKeyDeletion", {}, (k) => {
      const state = nextState(k, "CancelKeyDeletion");
      const { deletionDate: _gone, ...rest } = k;
      return { ...rest, state };
    });
  }

  /** Turns automatic rotation on (every `periodDays`, 90–2560) or off (`undefined`); symmetric keys of Tether's own material only. */
  setAutomaticRotation(principal: Principal, keyId: string, periodDays: number | undefined): Promise<KeyRecord> {
    if (periodDays !== undefined && (!Number.isInteger(periodDays) || periodDays < 90 || periodDays > 2560)) throw new KmsError("ValidationException", "RotationPeriodInDays must be 90 to 2560");
    return this.directory.update(principal, keyId, periodDays ? "kms:EnableKeyRotation" : "kms:DisableKeyRotation", {}, (k) => {
      if (k.spec !== "SYMMETRIC_DEFAULT" || k.origin !== "TETHER") throw new KmsError("UnsupportedOperationException", `key ${k.keyId} does not rotate automatically (${k.spec}, ${k.origin})`);
      if (k.state !== "Enabled" && k.state !== "Disabled") throw invalidState(k);
      const { rotationPeriodDays: _p, nextRotationAt: _n, ...rest } = k;
      return periodDays ? { ...rest, rotationPeriodDays: periodDays, nextRotationAt: new Date(this.directory.now() + periodDays * DAY_MS).toISOString() } : rest;
    });
  }

  /** A new primary version; concurrent rotations each add their own (none is lost). */
  async rotate(principal: Principal, keyId: string, call: CallOpts): Promise<KeyRecord> {
    await this.directory.authorized(principal, keyId, "kms:RotateKeyOnDemand");
    return this.addVersion(principal.tenant, keyId, call, "ON_DEMAND");
  }

  async listVersions(principal: Principal, keyId: string): Promise<KeyVersion[]> {
    const key = await this.directory.authorized(principal, keyId, "kms:ListKeyRotations");
    return (await this.store.listVersions(key.tenant, key.keyId)).map(({ wrapped: _hidden, ...v }) => v);
  }

  /**
   * What is due for the tenant's keys: destruction after the deletion window, automatic rotation.
   * `dead` lists every destroyed key seen (now or before), whose grants can go.
   */
  async sweep(tenant: string, call: CallOpts): Promise<{ destroyed: string[]; rotated: string[]; dead: string[] }> {
    const destroyed: string[] = [];
    const rotated: string[] = [];
    const dead: string[] = [];
    let cursor: string | undefined;
    do {
      const page = await this.store.list(tenant, 100, cursor);
      for (const k of page.items) {
        const { key, done } = await this.applyDue(k, call);
        if (done === "rotate") rotated.push(k.keyId);
        if (done === "destroy") destroyed.push(k.keyId);
        if (key.state === "Destroyed") dead.push(k.keyId);
      }
      cursor = page.cursor;
    } while (cursor);
    return { destroyed, rotated, dead };
  }

  /**
   * Automatic rotation (its period came, or its version's encryption budget ran out), recorded
   * as Tether's own change; only if the key is still at that version, so racing rotations add one.
   */
  rotateDue(key: KeyRecord, call: CallOpts): Promise<KeyRecord> {
    return this.changes.record({ tenant: key.tenant, action: "kms:RotateKey", keyId: key.keyId, requestId: call.requestId }, () =>
      this.addVersion(key.tenant, key.keyId, call, "AUTOMATIC", key.primaryVersion),
    );
  }

  /** Does what `dueFor` says is due for the key now; returns the key as it then is. */
  private async applyDue(key: KeyRecord, call: CallOpts): Promise<{ key: KeyRecord; done?: "destroy" | "rotate" }> {
    const due = dueFor(key, this.directory.now());
    if (due === "destroy") return { key: await this.destroyDue(key, call), done: due };
    if (due === "rotate") return { key: await this.rotateDue(key, call), done: due };
    return { key };
  }

  /**
   * Crypto-shredding after the deletion window, recorded as Tether's own change: the key's record
   * says Destroyed and its wrapped material is gone. An HSM-resident key's object is destroyed in
   * the HSM first (one already gone is fine), so a failure leaves it PendingDeletion, to be
   * destroyed by the next use or sweep.
   */
  private destroyDue(key: KeyRecord, call: CallOpts): Promise<KeyRecord> {
    return this.changes.record({ tenant: key.tenant, action: "kms:DeleteKey", keyId: key.keyId, requestId: call.requestId }, async () => {
      if (key.hsm) {
        await this.resident.destroyKey(inTenant(key.tenant, key.hsm), call).catch((err: unknown) => {
          if (!isKmsError(err, "NotFoundException")) throw err;
        });
      }
      return this.directory.write(key.tenant, key.keyId, (fresh) => {
        if (fresh.state === "Destroyed") return fresh;
        const record: KeyRecord = { ...fresh, state: "Destroyed", revision: fresh.revision + 1 };
        return { record, put: () => this.store.shred(record) };
      });
    });
  }

  /**
   * A new primary version. With `onlyFrom` (automatic rotations: on use, by the sweeper, by the
   * encryption budget), only if the key is still at that version, so racing rotations add one.
   */
  private addVersion(tenant: string, keyId: string, call: CallOpts, rotationType: RotationType, onlyFrom?: number): Promise<KeyRecord> {
    return this.directory.write(tenant, keyId, async (key) => {
      if (onlyFrom !== undefined && key.primaryVersion !== onlyFrom) return key;
      if (key.state !== "Enabled" && key.state !== "Disabled") throw invalidState(key);
      if (key.spec !== "SYMMETRIC_DEFAULT" || key.origin !== "TETHER") throw new KmsError("UnsupportedOperationException", `key ${keyId} cannot rotate: only symmetric keys with Tether-made material do`);
      const version = key.primaryVersion + 1;
      const { wrapped } = await this.wrapping.generateDataKey(32, wrapBinding(tenant, keyId, version), { ...call, returnPlaintext: false, wrappingKey: wrappingKeyOf(tenant, key.wrappingKeyId) });
      const at = new Date(this.directory.now());
      const record: KeyRecord = {
        ...key,
        primaryVersion: version,
        revision: key.revision + 1,
        ...(key.rotationPeriodDays ? { nextRotationAt: new Date(at.getTime() + key.rotationPeriodDays * DAY_MS).toISOString() } : {}),
      };
      return { record, put: () => this.store.addVersion(record, { version, createdAt: at.toISOString(), rotationType, wrapped: wrappedToWire(wrapped) }) };
    });
  }
}
