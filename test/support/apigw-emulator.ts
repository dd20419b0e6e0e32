import { randomBytes, randomUUID } from "node:crypto";
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { WebSocketServer, type WebSocket } from "ws";

/**
 * Local stand-ins for the two API Gateway APIs Tether uses on AWS, built to hand the Lambda
 * handlers the event shapes API Gateway does and to behave as it does where Tether depends on it:
 *
 * - HTTP API (payload v2): each request becomes an APIGatewayProxyEventV2; the result becomes
 *   the response. Bodies that are not JSON or text arrive base64-encoded, as API Gateway sends them.
 * - WebSocket API: `$connect` runs before the handshake completes (a non-200 refuses it), and no
 *   message can be posted to a connection before then; each message is a `$default` invocation,
 *   concurrent with the others; `$disconnect` follows a close. The management API answers
 *   POST/DELETE `/<stage>/@connections/{id}` (SigV4-signed; 410 GoneException for an unknown
 *   connection; 413 above 128 KiB). Messages above 128 KiB close the connection (1009).
 */
const MAX_MESSAGE_BYTES = 128 * 1024;
const STAGE = "test";

type Listening = { url: string; close(): Promise<void> };

async function listen(server: Server): Promise<string> {
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
}

const closeServer = (server: Server) => new Promise<void>((resolve) => server.close(() => resolve()));

async function readBody(req: IncomingMessage): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of req) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks);
}

export type HttpResult = { statusCode: number; headers?: Record<string, string>; body?: string; isBase64Encoded?: boolean; cookies?: string[] };
export type HttpHandler = (event: Record<string, unknown>) => Promise<HttpResult>;

/** An HTTP API in front of `handler` on a free loopback port. */
export async function startHttpApi(handler: HttpHandler): Promise<Listening> {
  const server = createServer((req, res) => void serveHttp(handler, req, res));
  const url = await listen(server);
  return { url, close: () => closeServer(server) };
}

async function serveHttp(handler: HttpHandler, req: IncomingMessage, res: ServerResponse): Promise<void> {
  const body = await readBody(req);
  const url = new URL(req.url ?? "/", "http://localhost");
  const headers: Record<string, string> = {};
  for (const [name, value] of Object.entries(req.headers)) if (value !== undefined) headers[name] = Array.isArray(value) ? value.join(",") : value;
  const contentType = headers["content-type"] ?? "";
  const text = /^(application\/json|text\/)/.test(contentType);
  const now = new Date();
  const event = {
    version: "2.0",
    routeKey: "$default",
    rawPath: url.pathname,
    rawQueryString: url.search.slice(1),
    ...(headers.cookie ? { cookies: headers.cookie.split("; ") } : {}),
    headers,
    ...(url.search ? { queryStringParameters: Object.fromEntries(url.searchParams) } : {}),
    requestContext: {
      accountId: "123456789012",
      apiId: "httpapi",
      domainName: `${headers.host ?? "localhost"}`,
      domainPrefix: "httpapi",
      http: { method: req.method ?? "GET", path: url.pathname, protocol: "HTTP/1.1", sourceIp: req.socket.remoteAddress?.replace(/^::ffff:/, "") ?? "127.0.0.1", userAgent: headers["user-agent"] ?? "" },
      requestId: randomBytes(8).toString("base64url"),
      routeKey: "$default",
      stage: "$default",
      time: now.toUTCString(),
      timeEpoch: now.getTime(),
    },
    ...(body.length ? { body: text ? body.toString("utf8") : body.toString("base64"), isBase64Encoded: !text } : { isBase64Encoded: false }),
  };
  try {
    const out = await handler(event);
    for (const [name, value] of Object.entries(out.headers ?? {})) res.setHeader(name, value);
    if (out.cookies?.length) res.setHeader("set-cookie", out.cookies);
    res.statusCode = out.statusCode;
    res.end(out.body === undefined ? undefined : Buffer.from(out.body, out.isBase64Encoded ? "base64" : "utf8"));
  } catch {
    // What API Gateway answers when the integration fails.
    res.statusCode = 500;
    res.setHeader("content-type", "application/json");
    res.end(JSON.stringify({ message: "Internal Server Error" }));
  }
}

export type WebSocketHandler = (event: Record<string, unknown>) => Promise<{ statusCode: number }>;
export type WebSocketApi = Listening & {
  /** The WebSocket URL connectors dial. */
  wsUrl: string;
  /** The management API endpoint (TETHER_HUB_ENDPOINT). */
  managementEndpoint: string;
  connectionIds(): string[];
  /** Requests the management API refused for a missing SigV4 signature. */
  unsigned(): number;
};

