/** Latency percentiles and throughput from a list of per-request durations. */
export type Summary = { n: number; seconds: number; perSecond: number; p50: number; p99: number; max: number };

const round = (x: number) => Math.round(x * 1000) / 1000;
/** The q-quantile of ascending `sorted` (0 when empty). */
const quantile = (sorted: readonly number[], q: number) => sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))] ?? 0;
const ascending = (xs: readonly number[]) => [...xs].sort((a, b) => a - b);

export function summarize(durationsMs: number[], wallMs: number): Summary {
  const sorted = ascending(durationsMs);
  const at = (q: number) => quantile(sorted, q);
  return {
    n: sorted.length,
    seconds: round(wallMs / 1000),
    perSecond: Math.round((sorted.length / wallMs) * 1000),
    p50: round(at(0.5)),
    p99: round(at(0.99)),
    max: round(sorted[sorted.length - 1] ?? 0),
  };
}

/** A quantile of each Server-Timing phase (auth, audit, total) over the requests of a run, in ms. */
export function phaseQuantile(phases: ReadonlyMap<string, number[]>, q: number): Record<string, number> {
  return Object.fromEntries([...phases].map(([name, xs]) => [name, round(quantile(ascending(xs), q))]));
}

/** Runs `op` `total` times with `concurrency` callers in flight; returns per-call latencies. */
export async function drive(total: number, concurrency: number, op: (i: number) => Promise<unknown>): Promise<Summary> {
  const durations: number[] = [];
  let next = 0;
  const started = performance.now();
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (next < total) {
        const i = next++;
        const t = performance.now();
        await op(i);
        durations.push(performance.now() - t);
      }
    }),
  );
  return summarize(durations, performance.now() - started);
}
