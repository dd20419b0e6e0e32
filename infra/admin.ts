import { readFileSync } from "node:fs";
import { parseArgs } from "node:util";
import * as z from "zod";
import { createDynamoClient } from "../functions/db/dynamo-store.js";
import { DynamoIdentityStore } from "../functions/identity/dynamo-store.js";
import { ConfigError, runMain } from "../shared/config.js";
import { createAdminApiKey, registerConnectorPublicKey } from "./local/bootstrap.js";

/**
 * `npm run admin -- <command>`: the operator's tools for a deployed stage, run with AWS
 * credentials that may write its table (`sst deploy` prints the table name).
 *
 *   bootstrap           --table T [--region R] --tenant <12 digits>
 *       creates the tenant's `admin` principal (every role) and an API key, printed once
 *   register-connector  --table T [--region R] --id <connector id> --public-key <Ed25519 SPKI PEM file>
 *       registers a connector's public key; its private key never leaves the connector's host
 */
const Common = { table: z.string().regex(/^[A-Za-z0-9_.-]{3,255}$/, "a DynamoDB table name"), region: z.string().regex(/^[a-z]{2}(-[a-z]+)+-\d$/, "an AWS region such as eu-west-1").default("us-east-1"), endpoint: z.url().optional() };
const Command = z.discriminatedUnion("command", [
  z.object({ command: z.literal("bootstrap"), ...Common, tenant: z.string().regex(/^\d{12}$/, "a 12-digit account id") }).strict(),
  z.object({ command: z.literal("register-connector"), ...Common, id: z.string().regex(/^[A-Za-z0-9._-]{1,64}$/, "letters, digits, . _ - (1-64)"), "public-key": z.string().min(1) }).strict(),
]);

const parseCli = (argv: string[]) =>
  parseArgs({
    args: argv,
    allowPositionals: true,
    options: Object.fromEntries(["table", "region", "endpoint", "tenant", "id", "public-key"].map((name) => [name, { type: "string" as const }])),
  });

/** Runs one command; what it prints is for the operator (the API key appears once, here). */
export async function runAdmin(argv: string[], say: (line: string) => void): Promise<void> {
  let cli: ReturnType<typeof parseCli>;
  try {
    cli = parseCli(argv);
  } catch (err) {
    throw new ConfigError(`usage: admin bootstrap|register-connector …: ${(err as Error).message}`);
  }
  const parsed = Command.safeParse({ command: cli.positionals[0], ...cli.values });
  if (!parsed.success) {
    throw new ConfigError(`usage: admin bootstrap|register-connector …: ${parsed.error.issues.map((i) => `${i.path.join(".") || "command"}: ${i.message}`).join("; ")}`);
  }
  const args = parsed.data;
  const db = createDynamoClient({ region: args.region, endpoint: args.endpoint });
  const identity = new DynamoIdentityStore(db, args.table);
  try {
    if (args.command === "bootstrap") {
      const token = await createAdminApiKey(identity, args.tenant);
      say(`tenant ${args.tenant}: principal "admin" with every role; its API key (shown once, keep it):`);
      say(token);
    } else {
      let pem: string;
      try {
        pem = readFileSync(args["public-key"], "utf8");
      } catch {
        throw new ConfigError("public-key: cannot read the file it names");
      }
      await registerConnectorPublicKey(identity, args.id, pem);
      say(`connector ${args.id} registered`);
    }
  } finally {
    db.destroy();
  }
}

if (import.meta.url === `file://${process.argv[1]}`) {
  await runMain("tether-admin", () => runAdmin(process.argv.slice(2), (line) => process.stdout.write(`${line}\n`)));
}
