import { describe, expect, it } from "vitest";
import { KmsError } from "../../shared/errors.js";
import type { HsmHealth, KeyWrapping } from "../../shared/hsm/port.js";
import { XksService } from "./service.js";

const healthy: HsmHealth = { identity: "SoftHSM/v2/1", slots: [{ name: "0", tokenLabel: "t", manufacturer: "SoftHSM", model: "v2", serial: "1" }], rootKeyOk: true, checkMs: 1 };
const call = { requestId: "r", deadline: Date.now() + 5_000 };

describe("XksService.health", () => {
  it("reuses a healthy answer within the cache window, but never an UNAVAILABLE one: a connector back is seen at once", async () => {
    let up = false;
    let checks = 0;
    const wrapping = {
      health: async () => {
        checks += 1;
        if (!up) throw new KmsError("HsmUnavailableException", "no connector");
        return healthy;
      },
    } as unknown as KeyWrapping;
    const xks = new XksService({} as never, {} as never, {} as never, {} as never, wrapping, { version: "test", healthCacheMs: 60_000 });
    expect((await xks.health(call)).ekmFleetDetails[0]?.healthStatus).toBe("UNAVAILABLE");
    up = true;
    expect((await xks.health(call)).ekmFleetDetails[0]?.healthStatus).toBe("ACTIVE");
    expect((await xks.health(call)).ekmFleetDetails[0]?.healthStatus).toBe("ACTIVE");
    expect(checks).toBe(2);
  });
});
