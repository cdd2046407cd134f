/**
 * DOC: helpers shared by the benchmarks: the BENCH line format and peak memory sampling.
 */
export function bench(metric: string, value: number, unit: string): void {
  const v = Number.isInteger(value) ? String(value) : value.toFixed(3);
  process.stdout.write(`BENCH ${metric} ${v} ${unit}\n`);
}

/** Samples heap + RSS while `fn` runs; returns the peak RSS in bytes. */
export async function withPeakRss<T>(fn: () => T | Promise<T>): Promise<{ result: T; peakRss: number; wallMs: number }> {
  let peak = process.memoryUsage().rss;
  const timer = setInterval(() => {
    peak = Math.max(peak, process.memoryUsage().rss);
  }, 5);
  const t0 = performance.now();
  try {
    const result = await fn();
    const wallMs = performance.now() - t0;
    peak = Math.max(peak, process.memoryUsage().rss);
    return { result, peakRss: peak, wallMs };
  } finally {
    clearInterval(timer);
  }
}
