import { sign, type KeyObject } from "node:crypto";
import { KmsError } from "../../shared/errors.js";
import { mac, macValid, open, seal, SealKeys, sealContext } from "../../shared/crypto/seal.js";
import { fromB64, toB64 } from "../../shared/protocol/codec.js";
import { requestMacInput, requesterCertMessage, responseMacInput, type RequestFrame, type RequesterCert, type ResponseFrame } from "../../shared/protocol/frames.js";

/** The connector at the other end: its id, and its sealing key as it signed it at authentication. */
export type Peer = { connectorId: string; sealingKey: Uint8Array };

/** This function's end of the channel: an X25519 key pair and its certificate. */
export type RequesterKeys = { keys: SealKeys; cert: RequesterCert };

/** How long a requester key pair serves, and how long past that its certificate stays valid (requests in flight). */
const ROTATE_MS = 60_000;
const GRACE_MS = 60_000;

/**
 * The functions' short-lived X25519 key pairs, one at a time, replaced every minute so that a
 * leaked one exposes little. Each is certified by the functions' Ed25519 deployment identity —
 * a key provisioned like the connector's credential, never derived from anything a relay sees —
 * so that the connector seals its answers only to a key the functions vouch for.
 */
export class Requester {
  private current: { me: RequesterKeys; until: number } | undefined;

  constructor(
    private readonly identity: KeyObject,
    private readonly now: () => number = Date.now,
  ) {
    if (identity.asymmetricKeyType !== "ed25519" || identity.type !== "private") throw new KmsError("ValidationException", "the functions' identity is an Ed25519 private key");
  }

  keys(): RequesterKeys {
    const t = this.now();
    if (!this.current || t >= this.current.until) {
      const previous = this.current?.me.keys;
      const keys = new SealKeys("requester");
      const key = toB64(keys.publicKey);
      const notAfter = t + ROTATE_MS + GRACE_MS;
      const cert = { key, notAfter, signature: sign(null, requesterCertMessage(key, notAfter), this.identity).toString("base64") };
      this.current = { me: { keys, cert }, until: t + ROTATE_MS };
      // Requests in flight keep their own reference; let them finish before zeroing.
      if (previous) setTimeout(() => previous.destroy(), GRACE_MS).unref();
    }
    return this.current.me;
  }
}

/**
 * One request's channel between this function and the connector that serves it: seals what goes
 * to the connector, opens what comes back, authenticates the request and checks the answer.
 */
export class LinkChannel {
  constructor(
    readonly me: RequesterKeys,
    readonly peer: Peer,
  ) {}

  seal(plaintext: Uint8Array, op: string, requestId: string): string {
    return toB64(seal(this.me.keys, this.peer.sealingKey, plaintext, sealContext(requestId, op)));
  }

  open(box: string, op: string, requestId: string): Uint8Array {
    return open(this.me.keys, this.peer.sealingKey, fromB64(box), sealContext(requestId, op));
  }

  /** The request frame, with this function's certified key and the channel's MAC over it. */
  request(f: Omit<RequestFrame, "type" | "from" | "mac">): RequestFrame {
    return { type: "request", ...f, from: this.me.cert, mac: mac(this.me.keys, this.peer.sealingKey, requestMacInput(f)) };
  }

  /**
   * Throws unless the answer carries the channel's MAC over itself and the request it answers: an
   * answer the relay forged or altered (or a refusal the connector could not authenticate) is the
   * relay failing, never an answer to use.
   */
  checkAnswer(request: Pick<RequestFrame, "id" | "op" | "requestId">, answer: ResponseFrame): void {
    if (answer.mac !== undefined && macValid(this.me.keys, this.peer.sealingKey, responseMacInput(request, answer), answer.mac)) return;
    throw new KmsError("HsmUnavailableException", `the HSM connector's answer to ${request.op} did not authenticate${answer.ok ? "" : ` (${answer.error.code})`}`);
  }
}
