import { randomUUID } from "node:crypto";
import type { HsmHealth, HsmPort } from "../../shared/hsm/port.js";
import type { CacheStats } from "../keys/cache.js";

export type PartHealth = { status: "up" | "down"; latencyMs: number; error?: string };
export type HealthReport = {
  status: "ok" | "degraded" | "down";
  dynamodb: PartHealth;
  hsm: PartHealth & { connectors: number; identity?: string; rootKeyOk?: boolean };
  /** The unwrapped-key cache: hits, misses, loads (= HSM unwrap calls), evictions, size. */
  keyCache: CacheStats;
};

export type HealthDeps = {
  pingDb: (signal: AbortSignal) => Promise<void>;
  hsm: HsmPort;
  connectorCount: () => Promise<number>;
  cacheStats: () => CacheStats;
  timeoutMs: number;
};

/**
 * Overall status: `ok` when both parts answer, `degraded` when the HSM is unreachable (warm keys
 * may still serve), `down` when DynamoDB is unreachable (nothing can serve).
 */
export class HealthService {
  constructor(private readonly d: HealthDeps) {}

  async check(): Promise<HealthReport> {
    const [dynamodb, hsm] = await Promise.all([this.checkDb(), this.checkHsm()]);
    const status = dynamodb.status === "down" ? "down" : hsm.status === "down" ? "degraded" : "ok";
    return { status, dynamodb, hsm, keyCache: this.d.cacheStats() };
  }

  private async checkDb(): Promise<PartHealth> {
    return timed(() => this.d.pingDb(AbortSignal.timeout(this.d.timeoutMs))).then(({ ms, error }) =>
      error === undefined ? { status: "up", latencyMs: ms } : { status: "down", latencyMs: ms, error },
    );
  }

  private async checkHsm(): Promise<HealthReport["hsm"]> {
    const connectors = await this.d.connectorCount().catch(() => 0);
    let health: HsmHealth | undefined;
    const { ms, error } = await timed(async () => {
      health = await this.d.hsm.health({ requestId: `health-${randomUUID()}`, deadline: Date.now() + this.d.timeoutMs });
      if (!health.rootKeyOk) throw new Error("root key check failed");
    });
    const base = { latencyMs: ms, connectors, identity: health?.identity, rootKeyOk: health?.rootKeyOk };
    return error === undefined ? { status: "up", ...base } : { status: "down", ...base, error };
  }
}

async function timed(fn: () => Promise<void>): Promise<{ ms: number; error?: string }> {
  const started = performance.now();
  try {
    await fn();
    return { ms: round(performance.now() - started) };
  } catch (err) {
    return { ms: round(performance.now() - started), error: describe(err) };
  }
}

const round = (ms: number) => Math.round(ms * 100) / 100;

/** A short, secret-free description: the error's code or class, and its message. */
const describe = (err: unknown): string => {
  if (!(err instanceof Error)) return "unknown error";
  const code = (err as { code?: unknown }).code;
  return `${typeof code === "string" ? code : err.name}: ${err.message}`.slice(0, 200);
};
