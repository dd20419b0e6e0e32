import { createServer, connect, type Socket } from "node:net";

/**
 * A TCP proxy on 127.0.0.1: forwards to `targetPort`, optionally delaying each chunk by
 * `delayMs` one way (a stand-in for a WAN, since this machine has no netem), optionally
 * recording every byte in both directions, and able to fall silent: `freeze()` makes every
 * connection it carries forward nothing more, not even one end's close to the other, and accepts
 * new ones without forwarding anything; `thaw()` forwards new connections again.
 */
export type TcpProxy = {
  port: number;
  captured: () => { up: Buffer; down: Buffer };
  /** Changes the one-way delay for every chunk from now on. */
  setDelay(ms: number): void;
  freeze(): void;
  thaw(): void;
  close(): Promise<void>;
};

export function startTcpProxy(targetPort: number, o: { delayMs?: number; record?: boolean } = {}): Promise<TcpProxy> {
  const up: Buffer[] = [];
  const down: Buffer[] = [];
  const sockets = new Set<Socket>();
  let delayMs = o.delayMs ?? 0;
  let frozen = false;
  const silent = new WeakSet<Socket>();
  const pipe = (from: Socket, to: Socket, sink: Buffer[]) =>
    from.on("data", (chunk) => {
      if (silent.has(from)) return;
      if (o.record) sink.push(Buffer.from(chunk));
      const send = () => to.writable && to.write(chunk);
      if (delayMs) setTimeout(send, delayMs);
      else send();
    });
  const server = createServer((client) => {
    if (frozen) {
      // Accepted, and then nothing: the handshake never completes.
      sockets.add(client);
      client.on("error", () => undefined);
      client.on("close", () => sockets.delete(client));
      return;
    }
    const upstream = connect(targetPort, "127.0.0.1");
    for (const s of [client, upstream]) {
      sockets.add(s);
      s.on("error", () => undefined);
      s.on("close", () => {
        sockets.delete(s);
        if (silent.has(s)) return; // a silent relay keeps the other end open
        client.destroy();
        upstream.destroy();
      });
    }
    pipe(client, upstream, up);
    pipe(upstream, client, down);
  });
  return new Promise((resolve) =>
    server.listen(0, "127.0.0.1", () => {
      const addr = server.address();
      resolve({
        port: typeof addr === "object" && addr ? addr.port : 0,
        captured: () => ({ up: Buffer.concat(up), down: Buffer.concat(down) }),
        setDelay: (ms) => (delayMs = ms),
        freeze: () => {
          frozen = true;
          for (const s of sockets) silent.add(s);
        },
        thaw: () => void (frozen = false),
        close: () =>
          new Promise<void>((r) => {
            for (const s of sockets) s.destroy();
            server.close(() => r());
          }),
      });
    }),
  );
}

/** The payloads of every WebSocket frame in a byte stream (after the HTTP upgrade), unmasked. */
export function websocketPayloads(stream: Buffer): Buffer[] {
  const start = stream.indexOf("\r\n\r\n");
  let p = start < 0 ? 0 : start + 4;
  const out: Buffer[] = [];
  while (p + 2 <= stream.length) {
    const b1 = stream[p + 1] as number;
    let len = b1 & 0x7f;
    let q = p + 2;
    if (len === 126) {
      len = stream.readUInt16BE(q);
      q += 2;
    } else if (len === 127) {
      len = Number(stream.readBigUInt64BE(q));
      q += 8;
    }
    const masked = (b1 & 0x80) !== 0;
    const mask = masked ? stream.subarray(q, q + 4) : undefined;
    if (masked) q += 4;
    if (q + len > stream.length) break;
    const payload = Buffer.from(stream.subarray(q, q + len));
    if (mask) for (let i = 0; i < payload.length; i++) payload[i] = (payload[i] as number) ^ (mask[i % 4] as number);
    out.push(payload);
    p = q + len;
  }
  return out;
}
