import { createPublicKey, type KeyObject } from "node:crypto";
import { readFileSync } from "node:fs";
import * as z from "zod";
import { ConfigError, loadConfig, readSecretFile } from "../shared/config.js";

/** A list from a JSON array or a comma-separated environment variable. */
const list = z.preprocess(
  (v) => (typeof v === "string" ? v.split(",").map((x) => x.trim()).filter(Boolean) : v),
  z.array(z.string().regex(/^[A-Za-z0-9*._-]{1,64}$/, "names of letters, digits, . _ - or *")).min(1).max(256),
);

/** wss://, or ws:// to this machine only: a link in clear anywhere else would expose the handshake and every frame's metadata. */
const HubUrl = z.url({ protocol: /^wss?$/ }).refine((u) => {
  const url = new URL(u);
  return url.protocol === "wss:" || ["127.0.0.1", "localhost", "[::1]"].includes(url.hostname);
}, "a wss:// URL (ws:// only to 127.0.0.1, localhost or ::1)");

const Config = z.object({
  hubUrl: HubUrl,
  connectorId: z.string().regex(/^[A-Za-z0-9._-]{1,64}$/, "letters, digits, . _ - (1-64)"),
  /** Ed25519 private key (PKCS#8 PEM) in a 0600 file: the connector's credential. */
  credentialFile: z.string().min(1),
  /**
   * The functions' identity: Ed25519 public key(s), PEM, in a file (several during a rotation). The
   * connector serves only requests whose requester key one of them certifies.
   */
  functionsPublicKeyFile: z.string().min(1).optional(),
  pkcs11Module: z.string().min(1).default("/usr/lib/softhsm/libsofthsm2.so"),
  slotName: z.string().regex(/^[A-Za-z0-9_-]{1,32}$/).default("0"),
  tokenLabel: z.string().min(1).max(32),
  /** The user PIN, from the environment, or from pinFile (0600). Never a CLI argument. */
  pin: z.string().min(4).max(255).optional(),
  pinFile: z.string().min(1).optional(),
  /** The security officer's PIN (0600 file), read only by `npm run provision` to initialise a missing token. */
  soPinFile: z.string().min(1).optional(),
  sessions: z.coerce.number().int().min(1).max(256).default(2),
  rootKeyLabel: z.string().min(1).max(64).default("tether-root"),
  maxInFlight: z.coerce.number().int().min(1).max(10_000).default(64),
  /** How often the link is pinged: a hub (or relay) that stays silent for two intervals is hung up on, and redialled. */
  heartbeatMs: z.coerce.number().int().min(100).max(60_000).default(3_000),
  healthTtlMs: z.coerce.number().int().min(0).max(60_000).default(10_000),
  /** Operations the connector accepts (`*` for all), and HSM-resident key labels it lets be used (`*` wildcards). */
  allowedOps: list.default(["*"]),
  allowedLabels: list.default(["*"]),
  ratePerSecond: z.coerce.number().min(1).max(1_000_000).default(10_000),
  rateBurst: z.coerce.number().int().min(1).max(1_000_000).default(1_000),
  /** Append-only JSON-lines record of every HSM call. */
  auditFile: z.string().min(1).default("connector-audit.jsonl"),
  /** Further slots, from the config file only: each with its own token and PIN file. */
  extraSlots: z
    .array(z.object({ name: z.string().regex(/^[A-Za-z0-9_-]{1,32}$/), tokenLabel: z.string().min(1).max(32), pinFile: z.string().min(1), sessions: z.number().int().min(1).max(256).default(2) }))
    .max(32)
    .default([]),
  logLevel: z.enum(["debug", "info", "warn", "error"]).default("info"),
});
type Parsed = z.infer<typeof Config>;
export type SlotSetting = { name: string; tokenLabel: string; pin: string; sessions: number };
export type ConnectorConfig = Readonly<Omit<Parsed, "pin" | "pinFile" | "extraSlots"> & { pin: string; slots: SlotSetting[] }>;