/** A WebSocket API whose routes all go to `handler`, with its management API on the same port. */
export async function startWebSocketApi(handler: WebSocketHandler): Promise<WebSocketApi> {
  const wss = new WebSocketServer({ noServer: true, maxPayload: MAX_MESSAGE_BYTES });
  const connections = new Map<string, WebSocket>();
  let unsigned = 0;
  let base = "";
  const event = (eventType: "CONNECT" | "MESSAGE" | "DISCONNECT", connectionId: string, req: { sourceIp: string; connectedAt: number }, body?: { text: string } | { binary: Buffer }) => ({
    requestContext: {
      routeKey: eventType === "CONNECT" ? "$connect" : eventType === "DISCONNECT" ? "$disconnect" : "$default",
      eventType,
      extendedRequestId: randomBytes(8).toString("base64url"),
      requestTime: new Date().toUTCString(),
      messageDirection: "IN",
      stage: STAGE,
      connectedAt: req.connectedAt,
      requestTimeEpoch: Date.now(),
      identity: { sourceIp: req.sourceIp },
      requestId: randomBytes(8).toString("base64url"),
      domainName: new URL(base).host,
      connectionId,
      apiId: "wsapi",
      ...(eventType === "MESSAGE" ? { messageId: randomBytes(8).toString("base64url") } : {}),
    },
    isBase64Encoded: body !== undefined && "binary" in body,
    ...(body ? { body: "text" in body ? body.text : body.binary.toString("base64") } : {}),
  });

  const server = createServer((req, res) => void manage(req, res));
  async function manage(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const m = new RegExp(`^/${STAGE}/@connections/([^/]+)$`).exec(new URL(req.url ?? "/", "http://localhost").pathname);
    const data = await readBody(req);
    const answer = (status: number, type?: string) => {
      res.statusCode = status;
      if (type) res.setHeader("x-amzn-ErrorType", type);
      res.setHeader("content-type", "application/json");
      res.end(type ? JSON.stringify({ message: type }) : "");
    };
    if (!m) return answer(404, "NotFoundException");
    if (!/^AWS4-HMAC-SHA256 Credential=[^/]+\/\d{8}\/[a-z0-9-]+\/execute-api\/aws4_request/.test(req.headers.authorization ?? "")) {
      unsigned += 1;
      return answer(403, "ForbiddenException");
    }
    const ws = connections.get(decodeURIComponent(m[1] as string));
    if (!ws) return answer(410, "GoneException");
    if (req.method === "DELETE") {
      ws.close(1000);
      return answer(204);
    }
    if (req.method !== "POST") return answer(405, "BadRequestException");
    if (data.length > MAX_MESSAGE_BYTES) return answer(413, "PayloadTooLargeException");
    ws.send(data.toString("utf8"));
    return answer(200);
  }

  server.on("upgrade", (req: IncomingMessage, socket, head) => {
    const connectionId = `${randomBytes(12).toString("base64").slice(0, 15)}=`;
    const meta = { sourceIp: req.socket.remoteAddress?.replace(/^::ffff:/, "") ?? "127.0.0.1", connectedAt: Date.now() };
    void handler(event("CONNECT", connectionId, meta)).then(
      (out) => {
        if (out.statusCode !== 200) return socket.end("HTTP/1.1 403 Forbidden\r\nConnection: close\r\nContent-Length: 0\r\n\r\n");
        wss.handleUpgrade(req, socket, head, (ws) => {
          connections.set(connectionId, ws);
          ws.on("message", (data, isBinary) => {
            const buf = Buffer.isBuffer(data) ? data : Buffer.concat(data as Buffer[]);
            void handler(event("MESSAGE", connectionId, meta, isBinary ? { binary: buf } : { text: buf.toString("utf8") })).catch(() => {
              // API Gateway tells the client when the integration failed.
              if (ws.readyState === ws.OPEN) ws.send(JSON.stringify({ message: "Internal server error", connectionId, requestId: randomUUID() }));
            });
          });
          ws.on("close", () => {
            connections.delete(connectionId);
            void handler(event("DISCONNECT", connectionId, meta)).catch(() => undefined);
          });
        });
      },
      () => socket.end("HTTP/1.1 500 Internal Server Error\r\nConnection: close\r\nContent-Length: 0\r\n\r\n"),
    );
  });
  base = await listen(server);
  return {
    url: base,
    wsUrl: `${base.replace(/^http/, "ws")}/${STAGE}`,
    managementEndpoint: `${base}/${STAGE}`,
    connectionIds: () => [...connections.keys()],
    unsigned: () => unsigned,
    close: async () => {
      for (const ws of connections.values()) ws.terminate();
      wss.close();
      server.closeAllConnections();
      await closeServer(server);
    },
  };
}
