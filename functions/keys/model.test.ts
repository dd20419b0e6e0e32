import { describe, expect, it } from "vitest";
import { dueFor, KeyState, namesHsmKey, nextState, type Transition } from "./model.js";

describe("what is due for a key (the one rule the on-use path and the sweeper share)", () => {
  const now = Date.parse("2026-12-03T12:00:00Z");
  const past = "2026-12-03T11:59:59Z";
  const future = "2026-12-03T12:00:01Z";

  it("destruction once the deletion window has passed; rotation once the period has come, for an Enabled key only", () => {
    expect(dueFor({ state: "PendingDeletion", deletionDate: past }, now)).toBe("destroy");
    expect(dueFor({ state: "PendingDeletion", deletionDate: future }, now)).toBeUndefined();
    expect(dueFor({ state: "Enabled", nextRotationAt: past }, now)).toBe("rotate");
    expect(dueFor({ state: "Enabled", nextRotationAt: future }, now)).toBeUndefined();
    expect(dueFor({ state: "Disabled", nextRotationAt: past }, now)).toBeUndefined();
    expect(dueFor({ state: "PendingDeletion", deletionDate: future, nextRotationAt: past }, now)).toBeUndefined();
    expect(dueFor({ state: "Destroyed", deletionDate: past }, now)).toBeUndefined();
  });
});

describe("the key lifecycle (a table, as AWS KMS)", () => {
  it("each change starts only from the states AWS allows, and leads where AWS leads", () => {
    const outcome = (change: Transition) =>
      Object.fromEntries(
        KeyState.options.map((state) => {
          try {
            return [state, nextState({ keyId: "k", state }, change)];
          } catch (err) {
            return [state, (err as { code: string }).code];
          }
        }),
      );
    const refused = "KMSInvalidStateException";
    expect(outcome("EnableKey")).toEqual({ Enabled: "Enabled", Disabled: "Enabled", PendingDeletion: refused, PendingImport: refused, Destroyed: refused });
    expect(outcome("DisableKey")).toEqual({ Enabled: "Disabled", Disabled: "Disabled", PendingDeletion: refused, PendingImport: refused, Destroyed: refused });
    expect(outcome("ScheduleKeyDeletion")).toEqual({ Enabled: "PendingDeletion", Disabled: "PendingDeletion", PendingDeletion: refused, PendingImport: "PendingDeletion", Destroyed: refused });
    expect(outcome("CancelKeyDeletion")).toEqual({ Enabled: refused, Disabled: refused, PendingDeletion: "Disabled", PendingImport: refused, Destroyed: refused });
  });
});

describe("which references name a key that lives in the HSM", () => {
  it("its hsm:: id and its ARN do; a UUID, its ARN and an alias do not", () => {
    expect(["hsm::0::payroll", "arn:aws:kms:us-east-1:111122223333:key/hsm::0::payroll"].map(namesHsmKey)).toEqual([true, true]);
    expect(["1234abcd-12ab-34cd-56ef-1234567890ab", "arn:aws:kms:us-east-1:111122223333:key/1234abcd-12ab-34cd-56ef-1234567890ab", "alias/payroll", "hsm::0::", "arn:aws:kms:us-east-1:1:key/hsm::0::x"].map(namesHsmKey)).toEqual([false, false, false, false, false]);
  });
});
