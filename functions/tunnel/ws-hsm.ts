import type { CallOpts, HsmHealth, HsmPort } from "../../shared/hsm/port.js";
import type { ConnectorHub } from "./connections.js";

/** HsmPort through the connector link: each call becomes one request frame. */
export class WsHsm implements HsmPort {
  constructor(private readonly hub: ConnectorHub) {}

  async random(length: number, o: CallOpts): Promise<Uint8Array> {
    const { bytes } = await this.hub.call("random", { length }, o);
    return new Uint8Array(Buffer.from(bytes, "base64"));
  }

  health(o: CallOpts): Promise<HsmHealth> {
    return this.hub.call("health", {}, o);
  }

  connectors() {
    return this.hub.ready();
  }
}
