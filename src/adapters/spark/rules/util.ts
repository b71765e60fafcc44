import { redact, truncate } from '../../../core/redact.ts';
import type { Task, TaskSummary } from '../schema.ts';

const GIB = 1024 ** 3;
const MIB = 1024 ** 2;

/** Bytes in human units (GiB / MiB / KiB). */
export function fmtBytes(bytes: number | undefined): string {
  if (bytes === undefined || !Number.isFinite(bytes)) return 'n/a';
  if (bytes >= GIB) return `${(bytes / GIB).toFixed(1)} GiB`;
  if (bytes >= MIB) return `${(bytes / MIB).toFixed(1)} MiB`;
  if (bytes >= 1024) return `${(bytes / 1024).toFixed(1)} KiB`;
  return `${Math.round(bytes)} B`;
}

/** Milliseconds as seconds (or minutes when long). */
export function fmtMs(ms: number | undefined): string {
  if (ms === undefined || !Number.isFinite(ms)) return 'n/a';
  if (ms >= 120_000) return `${(ms / 60_000).toFixed(1)} min`;
  return `${(ms / 1000).toFixed(1)} s`;
}

export function median(values: number[]): number | undefined {
  if (!values.length) return undefined;
  const s = [...values].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)];
}

/** First `n` non-empty lines of an error text, redacted and bounded. */
export function firstLines(text: string | undefined, n = 2, max = 400): string {
  if (!text) return '';
  const lines = text
    .split('\n')
    .map((l) => l.trim())
    .filter((l) => l && !/^at /.test(l));
  return truncate(redact(lines.slice(0, n).join(' | ')), max);
}

/** Index of the quantile closest to `q` in a summary's `quantiles` field. */
export function nearestQ(quantiles: number[], q: number): number {
  let best = 0;
  quantiles.forEach((v, i) => {
    if (Math.abs(v - q) < Math.abs((quantiles[best] ?? 0) - q)) best = i;
  });
  return best;
}

export interface QuantileView {
  /** Value near the median and the q it was read at. */
  median?: { q: number; v: number };
  /** Value at the highest quantile returned. */
  high?: { q: number; v: number };
}

/** Reads a quantile series: the value at q≈0.5 and at the highest q returned. */
export function quantileView(summary: TaskSummary, series: number[] | undefined): QuantileView {
  const qs = summary.quantiles;
  if (!series?.length || !qs.length) return {};
  const mi = nearestQ(qs, 0.5);
  const hi = qs.indexOf(Math.max(...qs));
  const at = (i: number) => ({ q: qs[i] ?? 0, v: series[i] ?? 0 });
  return { median: at(mi), high: at(hi) };
}

/** Shuffle bytes read by a task attempt (remote + local), when metrics exist. */
export function taskShuffleRead(t: Task): number | undefined {
  const m = t.taskMetrics?.shuffleReadMetrics;
  if (!m) return undefined;
  return (m.remoteBytesRead ?? 0) + (m.localBytesRead ?? 0);
}

export function taskInputRead(t: Task): number | undefined {
  return t.taskMetrics?.inputMetrics?.bytesRead;
}

/** Parses Spark memory strings: `4g`, `410m`, `2048` (MiB for *.memory settings). */
export function parseMemory(value: string | undefined, defaultUnit = 'm'): number | undefined {
  if (!value) return undefined;
  const m = value.trim().match(/^(\d+(?:\.\d+)?)\s*([kmgt]?)i?b?$/i);
  if (!m) return undefined;
  const unit = (m[2] || defaultUnit).toLowerCase();
  const mult = { k: 1024, m: MIB, g: GIB, t: GIB * 1024 }[unit] ?? 1;
  return Number(m[1]) * mult;
}

/** Parses a human size like `7.9 GiB` / `184.4 MiB` / `12 KB` into bytes. */
export function parseHumanSize(num: string, unit: string): number {
  const u = unit.toUpperCase().replace('I', '');
  const mult = { B: 1, KB: 1024, MB: MIB, GB: GIB, TB: GIB * 1024 }[u] ?? 1;
  return Number(num) * mult;
}

/** `Getting 24 (7.9 GiB) non-empty blocks …` → bytes fetched by one task, from an executor log. */
export function parseBlockFetch(line: string): number | undefined {
  const m = line.match(/Getting \d+ \(([\d.]+) ([KMGT]?i?B)\) non-empty blocks/);
  return m?.[1] && m[2] ? parseHumanSize(m[1], m[2]) : undefined;
}

export function pct(part: number, whole: number): string {
  return whole > 0 ? `${Math.round((100 * part) / whole)}%` : 'n/a';
}
