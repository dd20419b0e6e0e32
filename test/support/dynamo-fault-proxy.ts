import { createServer, request, type IncomingMessage, type ServerResponse } from "node:http";

/**
 * An HTTP proxy on 127.0.0.1 in front of DynamoDB Local that can answer every call as DynamoDB
 * does when it throttles (HTTP 400, ProvisionedThroughputExceededException), so the real SDK
 * parses a real throttling answer. DynamoDB Local itself never throttles.
 */
export type DynamoFaultProxy = { endpoint: string; throttled: number; throttle(on: boolean): void; close(): Promise<void> };

export function startDynamoFaultProxy(upstream: string): Promise<DynamoFaultProxy> {
  const target = new URL(upstream);
  let throttling = false;
  const proxy = { throttled: 0 };
  const server = createServer((req: IncomingMessage, res: ServerResponse) => {
    if (throttling) {
      proxy.throttled += 1;
      req.resume();
      res.writeHead(400, { "content-type": "application/x-amz-json-1.0", "x-amzn-requestid": `throttled-${proxy.throttled}` });
      res.end(JSON.stringify({ __type: "com.amazonaws.dynamodb.v20120810#ProvisionedThroughputExceededException", message: "The level of configured provisioned throughput for the table was exceeded." }));
      return;
    }
    const forward = request({ host: target.hostname, port: target.port, method: req.method, path: req.url, headers: req.headers }, (up) => {
      res.writeHead(up.statusCode ?? 502, up.headers);
      up.pipe(res);
    });
    forward.on("error", () => res.destroy());
    req.pipe(forward);
  });
  return new Promise((resolve) =>
    server.listen(0, "127.0.0.1", () => {
      const addr = server.address();
      const port = typeof addr === "object" && addr ? addr.port : 0;
      resolve(
        Object.assign(proxy, {
          endpoint: `http://127.0.0.1:${port}`,
          throttle: (on: boolean) => void (throttling = on),
          close: () =>
            new Promise<void>((r) => {
              server.closeAllConnections();
              server.close(() => r());
            }),
        }),
      );
    }),
  );
}
