import type { AdapterResponse } from './schema.ts';

/** Adapters whose `rows_affected` for a table build is a status row, not a volume. */
const NO_VOLUME_ADAPTERS = /^(?:snowflake)$/i;

/**
 * Rows a node wrote, when the adapter reports real counts: Postgres/Redshift `SELECT n` /
 * `INSERT 0 n`, BigQuery row counts. Views (-1 or `CREATE VIEW`), Snowflake's `SUCCESS 1`, Spark/Databricks
 * `OK` -1 and anything without a non-negative count give undefined: no volume is known.
 */
export function rowsOf(ar: AdapterResponse, adapterType?: string): number | undefined {
  if (!ar) return undefined;
  const n = ar.rows_affected;
  if (typeof n !== 'number' || !Number.isFinite(n) || n < 0) return undefined;
  const label = `${ar.code ?? ''} ${ar._message ?? ''}`;
  if (/\bVIEW\b/i.test(label)) return undefined;
  if (/^\s*SUCCESS\b/i.test(ar.code ?? '') || /^\s*SUCCESS\b/i.test(ar._message ?? '')) return undefined;
  if (adapterType && NO_VOLUME_ADAPTERS.test(adapterType)) return undefined;
  return n;
}

export function median(values: number[]): number | undefined {
  if (!values.length) return undefined;
  const s = [...values].sort((a, b) => a - b);
  const mid = Math.floor(s.length / 2);
  return s.length % 2 ? s[mid] : ((s[mid - 1] ?? 0) + (s[mid] ?? 0)) / 2;
}

/** Fraction of the history median below which a volume counts as collapsed. */
export const DROP_RATIO = 0.2;
/** Previous runs needed before a volume drop (not just emptiness) is judged. */
export const MIN_HISTORY = 3;

export interface VolumeVerdict {
  kind: 'empty' | 'drop';
  rows: number;
  median?: number;
  history: number[];
}

/**
 * Judges one model's volume against its history: 0 rows when history is absent or non-zero is
 * `empty`; fewer than 20 % of the median of at least three previous runs is a `drop`.
 */
export function judgeVolume(rows: number, history: number[]): VolumeVerdict | undefined {
  const med = median(history);
  if (rows === 0) {
    if (med !== undefined && med === 0) return undefined;
    return { kind: 'empty', rows, history, ...(med !== undefined ? { median: med } : {}) };
  }
  if (history.length < MIN_HISTORY || med === undefined || med <= 0) return undefined;
  return rows < DROP_RATIO * med ? { kind: 'drop', rows, median: med, history } : undefined;
}
