import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { writeSecret } from "./secrets.js";

export const AWS_PROFILE = "tether";

/**
 * `<stateDir>/aws-credentials`: an AWS shared-credentials file (profile `tether`) holding an access
 * key pair of the stack's admin, so AWS SDKs and the AWS CLI work against the local stack. Made on
 * first start through the running functions (the secret is wrapped by the HSM); kept while the
 * access key it names still exists.
 */
export async function ensureAwsCredentials(o: { stateDir: string; url: string; adminToken: string; region: string }): Promise<{ file: string; created: boolean }> {
  const file = join(o.stateDir, "aws-credentials");
  const headers = { authorization: `Bearer ${o.adminToken}`, "content-type": "application/json" };
  const saved = existsSync(file) ? /aws_access_key_id = (\S+)/.exec(readFileSync(file, "utf8"))?.[1] : undefined;
  if (saved) {
    const listed = (await (await fetch(`${o.url}/v1/access-keys`, { headers })).json()) as { accessKeys?: { accessKeyId: string }[] };
    if (listed.accessKeys?.some((k) => k.accessKeyId === saved)) return { file, created: false };
  }
  const res = await fetch(`${o.url}/v1/access-keys`, { method: "POST", headers, body: JSON.stringify({ principalId: "admin" }) });
  if (res.status !== 201) throw new Error(`could not create the AWS access key (${res.status})`);
  const { accessKey } = (await res.json()) as { accessKey: { accessKeyId: string; secretAccessKey: string } };
  writeSecret(file, `[${AWS_PROFILE}]\naws_access_key_id = ${accessKey.accessKeyId}\naws_secret_access_key = ${accessKey.secretAccessKey}\nregion = ${o.region}\n`);
  return { file, created: true };
}
