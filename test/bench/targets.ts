import type { Figures } from "./cases.js";

export type Verdict = { target: string; measured: string; met?: boolean };

/** Issue [7/7]'s targets, checked against the figures of this run (a case not run is "not run"). */
export function checkTargets(r: Figures, delayMs: number): Verdict[] {
  const num = (name: string): number | undefined => (typeof r[name] === "number" ? (r[name] as number) : undefined);
  const field = (name: string, f: "p50" | "p99" | "perSecond"): number | undefined => {
    const v = r[name];
    return typeof v === "object" && v !== null && f in v ? (v as unknown as Record<string, number>)[f] : undefined;
  };
  const check = (target: string, value: number | undefined, met: (v: number) => boolean, unit = ""): Verdict =>
    value === undefined ? { target, measured: "not run" } : { target, measured: `${value}${unit}`, met: met(value) };
  const rtt = 2 * delayMs;
  return [
    check("B/A ≥ 0.5 at 50 connections", num("B/A c=50"), (v) => v >= 0.5),
    check("C/A ≥ 0.35 at 50 connections", num("C/A c=50"), (v) => v >= 0.35),
    check("B p99 ≤ 10 ms at 50 connections", field("B c=50", "p99"), (v) => v <= 10, " ms"),
    check("B p99 ≤ 10 ms at 1 connection", field("B c=1", "p99"), (v) => v <= 10, " ms"),
    check(`D p50 ≥ 10× B p50 at 50 connections, link +${delayMs} ms`, num(`D/B p50 +${delayMs}ms c=50`), (v) => v >= 10, "×"),
    check("B/D ≥ 1.5 in req/s on loopback (50 connections)", num("B/D req/s loopback c=50"), (v) => v >= 1.5),
    check("E p50 ≤ 3 ms on loopback", field("E cold decrypt loopback", "p50"), (v) => v <= 3, " ms"),
    check(`E p50 ≤ one round trip (${rtt} ms) + 3 ms through the proxy`, field(`E cold decrypt +${delayMs}ms`, "p50"), (v) => v <= rtt + 3, " ms"),
    check("F ≥ 0.7 of direct pkcs11js, pipelined (64 in flight)", num("F ratio c=64"), (v) => v >= 0.7),
    check("G cache ≥ keys: HSM unwraps/s → 0 after warm-up", num("G cache > keys: HSM unwraps/s"), (v) => v === 0, "/s"),
    check("G cache 10%, Zipf(1.0): hit ratio ≥ 0.8", num("G cache 10%: hit ratio"), (v) => v >= 0.8),
    check("G cache 10%: no unwrap storm (HSM loads ≤ misses: single-flight)", num("G cache 10%: loads/misses"), (v) => v <= 1),
    check("H ≥ 5× B in items/s", num("H/B items c=16"), (v) => v >= 5, "×"),
    check("X (XKS encrypt) p99 ≤ 20 ms on loopback at 16 connections", field("X c=16", "p99"), (v) => v <= 20, " ms"),
    check("X (XKS encrypt) p99 ≤ 20 ms on loopback at 1 connection", field("X c=1", "p99"), (v) => v <= 20, " ms"),
    check("I first encrypt ≤ 1.5 s after start", num("I start → first encrypt ms"), (v) => v <= 1500, " ms"),
    check("I Lambda module load ≤ 150 ms (HTTP handler)", num("I lambda http load p50 ms"), (v) => v <= 150, " ms"),
    check("J RSS ≤ 150 MB with 10,000 keys cached", num("J RSS MiB, all keys cached"), (v) => v <= 150 / 1.048576, " MiB"),
    check("S soak: RSS does not trend upward (end ≤ 1.1 × start)", num("S RSS MiB end/start"), (v) => v <= 1.1, "×"),
    check("S soak: live JS heap does not trend upward (end ≤ 1.1 × start)", num("S live heap MiB end/start"), (v) => v <= 1.1, "×"),
    check("S soak: event-loop delay p99 does not trend upward (end ≤ 1.5 × start)", num("S loop delay p99 ms end/start"), (v) => v <= 1.5, "×"),
  ];
}
