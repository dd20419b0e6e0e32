import { randomUUID } from "node:crypto";
import type { HsmHealth, KeyWrapping } from "../../shared/hsm/port.js";
import type { Principal } from "../identity/principal.js";
import type { CacheStats } from "../keys/cache.js";
import type { Authorizer } from "../policy/authorizer.js";
import { KmsError } from "../../shared/errors.js";

export type PartHealth = { status: "up" | "down"; latencyMs: number; error?: string };
export type HealthReport = {
  status: "ok" | "degraded" | "down";
  dynamodb: PartHealth;
  hsm: PartHealth & { connectors: number; identity?: string; rootKeyOk?: boolean };
  /** The unwrapped-key cache: hits, misses, loads (= HSM unwrap calls), evictions, size. */
  keyCache: CacheStats;
};
/** What anyone may know: whether Tether and its two dependencies are up. */
export type PublicHealth = { status: HealthReport["status"]; dynamodb: { status: PartHealth["status"] }; hsm: { status: PartHealth["status"] } };

export type HealthDeps = {
  pingDb: (signal: AbortSignal) => Promise<void>;
  hsm: KeyWrapping;
  connectorCount: () => Promise<number>;
  cacheStats: () => CacheStats;
  timeoutMs: number;
  /** How long one deep check (a DynamoDB call and an HSM round trip) answers every caller. */
  cacheMs: number;
  authorizer: Authorizer;
  /** The operator's tenant: when set, only its admins and auditors read the details. */
  operatorTenant: string | undefined;
  now?: () => number;
};

type Probe = { at: number; connectors: number; report: Promise<Omit<HealthReport, "keyCache">> };

/**
 * Overall status: `ok` when both parts answer, `degraded` when the HSM is unreachable (warm keys
 * may still serve), `down` when DynamoDB is unreachable (nothing can serve). The deep check runs
 * at most once per `cacheMs` however many ask (and again at once when the number of connectors
 * changes), so /health cannot be used to load the HSM or the database.
 */
export class HealthService {
  private last: Probe | undefined;
  private readonly now: () => number;

  constructor(private readonly d: HealthDeps) {
    this.now = d.now ?? Date.now;
  }

  async check(): Promise<HealthReport> {
    const connectors = await this.d.connectorCount().catch(() => 0);
    const last = this.last;
    const probe = last && this.now() - last.at < this.d.cacheMs && last.connectors === connectors ? last : (this.last = { at: this.now(), connectors, report: this.probe(connectors) });
    return { ...(await probe.report), keyCache: this.d.cacheStats() };
  }

  /** The unauthenticated view. */
  async summary(): Promise<PublicHealth> {
    const r = await this.check();
    return { status: r.status, dynamodb: { status: r.dynamodb.status }, hsm: { status: r.hsm.status } };
  }

  /** Latencies, connectors, the HSM's identity and the key cache: for the operator's admins and auditors. */
  async detail(principal: Principal): Promise<HealthReport> {
    await this.d.authorizer.authorize(principal, "tether:ReadHealth", { tenant: principal.tenant });
    if (this.d.operatorTenant !== undefined && principal.tenant !== this.d.operatorTenant) throw new KmsError("AccessDeniedException", "only the operator's tenant reads the service's health details");
    return this.check();
  }

  private async probe(connectors: number): Promise<Omit<HealthReport, "keyCache">> {
    const [dynamodb, hsm] = await Promise.all([this.checkDb(), this.checkHsm(connectors)]);
    const status = dynamodb.status === "down" ? "down" : hsm.status === "down" ? "degraded" : "ok";
    return { status, dynamodb, hsm };
  }

  private async checkDb(): Promise<PartHealth> {
    return timed(() => this.d.pingDb(AbortSignal.timeout(this.d.timeoutMs))).then(({ ms, error }) =>
      error === undefined ? { status: "up", latencyMs: ms } : { status: "down", latencyMs: ms, error },
    );
  }

  private async checkHsm(connectors: number): Promise<HealthReport["hsm"]> {
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
