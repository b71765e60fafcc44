import type { z } from 'zod';
import { ok, type Upstream, upstreamError } from '../../core/upstream.ts';
import { openUrl, parseJsonBody } from '../http.ts';
import type { AdapterContext } from '../types.ts';
import type { AppAttempt } from './schema.ts';

export {
  bodySnippet,
  describeFetchError,
  mapLimit,
  type Opened,
  openUrl,
  readText,
  requestSignal,
  statusResult,
} from '../http.ts';

/** Base path of the History Server REST API. */
export const API_ROOT = '/api/v1';

/**
 * Spark History Server REST client (`<SPARK_HISTORY_URL>/api/v1`). Every call resolves to an
 * `Upstream<T>` parsed with a zod schema; upstream problems never throw.
 */
export class HistoryClient {
  constructor(
    /** History Server base URL without a trailing slash. */
    readonly base: string,
    private readonly ctx: AdapterContext,
  ) {}

  /** GETs `API_ROOT + path` and parses it with `schema`. */
  async get<S extends z.ZodType>(path: string, schema: S): Promise<Upstream<z.output<S>>> {
    const apiPath = `${API_ROOT}${path}`;
    const what = `Spark History Server: GET ${apiPath}`;
    const opened = await openUrl(`${this.base}${apiPath}`, what, this.ctx, 'application/json');
    if (!opened.ok) return opened.result;
    return parseJsonBody(opened.res, what, schema, this.ctx);
  }
}

/** The History Server client for this config, or an error result saying to set SPARK_HISTORY_URL. */
export function historyClient(ctx: AdapterContext): Upstream<HistoryClient> {
  const base = ctx.config.SPARK_HISTORY_URL;
  if (!base)
    return upstreamError(
      'SPARK_HISTORY_URL is not set: point it at the Spark History Server (e.g. http://spark-history:18080).',
      false,
    );
  return ok(new HistoryClient(base.replace(/\/+$/, ''), ctx));
}

/** URL path segment(s) of an app attempt under `/api/v1`: `/applications/<id>[/<attempt>]`. */
export function appPath(appId: string, attemptId?: string): string {
  const app = `/applications/${encodeURIComponent(appId)}`;
  return attemptId ? `${app}/${encodeURIComponent(attemptId)}` : app;
}

const startMs = (a: AppAttempt): number => {
  const epoch = (a as Record<string, unknown>).startTimeEpoch;
  if (typeof epoch === 'number') return epoch;
  const parsed = a.startTime ? Date.parse(a.startTime.replace(/GMT$/, 'Z')) : Number.NaN;
  return Number.isNaN(parsed) ? Number.NEGATIVE_INFINITY : parsed;
};

/**
 * The attempt to investigate: the one asked for, else the latest (by start time, then attempt id).
 * A real History Server lists attempts newest first; do not rely on the order.
 */
export function chooseAttempt(
  attempts: AppAttempt[],
  wanted: string | undefined,
): { found?: AppAttempt; known: string[] } {
  const known = attempts.flatMap((a) => (a.attemptId ? [a.attemptId] : []));
  // An app without attempt ids (standalone, k8s, client mode) has a single un-numbered attempt.
  if (wanted && known.length) return { found: attempts.find((a) => a.attemptId === wanted), known };
  const latest = [...attempts].sort(
    (a, b) => startMs(b) - startMs(a) || Number(b.attemptId ?? 0) - Number(a.attemptId ?? 0),
  )[0];
  return { found: latest, known };
}
