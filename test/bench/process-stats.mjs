// Preloaded into the functions process by the soak case (NODE_OPTIONS=--import, with --expose-gc):
// once a second, appends its RSS and event-loop delay (p99 of that second) to
// TETHER_BENCH_STATS_FILE as one JSON line; every tenth second first runs a full GC and adds the
// live JS heap — heapUsed between collections counts garbage too, and grows with the heap V8 allows.
// Plain JavaScript: the bench runs the functions from their bundle, without a TypeScript loader.
import { appendFileSync } from "node:fs";
import { monitorEventLoopDelay } from "node:perf_hooks";

const file = process.env.TETHER_BENCH_STATS_FILE;
if (file) {
  const delay = monitorEventLoopDelay({ resolution: 10 });
  delay.enable();
  let second = 0;
  setInterval(() => {
    const line = { t: Date.now(), rssMiB: process.memoryUsage.rss() / 2 ** 20, loopDelayP99Ms: delay.percentile(99) / 1e6 };
    delay.reset();
    if (++second % 10 === 0 && typeof globalThis.gc === "function") {
      globalThis.gc();
      line.liveHeapMiB = process.memoryUsage().heapUsed / 2 ** 20;
    }
    appendFileSync(file, `${JSON.stringify(line)}\n`);
  }, 1_000).unref();
}
