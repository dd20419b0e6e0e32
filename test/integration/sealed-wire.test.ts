import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { RemoteHsm } from "../../functions/tunnel/remote-hsm.js";
import { startTcpProxy, websocketPayloads, type TcpProxy } from "../support/tcp-proxy.js";
import { startConnector, startFunctions, waitForHealth, type ConnectorProcess, type TestStack } from "../support/stack.js";
import { rememberSecrets } from "../support/leak-ledger.js";

/** Every form a leaked key could take in a JSON frame. */
const forms = (key: Uint8Array) => {
  const b = Buffer.from(key);
  return [b, Buffer.from(b.toString("base64")), Buffer.from(b.toString("base64url")), Buffer.from(b.toString("hex"))];
};

describe("sealed transport: the link never carries plaintext key material", () => {
  let stack: TestStack;
  let proxy: TcpProxy;
  let connector: ConnectorProcess;

  beforeAll(async () => {
    stack = await startFunctions();
    proxy = await startTcpProxy(Number(new URL(stack.url).port), { record: true });
    connector = await startConnector({ ...stack, hubUrl: `ws://127.0.0.1:${proxy.port}/connector` });
    await waitForHealth(stack, (h) => h.status === "ok");
  });
  afterAll(async () => {
    await connector?.stop();
    await proxy?.close();
    await stack?.close();
  });

  it("data keys, unwrapped keys, wrapped imports and HSM plaintexts cross only sealed", async () => {
    const hsm = new RemoteHsm(stack.server.hub);
    const call = (requestId: string) => ({ requestId, deadline: Date.now() + 5_000 });
    const binding = Buffer.from("tenant/key/1");

    const dk = await hsm.generateDataKey(32, binding, { ...call("wire-generate"), returnPlaintext: true });
    const unwrapped = await hsm.unwrap(dk.wrapped, binding, call("wire-unwrap"));
    expect(unwrapped).toEqual(dk.plaintext);
    const imported = new Uint8Array(Buffer.from("imported key material: 32 bytes!"));
    const wrappedImport = await hsm.wrap(imported, binding, call("wire-wrap"));
    expect(await hsm.unwrap(wrappedImport, binding, call("wire-unwrap-2"))).toEqual(imported);
    await hsm.createKey({ slot: "0", label: "wire-aes" }, "AES_256", { sensitive: true }, call("wire-create"));
    const secret = new Uint8Array(Buffer.from("a secret sent to the HSM to seal"));
    const ct = await hsm.encrypt({ slot: "0", label: "wire-aes" }, "AES_GCM", secret, new Uint8Array(), call("wire-encrypt"));
    expect(await hsm.decrypt({ slot: "0", label: "wire-aes" }, "AES_GCM", ct, new Uint8Array(), call("wire-decrypt"))).toEqual(secret);
    rememberSecrets(dk.plaintext as Uint8Array, imported, secret);

    // Every frame above passed the proxy before its call returned: the capture is whole.
    const { up, down } = proxy.captured();
    const frames = [...websocketPayloads(up), ...websocketPayloads(down)];
    const wire = Buffer.concat(frames);
    // The sniffer sees the traffic: every request id is there, in clear.
    for (const id of ["wire-generate", "wire-unwrap", "wire-wrap", "wire-encrypt", "wire-decrypt"]) expect(wire.includes(id)).toBe(true);
    for (const key of [dk.plaintext as Uint8Array, imported, secret]) {
      for (const form of forms(key)) {
        expect(wire.includes(form)).toBe(false);
        expect(Buffer.concat([up, down]).includes(form)).toBe(false);
      }
    }
  });
});
