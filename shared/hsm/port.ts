/**
 * The one way to reach an HSM. Implementations: WsHsm (functions → connector link),
 * Pkcs11Hsm (inside the connector) and MemoryHsm (software, for unit tests).
 */

/** Every HSM call carries the request id it serves and an absolute deadline (epoch ms). */
export type CallOpts = { requestId: string; deadline: number };

export type HsmSlotInfo = {
  /** The slot's name in Tether (`hsm::<slot>::<label>`), from the connector's config. */
  name: string;
  tokenLabel: string;
  manufacturer: string;
  model: string;
  serial: string;
};

export type HsmHealth = {
  /** Stable identity of the HSM (cluster) behind the connector: manufacturer/model/serial. */
  identity: string;
  slots: HsmSlotInfo[];
  /** Whether the deep check (a real crypto call under the root key) passed. */
  rootKeyOk: boolean;
  /** Duration of the deep check inside the HSM, in milliseconds. */
  checkMs: number;
};

export interface HsmPort {
  /** Random bytes from the HSM's RNG. */
  random(length: number, o: CallOpts): Promise<Uint8Array>;
  /** A deep health check: the HSM answers and the root key works. */
  health(o: CallOpts): Promise<HsmHealth>;
}

export const MAX_RANDOM_BYTES = 1024;

export const deadlineIn = (ms: number, now = Date.now()): number => now + ms;
