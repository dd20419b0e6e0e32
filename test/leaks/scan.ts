import { ListTablesCommand, ScanCommand } from "@aws-sdk/client-dynamodb";
import { localClient } from "../../infra/local/dynamodb.js";

/** Every encoding in which a secret could show up in a log line or a stored item (utf-8, base64, base64url, hex). */
export const formsOf = (secret: Buffer | string): string[] => {
  const b = Buffer.isBuffer(secret) ? secret : Buffer.from(secret);
  return [b.toString("utf8"), b.toString("base64"), b.toString("base64url"), b.toString("hex")].filter((f) => f.length >= 8);
};

/** Every item of the given tables of a DynamoDB Local (all of its tables if none are named), as JSON. */
export async function storedItems(endpoint: string, tables?: readonly string[]): Promise<string[]> {
  const client = localClient(endpoint);
  const items: string[] = [];
  try {
    for (const table of tables ?? (await client.send(new ListTablesCommand({}))).TableNames ?? []) {
      let start: Record<string, unknown> | undefined;
      do {
        const page = await client.send(new ScanCommand({ TableName: table, ...(start ? { ExclusiveStartKey: start as never } : {}) }));
        items.push(...(page.Items ?? []).map((i) => JSON.stringify(i)));
        start = page.LastEvaluatedKey;
      } while (start);
    }
  } finally {
    client.destroy();
  }
  return items;
}

/**
 * Where a secret shows up: each needle (a secret in one of its forms) found in a haystack, and
 * anything shaped like a bearer credential (an API key with its secret, a session token, a JWT).
 * Says where and how long, never the secret itself.
 */
export function leaksIn(haystacks: Iterable<[where: string, text: string]>, needles: Iterable<string>): string[] {
  const leaks: string[] = [];
  const all = [...new Set(needles)];
  for (const [where, text] of haystacks) {
    for (const needle of all) if (text.includes(needle)) leaks.push(`${where}: a secret (${needle.length} chars) in clear`);
    for (const m of text.matchAll(/tth_[0-9a-f]{16}_[A-Za-z0-9_-]{16,}|tts_[A-Za-z0-9_-]{16,}|eyJ[A-Za-z0-9_-]{8,}\.eyJ[A-Za-z0-9_-]{8,}/g)) leaks.push(`${where}: a bearer credential (${m[0].slice(0, 8)}…)`);
  }
  return leaks;
}
