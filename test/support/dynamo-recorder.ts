import { createServer, request } from "node:http";
import type { AddressInfo } from "node:net";

export type DynamoRecorder = {
  endpoint: string;
  /** The IAM actions the requests that went through needed (a transaction counts as its items' actions). */
  actions(): Set<string>;
  close(): Promise<void>;
};

/**
 * An HTTP proxy on 127.0.0.1 in front of DynamoDB Local that notes which IAM action each request
 * needs: `X-Amz-Target: DynamoDB_20120810.<Operation>`, and for TransactWriteItems the actions of
 * its items (IAM authorises a transaction per item: PutItem, UpdateItem, DeleteItem,
 * ConditionCheckItem). Point one function's DynamoDB endpoint at it to learn what that function calls.
 */
export async function recordDynamo(target: string): Promise<DynamoRecorder> {
  const seen = new Set<string>();
  const upstream = new URL(target);
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on("data", (c: Buffer) => chunks.push(c));
    req.on("end", () => {
      const body = Buffer.concat(chunks);
      const operation = String(req.headers["x-amz-target"] ?? "").split(".")[1] ?? "";
      if (operation === "TransactWriteItems") {
        const items = (JSON.parse(body.toString("utf8")) as { TransactItems?: Record<string, unknown>[] }).TransactItems ?? [];
        for (const item of items) for (const kind of Object.keys(item)) seen.add(`dynamodb:${kind === "ConditionCheck" ? "ConditionCheckItem" : `${kind}Item`}`);
      } else if (operation === "TransactGetItems") seen.add("dynamodb:GetItem");
      else if (operation) seen.add(`dynamodb:${operation}`);
      const forward = request({ host: upstream.hostname, port: upstream.port, method: req.method, path: req.url, headers: req.headers }, (up) => {
        res.writeHead(up.statusCode ?? 502, up.headers);
        up.pipe(res);
      });
      forward.on("error", () => res.writeHead(502).end());
      forward.end(body);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  return {
    endpoint: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    actions: () => new Set(seen),
    close: () => new Promise((resolve) => server.close(() => resolve())),
  };
}
