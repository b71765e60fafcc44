/** Runs `fn`, timing it and sampling the process RSS every `periodMs` (after a GC when `--expose-gc`). */
export async function measured<T>(
  fn: () => Promise<T>,
  periodMs = 10,
): Promise<{ result: T; seconds: number; rss0: number; peak: number }> {
  global.gc?.();
  const rss0 = process.memoryUsage().rss;
  let peak = rss0;
  const sampler = setInterval(() => {
    peak = Math.max(peak, process.memoryUsage().rss);
  }, periodMs);
  const t0 = performance.now();
  try {
    const result = await fn();
    return { result, seconds: (performance.now() - t0) / 1000, rss0, peak };
  } finally {
    clearInterval(sampler);
  }
}
