import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { writeSecret } from "./secrets.js";

const STORE_NAME = "dev";
const URI_PREFIX = "tether/dev";
const KEYS = [
  ["KEY_ID", ["kms:Encrypt", "kms:Decrypt"]],
  ["ENCRYPT_ONLY_KEY_ID", ["kms:Encrypt"]],
  ["DECRYPT_ONLY_KEY_ID", ["kms:Decrypt"]],
  ["IMPOTENT_KEY_ID", []],
] as const;

type Api = (method: string, path: string, body?: unknown) => Promise<{ status: number; body: Record<string, unknown> }>;

/**
 * `<stateDir>/xks-proxy.env` (mode 0600): an XKS key store of the dev tenant at `/tether/dev`, its
 * credential and four keys whose policies let the store encrypt and decrypt, only encrypt, only
 * decrypt, or neither, written as exactly the variables AWS's XKS test client reads
 * (aws-samples/aws-kms-xksproxy-test-client: `set -a; . <file>; ./test-xks-proxy -a`). Kept while
 * the key store it names exists; made again (store and keys) otherwise.
 */
export async function ensureXksProxy(o: { stateDir: string; url: string; host: string; port: number; adminToken: string }): Promise<{ file: string; created: boolean }> {
  const file = join(o.stateDir, "xks-proxy.env");
  const api: Api = async (method, path, body) => {
    const res = await fetch(`${o.url}${path}`, { method, headers: { authorization: `Bearer ${o.adminToken}`, "content-type": "application/json" }, ...(body === undefined ? {} : { body: JSON.stringify(body) }) });
    return { status: res.status, body: (await res.json()) as Record<string, unknown> };
  };
  const saved = existsSync(file) ? /^SIGV4_ACCESS_KEY_ID=(\S+)$/m.exec(readFileSync(file, "utf8"))?.[1] : undefined;
  const listed = ((await api("GET", "/v1/xks-key-stores")).body.keyStores ?? []) as { keyStoreId: string; name: string; credentials: { accessKeyId: string }[] }[];
  const existing = listed.find((s) => s.name === STORE_NAME);
  if (existing && saved && existing.credentials.some((c) => c.accessKeyId === saved)) return { file, created: false };
  // The secret is shown once: without the file that kept it, the store is made anew.
  if (existing) await api("DELETE", `/v1/xks-key-stores/${existing.keyStoreId}`);
  const created = await api("POST", "/v1/xks-key-stores", { name: STORE_NAME, uriPathPrefix: URI_PREFIX });
  if (created.status !== 201) throw new Error(`could not create the dev XKS key store (${created.status})`);
  const credential = created.body.credential as { accessKeyId: string; secretAccessKey: string };
  const lines = [`XKS_PROXY_HOST=${o.host}:${o.port}`, `URI_PREFIX=${URI_PREFIX}`, `SIGV4_ACCESS_KEY_ID=${credential.accessKeyId}`, `SIGV4_SECRET_ACCESS_KEY=${credential.secretAccessKey}`];
  for (const [variable, actions] of KEYS) {
    const policy = {
      Version: "2012-10-17",
      Statement: [
        { Sid: "Tenant admins", Effect: "Allow", Principal: { Tether: "role:tenantAdmin" }, Action: "kms:*", Resource: "*" },
        ...(actions.length ? [{ Sid: "AWS KMS through the dev XKS key store", Effect: "Allow", Principal: { Tether: `xks-key-store.${STORE_NAME}` }, Action: actions, Resource: "*" }] : []),
      ],
    };
    const key = await api("POST", "/v1/keys", { description: `XKS test client: ${variable}`, policy });
    if (key.status !== 201) throw new Error(`could not create the XKS test key ${variable} (${key.status})`);
    lines.push(`${variable}=${String((key.body.keyMetadata as { keyId: string }).keyId)}`);
  }
  lines.push("SCHEME=");
  writeSecret(file, `${lines.join("\n")}\n`);
  return { file, created: true };
}
