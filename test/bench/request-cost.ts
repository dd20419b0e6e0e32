import { randomBytes } from "node:crypto";
import { runLoad, startBenchStack, startCeilingServer, type LoadResult } from "./local-stack.js";

/**
 * Case A (the ceiling: raw node:http + AES-GCM, no framework, auth, policy or audit) against case B
 * (native encrypt with a cached key, with authentication, key policy and durable, hash-chained
 * audit on), 1 KiB plaintext, each server in its own process and the load in a third. The server
 * reports its own phases in a Server-Timing header (auth, policy, audit, total): their medians
 * are the per-request cost of each.
 */
export async function benchRequestCost(o: { total: number; concurrency: number[] }): Promise<Record<string, LoadResult | number>> {
  const results: Record<string, LoadResult | number> = {};
  const body = JSON.stringify({ plaintext: randomBytes(1024).toString("base64") });
  const ceiling = await startCeilingServer();
  const stack = await startBenchStack();
  try {
    const auth = { authorization: `Bearer ${stack.adminToken}`, "content-type": "application/json" };
    const created = await fetch(`${stack.url}/v1/keys`, { method: "POST", headers: auth, body: "{}" });
    if (created.status !== 201) throw new Error(`create key: ${created.status} ${await created.text()}`);
    const { keyMetadata } = (await created.json()) as { keyMetadata: { keyId: string } };
    const encryptUrl = `${stack.url}/v1/keys/${keyMetadata.keyId}/encrypt`;
    for (const c of o.concurrency) {
      const a = await runLoad({ url: ceiling.url, headers: { "content-type": "application/json" }, body, total: o.total, concurrency: c });
      const b = await runLoad({ url: encryptUrl, headers: auth, body, total: o.total, concurrency: c });
      if (b.statuses["200"] !== o.total) throw new Error(`case B answered ${JSON.stringify(b.statuses)}`);
      results[`A c=${c}`] = a;
      results[`B c=${c}`] = b;
      results[`B/A c=${c}`] = Math.round((b.perSecond / a.perSecond) * 100) / 100;
    }
  } finally {
    await stack.stop();
    await ceiling.stop();
  }
  return results;
}