/** The environment variable of each setting (the systemd unit and its example environment use these). */
export const CONNECTOR_ENV = {
  hubUrl: "TETHER_HUB_URL",
  connectorId: "TETHER_CONNECTOR_ID",
  credentialFile: "TETHER_CONNECTOR_CREDENTIAL_FILE",
  functionsPublicKeyFile: "TETHER_FUNCTIONS_PUBLIC_KEY_FILE",
  pkcs11Module: "TETHER_PKCS11_MODULE",
  slotName: "TETHER_SLOT_NAME",
  tokenLabel: "TETHER_TOKEN_LABEL",
  pin: "TETHER_PKCS11_PIN",
  pinFile: "TETHER_PKCS11_PIN_FILE",
  soPinFile: "TETHER_PKCS11_SO_PIN_FILE",
  sessions: "TETHER_PKCS11_SESSIONS",
  rootKeyLabel: "TETHER_ROOT_KEY_LABEL",
  maxInFlight: "TETHER_MAX_IN_FLIGHT",
  heartbeatMs: "TETHER_HEARTBEAT_MS",
  healthTtlMs: "TETHER_HEALTH_TTL_MS",
  allowedOps: "TETHER_ALLOWED_OPS",
  allowedLabels: "TETHER_ALLOWED_LABELS",
  ratePerSecond: "TETHER_RATE_PER_SECOND",
  rateBurst: "TETHER_RATE_BURST",
  auditFile: "TETHER_CONNECTOR_AUDIT_FILE",
  logLevel: "TETHER_LOG_LEVEL",
} as const;

/** Loads the connector's config from TETHER_CONNECTOR_CONFIG (a JSON file) and TETHER_* variables. */
export function loadConnectorConfig(env: Record<string, string | undefined> = process.env): ConnectorConfig {
  const parsed = loadConfig(Config, {
    env,
    fileVar: "TETHER_CONNECTOR_CONFIG",
    envNames: CONNECTOR_ENV,
  });
  const { pin, pinFile, extraSlots, ...rest } = parsed;
  const resolvedPin = pin ?? (pinFile ? readSecretFile(pinFile, "pinFile (TETHER_PKCS11_PIN_FILE)") : undefined);
  if (!resolvedPin) throw new ConfigError("invalid configuration: pin (TETHER_PKCS11_PIN) or pinFile (TETHER_PKCS11_PIN_FILE) is required");
  const slots: SlotSetting[] = [
    { name: rest.slotName, tokenLabel: rest.tokenLabel, pin: resolvedPin, sessions: rest.sessions },
    ...extraSlots.map((s, i) => ({ name: s.name, tokenLabel: s.tokenLabel, sessions: s.sessions, pin: readSecretFile(s.pinFile, `extraSlots.${i}.pinFile`) })),
  ];
  if (new Set(slots.map((s) => s.name)).size !== slots.length) throw new ConfigError("invalid configuration: extraSlots: slot names must be unique");
  return Object.freeze({ ...rest, pin: resolvedPin, slots });
}

/** The functions' identities the connector trusts: every Ed25519 public key in its file, at least one (required to serve). */
export function functionsKeysOf(config: ConnectorConfig): KeyObject[] {
  const setting = "functionsPublicKeyFile (TETHER_FUNCTIONS_PUBLIC_KEY_FILE)";
  const file = config.functionsPublicKeyFile;
  if (!file) throw new ConfigError(`invalid configuration: ${setting} is required: the connector serves only requests the functions' identity certifies`);
  let text: string;
  try {
    text = readFileSync(file, "utf8");
  } catch {
    throw new ConfigError(`invalid configuration: ${setting}: cannot read the file it names`);
  }
  const blocks = text.match(/-----BEGIN PUBLIC KEY-----[^-]+-----END PUBLIC KEY-----/g) ?? [];
  const keys = blocks.map((pem) => {
    try {
      return createPublicKey(pem);
    } catch {
      return undefined;
    }
  });
  if (!keys.length || keys.some((k) => k?.asymmetricKeyType !== "ed25519")) throw new ConfigError(`invalid configuration: ${setting}: not one or more Ed25519 public keys in PEM form`);
  return keys as KeyObject[];
}
