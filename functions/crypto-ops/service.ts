import type { CallOpts, HsmPort } from "../../shared/hsm/port.js";
import type { Principal } from "../identity/principal.js";
import type { Authorizer } from "../policy/authorizer.js";

export class CryptoService {
  constructor(
    private readonly hsm: HsmPort,
    private readonly authorizer: Authorizer,
  ) {}

  /** Random bytes from the HSM's RNG. */
  async generateRandom(principal: Principal, numberOfBytes: number, call: CallOpts): Promise<Uint8Array> {
    await this.authorizer.authorize(principal, "kms:GenerateRandom", { tenant: principal.tenant });
    return this.hsm.random(numberOfBytes, call);
  }
}
